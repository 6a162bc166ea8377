import type { DataCategory, EnvelopeItem, ItemHeader } from "./types";

/** Every data category name, for validating configuration. */
export const DATA_CATEGORIES: readonly DataCategory[] = [
  "default", "error", "transaction", "security", "attachment", "attachment_item", "session", "profile",
  "profile_indexed", "profile_chunk", "replay", "monitor", "span", "log_item", "log_byte", "user_report_v2",
  "trace_metric", "unknown",
];

interface CategoryRule {
  category: DataCategory;
  /** How the quantity is counted: one per item, per batched entry, or per payload byte. */
  count: "item" | "item_count" | "bytes";
}

/**
 * The one table from item type to Sentry data category, after Relay's
 * `ItemType` → `DataCategory` mapping at the edge. Types absent here are never
 * counted or rate limited: SDK bookkeeping (`client_report`), metrics the
 * upstream aggregates itself, and types this relay does not know — which it
 * forwards untouched, as Relay does with `ItemType::Unknown`.
 */
const CATEGORY_BY_TYPE: Record<string, CategoryRule> = {
  event: { category: "error", count: "item" },
  unreal_report: { category: "error", count: "item" },
  transaction: { category: "transaction", count: "item" },
  security: { category: "security", count: "item" },
  raw_security: { category: "security", count: "item" },
  nel: { category: "error", count: "item" },
  attachment: { category: "attachment", count: "bytes" },
  session: { category: "session", count: "item" },
  sessions: { category: "session", count: "item" },
  profile: { category: "profile", count: "item" },
  profile_chunk: { category: "profile_chunk", count: "item" },
  replay_event: { category: "replay", count: "item" },
  replay_recording: { category: "replay", count: "item" },
  replay_video: { category: "replay", count: "item" },
  check_in: { category: "monitor", count: "item" },
  span: { category: "span", count: "item_count" },
  otel_span: { category: "span", count: "item" },
  otel_traces_data: { category: "span", count: "item_count" },
  log: { category: "log_item", count: "item_count" },
  otel_log: { category: "log_item", count: "item" },
  feedback: { category: "user_report_v2", count: "item" },
  user_report: { category: "user_report_v2", count: "item" },
  trace_metric: { category: "trace_metric", count: "item_count" },
};

export function itemCategory(header: ItemHeader): DataCategory | null {
  return CATEGORY_BY_TYPE[header.type]?.category ?? null;
}

/** How much of its category one item is: batches count their entries, attachments their bytes. */
export function itemQuantity(item: EnvelopeItem): number {
  const rule = CATEGORY_BY_TYPE[item.header.type];
  if (rule?.count === "bytes") return item.payload.byteLength;
  if (rule?.count === "item_count" && typeof item.header.item_count === "number" && item.header.item_count > 0) {
    return item.header.item_count;
  }
  return 1;
}
