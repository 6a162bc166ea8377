import { existsSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeUpstream, parseEnvelope } from "./support/fake-upstream";
import { startRelay, type RunningRelay } from "./support/relay";
import { startWrangler } from "./support/wrangler";

/**
 * The harness checks itself: the fake upstream's own envelope parser and
 * decoders, its programmable answers, and that a relay under wrangler starts
 * and stops without leaving a process behind. A bug here would make every
 * other e2e test mean less.
 */

const EVENT = { event_id: "9ec79c33ec9942ab8353589fcb2e04dc", message: "hand-made", level: "error" };
const eventJson = JSON.stringify(EVENT);
const handMade = [
  JSON.stringify({ event_id: EVENT.event_id, dsn: "http://k@x/1", sent_at: "2026-01-01T00:00:00Z" }),
  // With `length`, the payload may hold newlines.
  JSON.stringify({ type: "attachment", length: 11, filename: "a.txt" }),
  "two\nlines\n!",
  // Without `length`, the payload ends at the next newline.
  JSON.stringify({ type: "event" }),
  eventJson,
  JSON.stringify({ type: "event", length: Buffer.byteLength(eventJson) }),
  eventJson,
].join("\n");

let upstream: FakeUpstream;

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
});

afterAll(async () => {
  await upstream?.close();
});

const post = (body: Buffer | string, headers: Record<string, string> = {}, path = "/api/4501/envelope/") =>
  fetch(`${upstream.url}${path}`, { method: "POST", body, headers });

describe("fake upstream", () => {
  it("parses envelopes by itself: length-delimited and newline-delimited items, optional trailing newline", () => {
    for (const text of [handMade, `${handMade}\n`]) {
      const { header, items } = parseEnvelope(Buffer.from(text));
      expect(header.event_id).toBe(EVENT.event_id);
      expect(items.map((i) => i.header.type)).toEqual(["attachment", "event", "event"]);
      expect(items[0]!.payload.toString()).toBe("two\nlines\n!");
      expect(items[1]!.json()).toEqual(EVENT);
      expect(items[2]!.json()).toEqual(EVENT);
    }
    expect(parseEnvelope(Buffer.from("{}")).items).toEqual([]);
  });

  it("refuses malformed envelopes instead of guessing", () => {
    expect(() => parseEnvelope(Buffer.from('{}\n{"type":"event","length":500}\n{}'))).toThrow(/runs past/);
    expect(() => parseEnvelope(Buffer.from('{}\n{"type":"event","length":2}\n{}}'))).toThrow(/no newline/);
    expect(() => parseEnvelope(Buffer.from('{}\n{"length":2}\n{}'))).toThrow(/no type/);
    expect(() => parseEnvelope(Buffer.from("not json\n"))).toThrow(/not JSON/);
  });

  it("records every request with its body decoded from gzip, deflate, br or none, and answers 200 {id}", async () => {
    upstream.reset();
    const encodings: Array<[string | undefined, Buffer]> = [
      [undefined, Buffer.from(handMade)],
      ["gzip", gzipSync(handMade)],
      ["deflate", deflateSync(handMade)],
      ["br", brotliCompressSync(handMade)],
    ];
    for (const [encoding, body] of encodings) {
      const res = await post(body, encoding ? { "content-encoding": encoding, "x-sentry-auth": "Sentry sentry_key=abc" } : {});
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ id: EVENT.event_id });
    }
    expect(upstream.requests.map((r) => [r.method, r.path, r.headers["content-encoding"]])).toEqual(
      encodings.map(([encoding]) => ["POST", "/api/4501/envelope/", encoding]),
    );
    for (const request of upstream.requests) {
      expect(request.body!.toString()).toBe(handMade);
      expect(request.envelope!.items).toHaveLength(3);
    }
    expect(upstream.items("event")).toHaveLength(8);
    expect(upstream.requests.map((r) => r.headers["x-sentry-auth"])).toEqual([undefined, ...Array(3).fill("Sentry sentry_key=abc")]);
    expect((await upstream.waitForEvent(EVENT.event_id)).item.json()).toEqual(EVENT);
    expect(upstream.event("9ec79c33-ec99-42ab-8353-589fcb2e04dc")).toBeDefined();
  });

  it("answers 400 to a body it cannot decode or parse, and still records it", async () => {
    upstream.reset();
    expect((await post(Buffer.from("garbage"), { "content-encoding": "gzip" })).status).toBe(400);
    expect((await post("not an envelope")).status).toBe(400);
    expect(upstream.requests.map((r) => r.status)).toEqual([400, 400]);
    expect(upstream.requests[0]!.error).toMatch(/header|check|gzip|incorrect/i);
    expect(upstream.received).toHaveLength(0);
  });

  it("answers as programmed: once, by a function, or by dropping the connection; errors are not 'accepted'", async () => {
    upstream.reset();
    upstream.respondOnce({ status: 503, headers: { "retry-after": "7" } }).respondOnce({ status: 429, body: { detail: "slow down" } });
    const first = await post(handMade);
    expect([first.status, first.headers.get("retry-after")]).toEqual([503, "7"]);
    const second = await post(handMade);
    expect([second.status, await second.json()]).toEqual([429, { detail: "slow down" }]);
    expect((await post(handMade)).status).toBe(200);
    expect(upstream.received.map((e) => [e.status, e.accepted])).toEqual([[503, false], [429, false], [200, true]]);
    expect(upstream.items("event")).toHaveLength(2);

    upstream.respondWith((request) => (request.path.includes("/9/") ? { status: 500 } : undefined));
    expect((await post(handMade, {}, "/api/9/envelope/")).status).toBe(500);
    expect((await post(handMade)).status).toBe(200);

    upstream.respondOnce({ destroy: true });
    await expect(post(handMade)).rejects.toThrow();
    await upstream.waitFor(() => upstream.requests.length === 6);

    upstream.reset();
    expect(upstream.requests).toHaveLength(0);
    expect((await post(handMade, {}, "/api/9/envelope/")).status).toBe(200);
    await expect(upstream.waitFor(() => false, 200)).rejects.toThrow(/1 request\(s\): POST \/api\/9\/envelope\/ -> 200 \[attachment\+event\+event\]/);
  });
});

