import { dropEvent, EVENT_TYPES } from "../envelope/drop";
import type { Envelope } from "../envelope/types";
import { eventOf } from "../event";
import type { Outcome } from "../outcomes";
import { inboundFilter, type FilterConfig, type FilterReason } from "./inbound";

/** Stage 2: inbound filters over events and transactions; one `filtered` outcome per dropped item. */
export function filterEnvelope(envelope: Envelope, config: FilterConfig): { envelope: Envelope; outcomes: Outcome[] } {
  let reason: FilterReason | undefined;
  for (const item of envelope.items) {
    if (!EVENT_TYPES.has(item.header.type)) continue;
    const event = eventOf(item);
    if (event) reason = inboundFilter(event, item.header.type, config);
    if (reason) break;
  }
  return reason ? dropEvent(envelope, "filtered", reason) : { envelope, outcomes: [] };
}
