import { cachedItemJson } from "../envelope/envelope";
import { dropEvent, EVENT_TYPES } from "../envelope/drop";
import type { Envelope } from "../envelope/types";
import type { Outcome } from "../outcomes";
import { inboundFilter, type FilterConfig, type FilterReason } from "./inbound";

/** Stage 2: inbound filters over events and transactions; one `filtered` outcome per dropped item. */
export function filterEnvelope(envelope: Envelope, config: FilterConfig): { envelope: Envelope; outcomes: Outcome[] } {
  let reason: FilterReason | undefined;
  for (const item of envelope.items) {
    if (!EVENT_TYPES.has(item.header.type)) continue;
    const event = cachedItemJson(item);
    if (event && typeof event === "object") reason = inboundFilter(event as Record<string, unknown>, item.header.type, config);
    if (reason) break;
  }
  return reason ? dropEvent(envelope, "filtered", reason) : { envelope, outcomes: [] };
}
