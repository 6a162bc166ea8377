import type { Outcome } from "../outcomes";
import { itemCategory, itemQuantity } from "./categories";
import type { Envelope, EnvelopeItem } from "./types";

/** Items that are one event each: filters, spikes and sampling decide per event. */
export const EVENT_TYPES: ReadonlySet<string> = new Set(["event", "transaction"]);
/** Items that belong to the envelope's event and share its fate, as in Relay. */
export const TIED_TO_EVENT: ReadonlySet<string> = new Set(["attachment", "user_report"]);

/**
 * Drops the envelope's event and everything tied to it, with one outcome per
 * dropped item; other items (sessions, client reports, ...) stay.
 */
export function dropEvent(envelope: Envelope, reason: Outcome["reason"], detail: string): { envelope: Envelope; outcomes: Outcome[] } {
  const kept: EnvelopeItem[] = [];
  const outcomes: Outcome[] = [];
  for (const item of envelope.items) {
    const category = itemCategory(item.header);
    if (category && (EVENT_TYPES.has(item.header.type) || TIED_TO_EVENT.has(item.header.type))) {
      outcomes.push({ category, reason, quantity: itemQuantity(item), detail });
    } else {
      kept.push(item);
    }
  }
  return { envelope: { ...envelope, items: kept }, outcomes };
}
