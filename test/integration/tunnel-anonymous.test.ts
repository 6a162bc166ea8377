import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readArchived } from "../../src/forward/archive";
import { KEY, UPSTREAM_DSN, compress, errorEnvelope, fakeUpstream, post, relay } from "./support/harness";

let upstream: ReturnType<typeof fakeUpstream>;
beforeEach(() => {
  upstream = fakeUpstream();
});
afterEach(() => upstream.restore());

const ORIGIN = "https://shop.example.com";
let nextProject = 7000;

/**
 * A project of its own per test (the allowance is counted per project in the
 * quota Durable Object, which outlives a test), the only one naming ORIGIN.
 */
function setup(settings: Record<string, unknown> = {}, limits: Record<string, unknown> = {}) {
  const id = String(nextProject++);
  const config = JSON.stringify({
    projects: {
      [id]: { keys: [KEY], upstream: UPSTREAM_DSN, allowedOrigins: [ORIGIN], ...settings },
      // Two that admit any origin: a page elsewhere cannot be routed.
      "1": { keys: [KEY], upstream: UPSTREAM_DSN },
      "2": { keys: [KEY], upstream: UPSTREAM_DSN },
    },
    limits,
  });
  const send = (body: BodyInit, headers: Record<string, string> = {}) =>
    relay(post("/tunnel", body, { origin: ORIGIN, "content-type": "text/plain;charset=UTF-8", ...headers }), config);
  return { id, config, send };
}

const reportEnvelope = (payload: unknown, header = "{}") => `${header}\n{"type":"client_report"}\n${typeof payload === "string" ? payload : JSON.stringify(payload)}`;

/** What `@sentry/core` 11's createClientReportEnvelope sends: a float timestamp, one entry per reason and category. */
const sdkReport = {
  timestamp: 1795420800.123,
  discarded_events: [
    { reason: "before_send", category: "error", quantity: 1 },
    { reason: "sample_rate", category: "transaction", quantity: 3 },
    { reason: "ratelimit_backoff", category: "internal", quantity: 2 },
  ],
};

const detailOf = async (res: Response) => ((await res.json()) as { detail: string }).detail;

/** A body that counts what the relay pulled from it: `size` bytes after `head`, in 64 KiB chunks. */
function countedBody(head: string, size: number, fill = 0x41) {
  let sent = 0;
  let headSent = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!headSent) {
        headSent = true;
        return controller.enqueue(new TextEncoder().encode(head));
      }
      if (sent >= size) return controller.close();
      const chunk = new Uint8Array(Math.min(64 * 1024, size - sent)).fill(fill);
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { stream, pulled: () => sent };
}

const MiB = 1024 * 1024;

