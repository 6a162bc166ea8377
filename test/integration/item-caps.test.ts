import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseEnvelope } from "../../src/envelope/parse";
import { KEY, fakeUpstream, post, relay, sentryAuth } from "./support/harness";

let upstream: ReturnType<typeof fakeUpstream>;
beforeEach(() => {
  upstream = fakeUpstream();
});
afterEach(() => upstream.restore());

const KiB = 1024;
const MiB = 1024 * KiB;
const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** A project of its own per test, so the outcomes riding on its upstream envelope are only this test's. */
let nextProject = 7400;
function project(limits: Record<string, unknown> = {}) {
  const id = String(nextProject++);
  const config = JSON.stringify({
    projects: { [id]: { keys: [KEY], upstream: `https://${"ef".repeat(16)}@caps-${id}.example.com/1` } },
    limits,
  });
  return { id, config };
}

/** A JSON object of exactly `length` bytes, tagged so the test can tell which one arrived. */
function sized(length: number, tag: string): string {
  const head = `{"tag":"${tag}","p":"`;
  const text = head + "x".repeat(length - head.length - 2) + '"}';
  expect(text.length).toBe(length);
  return text;
}

function item(header: Record<string, unknown>, payload: string): string {
  return `${JSON.stringify({ ...header, length: payload.length })}\n${payload}\n`;
}

const event = item({ type: "event" }, '{"message":"the event beside them"}');

function received(call: { body: Uint8Array }) {
  const items = parseEnvelope(call.body).items.map((i) => ({ type: i.header.type, text: dec(i.payload) }));
  const reports = items.filter((i) => i.type === "client_report").map((i) => JSON.parse(i.text));
  const kept = items.filter((i) => i.type !== "client_report");
  return {
    kept: kept.map((i) => (i.text.startsWith('{"tag":') ? `${i.type}:${JSON.parse(i.text).tag}` : i.type)),
    discarded: reports.flatMap((r) => r.discarded_events ?? []),
  };
}

async function send(projectId: string, config: string, body: string) {
  return relay(post(`/api/${projectId}/envelope/`, `{}\n${body}`, sentryAuth()), config);
}

