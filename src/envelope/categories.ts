import { payloadLength } from "./envelope";
import type { DataCategory, EnvelopeItem, ItemHeader } from "./types";

/** Every data category name, for validating configuration. */
export const DATA_CATEGORIES: readonly DataCategory[] = [
  "default", "error", "transaction", "security", "attachment", "attachment_item", "session", "profile",
  "profile_indexed", "profile_chunk", "replay", "monitor", "span", "log_item", "log_byte", "user_report_v2",
  "trace_metric", "unknown",
];

interface ItemRule {
  /** What one item counts towards; the first is the category the item is limited and reported under. */
  categories: readonly [DataCategory, ...DataCategory[]];
  /** A batch item (Relay's "can support container"): it counts `item_count` entries, not one. */
  batch?: true;
}

/** Categories counted in payload bytes (at least 1, so an empty item still counts) rather than in items. */
const BYTE_CATEGORIES: ReadonlySet<DataCategory> = new Set(["attachment", "log_byte"]);

/**
 * The one table from item type to data category, after Relay's `Item::quantities`
 * and `ItemType::can_support_container` (relay-server/src/envelope/item.rs).
 *
 * Types not listed are never counted or rate limited, as in Relay: SDK
 * bookkeeping (`client_report`), metrics (`statsd`, `metric_buckets`), items
 * that only become events upstream (`nel`, `form_data`), Relay-internal
 * `integration`, and every type unknown here. Relay forwards an unknown type
 * untouched with no quantity, so it is not counted as `unknown` either: that
 * category names outcomes Relay cannot attribute, not item types.
 *
 * Known differences: Relay also counts `transaction_indexed`/`span_indexed`
 * and splits profiles by platform (`profile_backend`/`profile_ui`,
 * `profile_chunk_ui`); this relay has none of those categories, so a
 * `profile_chunk` (or the Android alias `profile_chunk_ui`) always counts as
 * `profile_chunk`. `otel_span` and `otel_traces_data` are gone from the newest
 * Relay but still counted as spans by the versions self-hosted installs run.
 */
const RULES: ReadonlyMap<string, ItemRule> = new Map(
  Object.entries({
    event: { categories: ["error"] },
    unreal_report: { categories: ["error"] },
    transaction: { categories: ["transaction"] },
    security: { categories: ["security"] },
    raw_security: { categories: ["security"] },
    attachment: { categories: ["attachment", "attachment_item"] },
    session: { categories: ["session"], batch: true },
    sessions: { categories: ["session"], batch: true },
    profile: { categories: ["profile", "profile_indexed"], batch: true },
    profile_chunk: { categories: ["profile_chunk"], batch: true },
    profile_chunk_ui: { categories: ["profile_chunk"], batch: true },
    replay_event: { categories: ["replay"] },
    replay_recording: { categories: ["replay"] },
    replay_video: { categories: ["replay"] },
    check_in: { categories: ["monitor"], batch: true },
    span: { categories: ["span"], batch: true },
    otel_span: { categories: ["span"], batch: true },
    otel_traces_data: { categories: ["span"] },
    log: { categories: ["log_item", "log_byte"], batch: true },
    trace_metric: { categories: ["trace_metric"], batch: true },
    user_report: { categories: ["user_report_v2"] },
    feedback: { categories: ["user_report_v2"] },
  } satisfies Record<string, ItemRule>),
);

/** The category an item is limited and reported under; null when it is never counted. */
export function itemCategory(header: ItemHeader): DataCategory | null {
  return RULES.get(header.type)?.categories[0] ?? null;
}

/** How much of its category (`itemCategory`) one item is: bytes for attachments, entries for batches, else 1. */
export function itemQuantity(item: EnvelopeItem): number {
  const rule = RULES.get(item.header.type);
  return rule ? quantity(item, rule, rule.categories[0]) : 1;
}

/** Everything one item counts towards, e.g. an attachment's bytes and its one `attachment_item`. */
export function itemQuantities(item: EnvelopeItem): Array<{ category: DataCategory; quantity: number }> {
  const rule = RULES.get(item.header.type);
  return rule ? rule.categories.map((category) => ({ category, quantity: quantity(item, rule, category) })) : [];
}

function quantity(item: EnvelopeItem, rule: ItemRule, category: DataCategory): number {
  if (BYTE_CATEGORIES.has(category)) return Math.max(payloadLength(item), 1);
  const count = item.header.item_count;
  // Relay reads item_count only on batch types and only as an unsigned integer; otherwise an item is one.
  return rule.batch && typeof count === "number" && Number.isSafeInteger(count) && count >= 0 ? count : 1;
}
