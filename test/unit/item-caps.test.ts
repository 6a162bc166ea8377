import { describe, expect, it } from "vitest";
import { relayConfigSchema } from "../../src/config/schema";
import { newItem } from "../../src/envelope/envelope";
import type { EnvelopeItem } from "../../src/envelope/types";
import { EnvelopeBudget, ITEM_TYPES, UNKNOWN_TYPE, itemType, looksLikeJson, overCap, type Limits } from "../../src/ingest/caps";
import { validateItems } from "../../src/ingest/validate";

const KiB = 1024;
const MiB = 1024 * KiB;
const defaults: Limits = relayConfigSchema.parse({ projects: {} }).limits;
const enc = (text: string) => new TextEncoder().encode(text);

describe("the item type table", () => {
  it("covers every item type Relay knows, so none falls to the unknown-type cap", () => {
    const relayTypes = [
      "event", "transaction", "security", "attachment", "form_data", "raw_security", "nel", "unreal_report", "user_report",
      "session", "sessions", "statsd", "metric_buckets", "client_report", "profile", "replay_event", "replay_recording",
      "replay_video", "check_in", "log", "otel_log", "span", "otel_span", "otel_traces_data", "profile_chunk", "trace_metric", "feedback",
    ];
    expect(relayTypes.filter((type) => !ITEM_TYPES.has(type))).toEqual([]);
  });

  it("has Relay's defaults for every cap (relay-config Limits)", () => {
    const relay: Record<string, number> = {
      maxEventBytes: MiB, // max_event_size
      maxAttachmentBytes: 200 * MiB, // max_attachment_size
      maxAttachmentsBytes: 200 * MiB, // max_attachments_size
      maxClientReportBytes: 100 * KiB, // max_client_reports_size
      maxCheckInBytes: 100 * KiB, // max_check_in_size
      maxSessionsBytes: 10 * MiB, // max_sessions_size
      maxProfileBytes: 50 * MiB, // max_profile_size
      maxLogBytes: 2 * MiB, // max_log_size
      maxSpanBytes: 10 * MiB, // max_span_size
      maxTraceMetricBytes: MiB, // max_trace_metric_size
      maxContainerBytes: 12 * MiB, // max_container_size
      maxStatsdBytes: MiB, // max_statsd_size
      maxMetricBucketsBytes: MiB, // max_metric_buckets_size
      maxReplayCompressedBytes: 10 * MiB, // max_replay_compressed_size
    };
    for (const [name, value] of Object.entries(relay)) expect([name, defaults[name as keyof Limits]]).toEqual([name, value]);
    expect(defaults.maxSessionCount).toBe(100); // max_session_count
    for (const rule of [...ITEM_TYPES.values(), UNKNOWN_TYPE]) expect(Object.keys(relay)).toContain(rule.cap);
  });

  it("maps each type to Relay's limit class", () => {
    const caps = Object.fromEntries([...ITEM_TYPES].map(([type, rule]) => [type, rule.cap]));
    expect(caps).toMatchObject({
      event: "maxEventBytes", transaction: "maxEventBytes", security: "maxEventBytes", feedback: "maxEventBytes",
      attachment: "maxAttachmentBytes", session: "maxSessionsBytes", sessions: "maxSessionsBytes", client_report: "maxClientReportBytes",
      profile: "maxProfileBytes", profile_chunk: "maxProfileBytes", check_in: "maxCheckInBytes", log: "maxLogBytes",
      span: "maxSpanBytes", trace_metric: "maxTraceMetricBytes", replay_recording: "maxReplayCompressedBytes", statsd: "maxStatsdBytes",
    });
    expect(itemType("x_custom")).toBe(UNKNOWN_TYPE);
    expect(itemType("__proto__")).toBe(UNKNOWN_TYPE);
    expect(itemType("toString")).toBe(UNKNOWN_TYPE);
  });
});

describe("overCap", () => {
  const limits: Limits = { ...defaults, maxLogBytes: 200, maxContainerBytes: 300, maxCheckInBytes: 50 };
  const container = { type: "log", content_type: "application/vnd.sentry.items.log+json" };

  it("passes an item at its cap and refuses one byte more", () => {
    expect(overCap({ type: "check_in" }, 50, limits)).toBe(false);
    expect(overCap({ type: "check_in" }, 51, limits)).toBe(true);
    expect(overCap({ type: "log", item_count: 1 }, 200, limits)).toBe(false);
    expect(overCap({ type: "log", item_count: 1 }, 201, limits)).toBe(true);
  });

  it("holds a container to the container cap whole and to the entry cap on average", () => {
    expect(overCap({ ...container, item_count: 2 }, 300, limits)).toBe(false);
    expect(overCap({ ...container, item_count: 2 }, 301, limits)).toBe(true);
    expect(overCap({ ...container, item_count: 1 }, 201, limits)).toBe(true);
    expect(overCap({ ...container }, 201, limits)).toBe(true);
    // A nonsense item_count counts as one entry, never as a way past the cap.
    for (const item_count of [0, -5, 1.5, "9", 1e300]) expect(overCap({ ...container, item_count } as never, 201, limits)).toBe(true);
  });

  it("caps unknown types at maxContainerBytes", () => {
    expect(overCap({ type: "x_custom" }, 300, limits)).toBe(false);
    expect(overCap({ type: "x_custom" }, 301, limits)).toBe(true);
  });
});

