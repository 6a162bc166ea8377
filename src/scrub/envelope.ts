import { cachedItemJson, setItemJson } from "../envelope/envelope";
import { itemCategory, itemQuantity } from "../envelope/categories";
import type { Envelope, EnvelopeItem } from "../envelope/types";
import type { Outcome } from "../outcomes";
import type { Scrubber } from "./compile";
import { scrubJson } from "./walk";

/** JSON item types that can carry personal data, and the root they are read as. */
const SCRUBBED_ITEMS: Record<string, string> = {
  event: "event",
  transaction: "event",
  feedback: "event",
  replay_event: "event",
  user_report: "user_report",
  log: "log",
  span: "span",
  otel_log: "log",
  session: "session",
  sessions: "session",
  check_in: "check_in",
};

export interface Scrubbed {
  envelope: Envelope;
  outcomes: Outcome[];
}

/**
 * Stage 5: every JSON item that can hold personal data is scrubbed before it
 * is forwarded or archived. Items with nothing to scrub keep their bytes.
 */
export function scrubEnvelope(envelope: Envelope, scrubber: Scrubber): Scrubbed {
  if (!scrubber.active) return { envelope, outcomes: [] };
  const outcomes: Outcome[] = [];
  let changed = false;
  const items: EnvelopeItem[] = [];
  for (const item of envelope.items) {
    const result = scrubItem(item, scrubber);
    if ("drop" in result) {
      changed = true;
      const category = itemCategory(item.header);
      if (category) outcomes.push({ category, quantity: itemQuantity(item), ...result.drop });
      continue;
    }
    if (result !== item) changed = true;
    items.push(result);
  }
  return { envelope: changed ? { ...envelope, items } : envelope, outcomes };
}

type Dropped = { drop: Pick<Outcome, "reason" | "detail"> };

function scrubItem(item: EnvelopeItem, scrubber: Scrubber): EnvelopeItem | Dropped {
  if (item.header.type === "attachment") {
    return scrubber.attachments === "drop" ? { drop: { reason: "filtered", detail: "attachment_scrubbing" } } : item;
  }
  const rootType = SCRUBBED_ITEMS[item.header.type];
  if (!rootType) return item;
  const json = cachedItemJson(item);
  // What cannot be read cannot be scrubbed, so it does not leave the edge.
  if (json === undefined) return { drop: { reason: "invalid", detail: "invalid_json" } };
  const scrubbed = scrubJson(json, scrubber, rootType);
  return scrubbed === json ? item : setItemJson(item, scrubbed);
}
