import { describe, expect, it } from "vitest";
import { itemCategory, itemQuantity } from "../../src/envelope/categories";
import type { ItemHeader } from "../../src/envelope/types";

const item = (header: ItemHeader, size = 10) => ({ header, payload: new Uint8Array(size) });

describe("item type → data category", () => {
  it.each([
    ["event", "error"], ["transaction", "transaction"], ["security", "security"], ["raw_security", "security"],
    ["attachment", "attachment"], ["session", "session"], ["sessions", "session"], ["profile", "profile"],
    ["profile_chunk", "profile_chunk"], ["replay_event", "replay"], ["replay_recording", "replay"],
    ["replay_video", "replay"], ["check_in", "monitor"], ["span", "span"], ["otel_span", "span"],
    ["log", "log_item"], ["feedback", "user_report_v2"], ["user_report", "user_report_v2"], ["trace_metric", "trace_metric"],
  ])("%s → %s", (type, category) => {
    expect(itemCategory({ type })).toBe(category);
  });

  it.each(["client_report", "statsd", "metric_buckets", "something_new"])("%s is never counted", (type) => {
    expect(itemCategory({ type })).toBeNull();
  });
});

describe("item quantity", () => {
  it("counts attachments in bytes", () => expect(itemQuantity(item({ type: "attachment" }, 1234))).toBe(1234));
  it("counts batches by item_count", () => {
    expect(itemQuantity(item({ type: "span", item_count: 7 }))).toBe(7);
    expect(itemQuantity(item({ type: "log", item_count: 3 }))).toBe(3);
  });
  it("counts a batch without item_count as one", () => expect(itemQuantity(item({ type: "span" }))).toBe(1));
  it("counts everything else as one per item", () => {
    expect(itemQuantity(item({ type: "event" }, 5000))).toBe(1);
    expect(itemQuantity(item({ type: "something_new", item_count: 9 }))).toBe(1);
  });
});
