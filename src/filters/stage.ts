import { itemCategory, itemQuantity } from "../envelope/categories";
import { cachedItemJson } from "../envelope/envelope";
import type { Envelope, EnvelopeItem } from "../envelope/types";
import type { Outcome } from "../outcomes";
import { inboundFilter, type FilterConfig, type FilterReason } from "./inbound";

const FILTERED_TYPES = new Set(["event", "transaction"]);
/** Dropped along with their event, as Relay drops them. */
const TIED_TO_EVENT = new Set(["attachment", "user_report"]);

/** Stage 2: inbound filters over events and transactions; one `filtered` outcome per dropped item. */
export function filterEnvelope(envelope: Envelope, config: FilterConfig): { envelope: Envelope; outcomes: Outcome[] } {
  let reason: FilterReason | undefined;
  for (const item of envelope.items) {
    if (!FILTERED_TYPES.has(item.header.type)) continue;
    const event = cachedItemJson(item);
    if (event && typeof event === "object") reason = inboundFilter(event as Record<string, unknown>, item.header.type, config);
    if (reason) break;
  }
  if (!reason) return { envelope, outcomes: [] };

  const kept: EnvelopeItem[] = [];
  const outcomes: Outcome[] = [];
  for (const item of envelope.items) {
    const category = itemCategory(item.header);
    if (!(FILTERED_TYPES.has(item.header.type) || TIED_TO_EVENT.has(item.header.type)) || !category) {
      kept.push(item);
      continue;
    }
    outcomes.push({ category, reason: "filtered", quantity: itemQuantity(item), detail: reason });
  }
  return { envelope: { ...envelope, items: kept }, outcomes };
}
