import { itemCategory, itemQuantity } from "../envelope/categories";
import { cachedItemJson, payloadLength } from "../envelope/envelope";
import type { Envelope, EnvelopeItem } from "../envelope/types";
import type { Outcome } from "../outcomes";

/** Item types whose payload is one JSON event the later stages must read, under `maxEventBytes`. */
export const SIZE_CAPPED_TYPES: ReadonlySet<string> = new Set(["event", "transaction", "security", "raw_security", "user_report", "feedback"]);

export interface Validated {
  envelope: Envelope;
  outcomes: Outcome[];
}

/**
 * Drops the items the upstream would refuse (an event over the size cap, an
 * event that is not JSON) one by one, so one bad item never takes the good
 * ones down with it.
 */
export function validateItems(envelope: Envelope, limits: { maxEventBytes: number }): Validated {
  const outcomes: Outcome[] = [];
  const items: EnvelopeItem[] = [];
  for (const item of envelope.items) {
    const problem = itemProblem(item, limits);
    if (!problem) {
      items.push(item);
      continue;
    }
    const category = itemCategory(item.header);
    if (category) outcomes.push({ category, reason: "invalid", quantity: itemQuantity(item), detail: problem });
  }
  return { envelope: items.length === envelope.items.length ? envelope : { ...envelope, items }, outcomes };
}

function itemProblem(item: EnvelopeItem, limits: { maxEventBytes: number }): string | undefined {
  if (!SIZE_CAPPED_TYPES.has(item.header.type)) return undefined;
  // A payload the reader discarded as too large is only its length now.
  if (payloadLength(item) > limits.maxEventBytes) return "too_large";
  const value = cachedItemJson(item);
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "invalid_json";
  return undefined;
}