describe("a size cap for every item type", () => {
  it("drops log, span, check-in and session items one byte over their caps, keeps them at the cap, and delivers the event", async () => {
    const { id, config } = project({ maxLogBytes: 200, maxSpanBytes: 200, maxCheckInBytes: 200, maxSessionsBytes: 200 });
    const body = [
      event,
      item({ type: "log", item_count: 1 }, sized(200, "at")),
      item({ type: "log", item_count: 1 }, sized(201, "over")),
      item({ type: "span" }, sized(200, "at")),
      item({ type: "span" }, sized(201, "over")),
      item({ type: "check_in" }, sized(200, "at")),
      item({ type: "check_in" }, sized(201, "over")),
      item({ type: "session" }, sized(200, "at")),
      item({ type: "session" }, sized(201, "over")),
    ].join("");
    const res = await send(id, config, body);
    expect(res.status).toBe(200);
    const got = received(upstream.calls[0]!);
    expect(got.kept).toEqual(["event", "log:at", "span:at", "check_in:at", "session:at"]);
    expect(got.discarded).toEqual([
      { reason: "too_large", category: "log_item", quantity: 1 },
      { reason: "too_large", category: "span", quantity: 1 },
      { reason: "too_large", category: "monitor", quantity: 1 },
      { reason: "too_large", category: "session", quantity: 1 },
    ]);
  });

  it("holds a container to maxContainerBytes whole and to the per-entry cap on average, as Relay does", async () => {
    const { id, config } = project({ maxLogBytes: 200, maxSpanBytes: 200, maxContainerBytes: 300 });
    const logs = { type: "log", content_type: "application/vnd.sentry.items.log+json" };
    const spans = { type: "span", content_type: "application/vnd.sentry.items.span.v2+json" };
    const body = [
      event,
      item({ ...logs, item_count: 2 }, sized(300, "whole-at-cap")),
      item({ ...logs, item_count: 2 }, sized(301, "whole-over")),
      item({ ...logs, item_count: 1 }, sized(201, "average-over")),
      item({ ...spans, item_count: 3 }, sized(300, "spans-at-cap")),
      item({ ...spans, item_count: 1 }, sized(201, "spans-average-over")),
    ].join("");
    const res = await send(id, config, body);
    expect(res.status).toBe(200);
    const got = received(upstream.calls[0]!);
    expect(got.kept).toEqual(["event", "log:whole-at-cap", "span:spans-at-cap"]);
    expect(got.discarded).toEqual([
      { reason: "too_large", category: "log_item", quantity: 3 },
      { reason: "too_large", category: "span", quantity: 1 },
    ]);
  });

  it("keeps at most maxSessionCount session items per envelope", async () => {
    const { id, config } = project({ maxSessionCount: 2 });
    const body = [event, ...["a", "b", "c"].map((tag) => item({ type: "session" }, sized(60, tag))), item({ type: "sessions" }, sized(60, "d"))].join("");
    const res = await send(id, config, body);
    expect(res.status).toBe(200);
    const got = received(upstream.calls[0]!);
    expect(got.kept).toEqual(["event", "session:a", "session:b"]);
    expect(got.discarded).toEqual([{ reason: "too_large", category: "session", quantity: 2 }]);
  });

  it("caps attachments one by one and together, and replay recordings by their own cap", async () => {
    const { id, config } = project({ maxAttachmentBytes: 8, maxAttachmentsBytes: 12, maxReplayCompressedBytes: 5 });
    const body = [
      event,
      item({ type: "attachment", filename: "a" }, "12345678"),
      item({ type: "attachment", filename: "b" }, "123456789"),
      item({ type: "attachment", filename: "c" }, "12345"),
      item({ type: "attachment", filename: "d" }, "1234"),
      item({ type: "replay_recording" }, "123456"),
    ].join("");
    const res = await send(id, config, body);
    expect(res.status).toBe(200);
    const items = parseEnvelope(upstream.calls[0]!.body).items;
    expect(items.filter((i) => i.header.type === "attachment").map((i) => i.header.filename)).toEqual(["a", "d"]);
    expect(items.some((i) => i.header.type === "replay_recording")).toBe(false);
    expect(received(upstream.calls[0]!).discarded).toEqual([
      { reason: "too_large", category: "attachment", quantity: 14 },
      { reason: "too_large", category: "replay", quantity: 1 },
    ]);
  });

  it("caps an item type it does not know at maxContainerBytes", async () => {
    const { id, config } = project({ maxContainerBytes: 100 });
    const res = await send(id, config, event + item({ type: "x_future" }, sized(100, "at")) + item({ type: "x_future" }, sized(101, "over")));
    expect(res.status).toBe(200);
    expect(received(upstream.calls[0]!).kept).toEqual(["event", "x_future:at"]);
  });

  it("uses Relay's defaults: a check-in of 100 KiB passes, one byte more is dropped", async () => {
    const { id, config } = project();
    const res = await send(id, config, event + item({ type: "check_in" }, sized(100 * KiB, "at")) + item({ type: "check_in" }, sized(100 * KiB + 1, "over")));
    expect(res.status).toBe(200);
    const got = received(upstream.calls[0]!);
    expect(got.kept).toEqual(["event", "check_in:at"]);
    expect(got.discarded).toEqual([{ reason: "too_large", category: "monitor", quantity: 1 }]);
  });

  it("reads a log over its default cap to nowhere as it arrives, never holding it", async () => {
    // 1 MiB held at most: the 2 MiB + 1 log would be a 413 if it were held.
    const { id, config } = project({ maxBufferedBytes: MiB });
    const res = await send(id, config, event + item({ type: "log", item_count: 5 }, sized(2 * MiB + 1, "over")));
    expect(res.status).toBe(200);
    const got = received(upstream.calls[0]!);
    expect(got.kept).toEqual(["event"]);
    expect(got.discarded).toEqual([{ reason: "too_large", category: "log_item", quantity: 5 }]);
  });

  it("answers 413 when every item is over its cap", async () => {
    const { id, config } = project({ maxCheckInBytes: 30 });
    const res = await send(id, config, item({ type: "check_in" }, sized(31, "over")));
    expect(res.status).toBe(413);
    expect(((await res.json()) as { detail: string }).detail).toContain("too_large");
    expect(upstream.calls).toHaveLength(0);
  });
});