describe("relay under wrangler dev", () => {
  let relay: RunningRelay | undefined;
  afterAll(async () => {
    await relay?.stop();
  });

  it("comes up answering GET /healthz 200, and stop() ends its whole process group and frees the port", async () => {
    relay = await startRelay({
      config: { projects: { "1": { keys: ["0123456789abcdef0123456789abcdef"], upstream: upstream.dsn("ab".repeat(16), "2") } } },
    });
    expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);
    expect(existsSync(relay.logFile)).toBe(true);
    const { pid, url, stateDir } = relay;
    await relay.stop();
    relay = undefined;
    expect(() => process.kill(-pid, 0)).toThrow(/ESRCH/);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    expect(existsSync(stateDir)).toBe(false);
  });

  it("fails fast with wrangler's own words, and leaves nothing running, when wrangler cannot start", async () => {
    const started = Date.now();
    const error = await startWrangler({ configPath: "test/e2e/no-such-wrangler.toml", timeoutMs: 30_000 }).then(
      async (r) => (await r.stop(), undefined),
      (err: Error) => err,
    );
    expect(error?.message).toMatch(/wrangler dev did not come up on http:\/\/127\.0\.0\.1:\d+: wrangler exited; log \S+, its tail:\n[^]*no-such-wrangler/);
    expect(Date.now() - started).toBeLessThan(20_000);
    // The log of a failed start is kept for whoever reads the error; this one was expected.
    const logFile = / log (\S+), its tail/.exec(error?.message ?? "")?.[1];
    if (logFile) rmSync(dirname(logFile), { recursive: true, force: true });
  });
});
