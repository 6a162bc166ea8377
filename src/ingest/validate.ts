import { itemCategory, itemQuantity } from "../envelope/categories";
import { cachedItemJson, payloadLength } from "../envelope/envelope";
import type { Envelope, EnvelopeItem } from "../envelope/types";
import type { Outcome } from "../outcomes";
import { EnvelopeBudget, itemType, overCap, parsedAsJson, type Limits } from "./caps";

export interface Validated {
  envelope: Envelope;
  outcomes: Outcome[];
}

/**
 * Drops the items the upstream would refuse one by one, so one bad item never
 * takes the good ones down with it: first an item over its type's cap, by its
 * length alone (src/ingest/caps.ts), then a JSON item that does not parse
 * (invalid UTF-8, nesting deeper than serde_json's limit, or not JSON). What
 * stays parses within the depth limit, so no later stage recurses deeper.
 */
export function validateItems(envelope: Envelope, limits: Limits): Validated {
  const outcomes: Outcome[] = [];
  const items: EnvelopeItem[] = [];
  const budget = new EnvelopeBudget(limits);
  for (const item of envelope.items) {
    const problem = itemProblem(item, limits, budget);
    if (!problem) {
      items.push(item);
      continue;
    }
    const category = itemCategory(item.header);
    if (category) outcomes.push({ category, reason: "invalid", quantity: itemQuantity(item), detail: problem });
  }
  return { envelope: items.length === envelope.items.length ? envelope : { ...envelope, items }, outcomes };
}

function itemProblem(item: EnvelopeItem, limits: Limits, budget: EnvelopeBudget): "too_large" | "invalid_json" | undefined {
  const length = payloadLength(item);
  // A payload the reader discarded as it arrived is only its length now.
  if (item.staged?.discarded || overCap(item.header, length, limits) || !budget.take(item.header.type, length)) return "too_large";
  if (!parsedAsJson(item)) return undefined;
  const value = cachedItemJson(item);
  if (value === undefined) return "invalid_json";
  const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
  if (itemType(item.header.type).payload === "object" && !isObject) return "invalid_json";
  return undefined;
}