describe("EnvelopeBudget", () => {
  it("counts session items and sums attachment bytes, leaving other types alone", () => {
    const budget = new EnvelopeBudget({ ...defaults, maxSessionCount: 2, maxAttachmentsBytes: 10 });
    expect(["session", "sessions", "session"].map((type) => budget.take(type, 1))).toEqual([true, true, false]);
    expect([6, 5, 4].map((bytes) => budget.take("attachment", bytes))).toEqual([true, false, true]);
    expect(budget.take("unreal_report", 1)).toBe(false);
    expect(budget.take("event", 10 * MiB)).toBe(true);
  });
});

describe("looksLikeJson", () => {
  it("is true for an object or array after JSON whitespace only", () => {
    expect(looksLikeJson(enc(' \n\t{"a":1}'))).toBe(true);
    expect(looksLikeJson(enc("[1]"))).toBe(true);
    expect(looksLikeJson(enc('"jane@example.com"'))).toBe(false);
    expect(looksLikeJson(enc("plain text {"))).toBe(false);
    expect(looksLikeJson(new Uint8Array([0xef, 0xbb, 0xbf, 0x7b]))).toBe(false);
    expect(looksLikeJson(new Uint8Array(0))).toBe(false);
  });
});

describe("validateItems", () => {
  const limits: Limits = { ...defaults, maxCheckInBytes: 20 };
  const run = (...items: EnvelopeItem[]) => validateItems({ header: {}, items }, limits);
  const types = (result: ReturnType<typeof run>) => result.envelope.items.map((i) => i.header.type);

  it("refuses an item over its cap as too_large by its length, before reading it", () => {
    const result = run(newItem({ type: "check_in" }, `{not json at all ${"x".repeat(20)}`), newItem({ type: "check_in" }, '{"ok":1}'));
    expect(types(result)).toEqual(["check_in"]);
    expect(result.outcomes).toEqual([{ category: "monitor", reason: "invalid", quantity: 1, detail: "too_large" }]);
  });

  it("refuses a JSON item that is too deep, not UTF-8 or not JSON as invalid_json, one outcome each", () => {
    const badUtf8 = new Uint8Array([...enc('{"a":"'), 0xff, ...enc('"}')]);
    const result = run(
      newItem({ type: "log", item_count: 4 }, "[".repeat(200) + "]".repeat(200)),
      newItem({ type: "span" }, badUtf8),
      newItem({ type: "session" }, "nope"),
      newItem({ type: "event" }, "[1]"),
      newItem({ type: "profile" }, '{"ok":true}'),
    );
    expect(types(result)).toEqual(["profile"]);
    expect(result.outcomes.map((o) => [o.category, o.quantity, o.detail])).toEqual([
      ["log_item", 4, "invalid_json"], ["span", 1, "invalid_json"], ["session", 1, "invalid_json"], ["error", 1, "invalid_json"],
    ]);
  });

  it("refuses a check-in, session or client report that is JSON but not an object, as Relay reads each into a struct", () => {
    const result = run(
      newItem({ type: "check_in" }, "0"),
      newItem({ type: "session" }, '["sid"]'),
      newItem({ type: "client_report" }, '"counts"'),
      newItem({ type: "check_in" }, '{"status":"ok"}'),
    );
    expect(types(result)).toEqual(["check_in"]);
    expect(result.outcomes.map((o) => [o.category, o.detail])).toEqual([["monitor", "invalid_json"], ["session", "invalid_json"]]);
  });

  it("reads an unknown type as JSON only when it opens like JSON, and never parses opaque payloads", () => {
    const result = run(
      newItem({ type: "x_custom" }, '{"broken":'),
      newItem({ type: "x_custom" }, "plain text, not JSON"),
      newItem({ type: "attachment" }, "{not json either"),
      newItem({ type: "statsd" }, "metric:1|c"),
    );
    expect(types(result)).toEqual(["x_custom", "attachment", "statsd"]);
    // Unknown types have no data category, as in Relay: dropped without an outcome.
    expect(result.outcomes).toEqual([]);
  });

  it("drops a payload the reader threw away as too_large, whatever its type", () => {
    const discarded: EnvelopeItem = { header: { type: "x_custom", length: 5 }, payload: new Uint8Array(0), staged: { key: "", length: 5, discarded: true } };
    expect(types(run(discarded))).toEqual([]);
  });
});