describe("tunnel envelopes without a key or dsn", () => {
  it("stops reading 8 MiB of non-JSON after a few KiB: 401, nothing upstream", async () => {
    const { send } = setup();
    const body = countedBody('{}\n{"type":"client_report"}\n', 8 * MiB);
    const res = await send(body.stream);
    expect(res.status).toBe(401);
    expect(await detailOf(res)).toContain("only client reports of at most 8192 bytes");
    expect(body.pulled()).toBeLessThan(MiB);
    expect(upstream.calls).toHaveLength(0);
  });

  it("refuses 8 MiB with no header line at all, and 8 MiB held in one buffer", async () => {
    const { send } = setup();
    const noLine = countedBody("", 8 * MiB);
    expect((await send(noLine.stream)).status).toBe(401);
    expect(noLine.pulled()).toBeLessThan(MiB);
    const whole = `{}\n{"type":"client_report"}\n${"x".repeat(8 * MiB)}`;
    expect((await send(whole)).status).toBe(401);
    const gzipped = await compress(whole, "gzip");
    expect((await send(gzipped, { "content-encoding": "gzip" })).status).toBe(401);
    expect(upstream.calls).toHaveLength(0);
  });

  it("refuses a small client report that is not JSON", async () => {
    const { send } = setup();
    const res = await send(reportEnvelope("\u0000not json at all"));
    expect(res.status).toBe(400);
    expect(await detailOf(res)).toBe("invalid client report 0: invalid_json");
    expect(upstream.calls).toHaveLength(0);
  });

  it.each([
    ["a quantity of 4294967295", { discarded_events: [{ reason: "before_send", category: "error", quantity: 4294967295 }] }, "discarded_events.0.quantity: too_big"],
    ["a quantity over the documented maximum", { discarded_events: [{ reason: "before_send", category: "error", quantity: 100_001 }] }, "discarded_events.0.quantity: too_big"],
    ["a quantity of 0", { discarded_events: [{ reason: "before_send", category: "error", quantity: 0 }] }, "discarded_events.0.quantity: too_small"],
    ["a negative quantity", { discarded_events: [{ reason: "before_send", category: "error", quantity: -5 }] }, "discarded_events.0.quantity: too_small"],
    ["a fractional quantity", { discarded_events: [{ reason: "before_send", category: "error", quantity: 1.5 }] }, "discarded_events.0.quantity: invalid_type"],
    ["a quantity as a string", { discarded_events: [{ reason: "before_send", category: "error", quantity: "3" }] }, "discarded_events.0.quantity: invalid_type"],
    ["an unknown category", { discarded_events: [{ reason: "before_send", category: "bitcoin", quantity: 1 }] }, "discarded_events.0.category: invalid_value"],
    ["an unknown reason", { discarded_events: [{ reason: "<script>alert(1)</script>", category: "error", quantity: 1 }] }, "discarded_events.0.reason: invalid_value"],
    ["a relay reason under the SDK's field", { discarded_events: [{ reason: "web-crawlers", category: "error", quantity: 1 }] }, "discarded_events.0.reason: invalid_value"],
    ["an extra field in an entry", { discarded_events: [{ reason: "before_send", category: "error", quantity: 1, user: "a@b.c" }] }, "discarded_events.0: unrecognized_keys"],
    ["an extra top-level field", { ...sdkReport, message: "free text" }, "(root): unrecognized_keys"],
    ["a list that is not a list", { discarded_events: { reason: "before_send" } }, "discarded_events: invalid_type"],
    ["a report that is a list", [sdkReport], "(root): invalid_type"],
    ["a timestamp that is text", { timestamp: "yesterday", discarded_events: [] }, "timestamp: invalid_format"],
  ])("refuses %s with 400, nothing upstream", async (_name, payload, problem) => {
    const { send } = setup();
    const res = await send(reportEnvelope(payload));
    expect(res.status).toBe(400);
    expect(await detailOf(res)).toBe(`invalid client report 0: ${problem}`);
    expect(upstream.calls).toHaveLength(0);
  });

  it("refuses anything that is not only client reports with 401", async () => {
    const { send } = setup();
    const event = await send(errorEnvelope());
    expect(event.status).toBe(401);
    expect(await detailOf(event)).toMatch(/^missing authorization information/);
    const mixed = await send(`${reportEnvelope(sdkReport)}\n{"type":"event"}\n{"message":"hi"}`);
    expect(mixed.status).toBe(401);
    const empty = await send("{}");
    expect(empty.status).toBe(401);
    const session = await send('{}\n{"type":"session"}\n{"sid":"x","status":"ok"}');
    expect(session.status).toBe(401);
    expect(upstream.calls).toHaveLength(0);
  });

  it("answers 401, not 400, to an envelope route without a key or dsn", async () => {
    const res = await relay(post("/api/42/envelope/", errorEnvelope()));
    expect(res.status).toBe(401);
    expect(await detailOf(res)).toBe("missing authorization information");
  });

  it("forwards a valid report from a browser origin, re-serialized from the checked value", async () => {
    const { send } = setup();
    // Odd spacing and key order, a header with more than nothing: none of these bytes go on.
    const sent = '{"sent_at":"2026-11-23T08:00:00.000Z","junk":"\u2603"}\n{"type":"client_report","length":999,"extra":1}\n'
      + '{ "discarded_events" : [ {"quantity":3, "category":"transaction","reason":"sample_rate"} ],\t"timestamp": 1795420800 }';
    const res = await send(sent.replace('"length":999,', ""));
    expect(res.status).toBe(200);
    expect(upstream.calls).toHaveLength(1);
    const [header, itemHeader, payload, ...rest] = upstream.calls[0]!.text.split("\n");
    expect(JSON.parse(header!)).toEqual({});
    expect(JSON.parse(itemHeader!)).toEqual({ type: "client_report", length: payload!.length });
    expect(payload).toBe('{"timestamp":1795420800,"discarded_events":[{"reason":"sample_rate","category":"transaction","quantity":3}]}');
    expect(rest.filter((line) => line !== "")).toEqual([]);
    expect(upstream.calls[0]!.text).not.toContain("junk");
  });

  it("takes the exact shape @sentry/core 11 sends, with a bare {} header", async () => {
    const { send } = setup();
    const res = await send(reportEnvelope(sdkReport));
    expect(res.status).toBe(200);
    expect(JSON.parse(upstream.calls[0]!.text.split("\n")[2]!)).toEqual(sdkReport);
  });

  it("takes every field a relay's report carries, with known reasons", async () => {
    const { send } = setup();
    const report = {
      timestamp: "2026-11-23T08:00:00Z",
      discarded_events: [{ reason: "queue_overflow", category: "feedback", quantity: 1 }],
      rate_limited_events: [{ reason: "quota_exceeded", category: "span", quantity: 40 }],
      filtered_events: [{ reason: "browser-extensions", category: "error", quantity: 2 }],
      filtered_sampling_events: [{ reason: "Sampled:1,7", category: "transaction", quantity: 9 }],
    };
    expect((await send(reportEnvelope(report))).status).toBe(200);
    expect(JSON.parse(upstream.calls[0]!.text.split("\n")[2]!)).toEqual(report);
  });

  it("archives the rebuilt envelope, never the sender's bytes", async () => {
    const { id, send } = setup({ upstream: undefined, archive: true });
    const res = await send(reportEnvelope('{"discarded_events":[{"reason":"before_send","category":"error","quantity":1}] ,  "timestamp":5}', '{"sent_at":"x"}'));
    expect(res.status).toBe(200);
    const bucket = (env as { ARCHIVE: R2Bucket }).ARCHIVE;
    const listed = await bucket.list({ prefix: `${id}/` });
    expect(listed.objects).toHaveLength(1);
    const archived = new TextDecoder().decode(await readArchived((await bucket.get(listed.objects[0]!.key))!));
    expect(archived).toContain('{"timestamp":5,"discarded_events":[{"reason":"before_send","category":"error","quantity":1}]}');
    expect(archived).not.toContain("sent_at");
    expect(archived).not.toContain(",  ");
  });

  it("counts each report against the project's allowance: after N, 429 for client reports only", async () => {
    const { send } = setup({}, { anonymousReportsPerMinute: 3 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await send(reportEnvelope(sdkReport))).status);
    expect(statuses).toEqual([200, 200, 200]);
    const refused = await send(reportEnvelope(sdkReport));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("x-sentry-rate-limits")).toMatch(/^\d+:internal:project:anonymous_reports$/);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(upstream.calls).toHaveLength(3);
    // Keyed traffic is not touched by the allowance.
    const keyed = await send(errorEnvelope({ dsn: `https://${KEY}@relay.example/${nextProject - 1}` }));
    expect(keyed.status).toBe(200);
  });

  it("refuses all of them when the allowance is 0", async () => {
    const { send } = setup({}, { anonymousReportsPerMinute: 0 });
    expect((await send(reportEnvelope(sdkReport))).status).toBe(429);
    expect(upstream.calls).toHaveLength(0);
  });

  it("cannot be routed without exactly one project for the origin: 401", async () => {
    const { send } = setup();
    const res = await send(reportEnvelope(sdkReport), { origin: "https://elsewhere.example.org" });
    expect(res.status).toBe(401);
    expect(await detailOf(res)).toContain('2 projects accept origin "https://elsewhere.example.org"');
    expect(upstream.calls).toHaveLength(0);
  });

  it("still checks a dsn as soon as the header arrives, before the body is read", async () => {
    const { send } = setup();
    const body = countedBody(`{"dsn":"https://${"9".repeat(32)}@relay.example/${nextProject - 1}"}\n{"type":"attachment","length":${8 * MiB}}\n`, 8 * MiB);
    const res = await send(body.stream);
    expect(res.status).toBe(401);
    expect(body.pulled()).toBeLessThan(MiB);
  });
});
