import { describe, expect, it } from "vitest";
import { DATA_CATEGORIES, itemCategory, itemQuantities, itemQuantity } from "../../src/envelope/categories";
import type { ItemHeader } from "../../src/envelope/types";

const item = (header: ItemHeader, size = 10) => ({ header, payload: new Uint8Array(size) });

describe("item type → data category (Relay's Item::quantities)", () => {
  it.each([
    ["event", "error"], ["unreal_report", "error"], ["transaction", "transaction"], ["security", "security"],
    ["raw_security", "security"], ["attachment", "attachment"], ["session", "session"], ["sessions", "session"],
    ["profile", "profile"], ["profile_chunk", "profile_chunk"], ["profile_chunk_ui", "profile_chunk"],
    ["replay_event", "replay"], ["replay_recording", "replay"], ["replay_video", "replay"], ["check_in", "monitor"],
    ["span", "span"], ["otel_span", "span"], ["otel_traces_data", "span"], ["log", "log_item"],
    ["trace_metric", "trace_metric"], ["feedback", "user_report_v2"], ["user_report", "user_report_v2"],
  ])("%s → %s", (type, category) => {
    expect(itemCategory({ type })).toBe(category);
    expect(DATA_CATEGORIES).toContain(category);
  });

  it.each(["client_report", "statsd", "metric_buckets", "form_data", "nel", "integration", "something_new", "", "Event"])(
    "%s is never counted or limited",
    (type) => {
      expect(itemCategory({ type })).toBeNull();
      expect(itemQuantities(item({ type }))).toEqual([]);
    },
  );

  it.each(["constructor", "__proto__", "toString", "hasOwnProperty"])("%s is an unknown type, not an Object.prototype key", (type) => {
    expect(itemCategory({ type })).toBeNull();
    expect(itemQuantity(item({ type }))).toBe(1);
  });
});

describe("item quantity", () => {
  it("counts attachments in payload bytes", () => expect(itemQuantity(item({ type: "attachment" }, 1234))).toBe(1234));
  it("counts an empty attachment as one byte, as Relay does", () => expect(itemQuantity(item({ type: "attachment" }, 0))).toBe(1));

  it.each(["span", "otel_span", "log", "trace_metric", "session", "sessions", "check_in", "profile", "profile_chunk"])(
    "counts a %s batch by item_count",
    (type) => expect(itemQuantity(item({ type, item_count: 7 }))).toBe(7),
  );

  it("counts item_count 0 as zero, as Relay does", () => expect(itemQuantity(item({ type: "span", item_count: 0 }))).toBe(0));

  it.each([undefined, -1, 1.5, "3", null])("counts a batch with item_count %j as one", (count) => {
    expect(itemQuantity(item({ type: "span", item_count: count as number }))).toBe(1);
  });

  it.each(["event", "transaction", "attachment", "replay_event", "feedback", "user_report", "otel_traces_data"])(
    "ignores item_count on %s, which Relay never batches",
    (type) => expect(itemQuantity(item({ type, item_count: 9 }, 5000))).toBe(type === "attachment" ? 5000 : 1),
  );

  it("counts one per item for everything else, unknown types included", () => {
    expect(itemQuantity(item({ type: "event" }, 5000))).toBe(1);
    expect(itemQuantity(item({ type: "something_new", item_count: 9 }))).toBe(1);
  });
});

describe("every category an item counts towards", () => {
  it("an attachment: its bytes and one attachment_item", () => {
    expect(itemQuantities(item({ type: "attachment" }, 300)))
      .toEqual([{ category: "attachment", quantity: 300 }, { category: "attachment_item", quantity: 1 }]);
  });

  it("a log batch: its entries and its bytes", () => {
    expect(itemQuantities(item({ type: "log", item_count: 4 }, 900)))
      .toEqual([{ category: "log_item", quantity: 4 }, { category: "log_byte", quantity: 900 }]);
  });

  it("a profile: profile and profile_indexed", () => {
    expect(itemQuantities(item({ type: "profile" })))
      .toEqual([{ category: "profile", quantity: 1 }, { category: "profile_indexed", quantity: 1 }]);
  });

  it("starts with the item's own category and quantity", () => {
    for (const type of ["event", "attachment", "log", "span", "check_in"]) {
      const it = item({ type, item_count: 3 }, 42);
      expect(itemQuantities(it)[0]).toEqual({ category: itemCategory(it.header), quantity: itemQuantity(it) });
    }
  });
});
