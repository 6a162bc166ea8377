import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseEnvelope } from "../../src/envelope/parse";
import { KEY, fakeUpstream, post, relay, sentryAuth } from "./support/harness";

let upstream: ReturnType<typeof fakeUpstream>;
beforeEach(() => {
  upstream = fakeUpstream();
});
afterEach(() => upstream.restore());

const enc = (text: string) => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** A project of its own per test, so the outcomes riding on its upstream envelope are only this test's. */
let nextProject = 7300;
function project(settings: Record<string, unknown> = {}) {
  const id = String(nextProject++);
  const config = JSON.stringify({ projects: { [id]: { keys: [KEY], upstream: `https://${"cd".repeat(16)}@depth-${id}.example.com/1`, ...settings } } });
  return { id, config };
}

function concat(...parts: Array<Uint8Array | string>): Uint8Array {
  const bytes = parts.map((p) => (typeof p === "string" ? enc(p) : p));
  const out = new Uint8Array(bytes.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of bytes) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

const deepArrays = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
const deepObjects = (depth: number) => '{"a":'.repeat(depth) + "1" + "}".repeat(depth);

const EVENT_ID = "5f1d0e5a3b8c4d2e9f7a6b5c4d3e2f1a";
const goodEvent = `{"event_id":"${EVENT_ID}","message":"still here"}`;
const goodSession = '{"sid":"8bc7e3b0a6b24a0c9f0c6a2f1d3e4b5c","status":"ok","started":"2026-11-25T00:00:00Z","attrs":{"release":"1.0"}}';
const goodLog = '{"items":[{"timestamp":1764028800,"level":"info","body":"a log line"}]}';

/** The items the fake upstream received, by type, and the relay's own client report's discarded counts. */
function received(call: { body: Uint8Array }) {
  const envelope = parseEnvelope(call.body);
  const items = envelope.items.map((item) => ({ type: item.header.type, text: dec(item.payload) }));
  const reports = items.filter((item) => item.type === "client_report").map((item) => JSON.parse(item.text));
  return { types: items.map((i) => i.type).filter((t) => t !== "client_report"), items, discarded: reports.flatMap((r) => r.discarded_events ?? []) };
}

async function send(projectId: string, config: string, body: Uint8Array | string) {
  return relay(post(`/api/${projectId}/envelope/`, body, sentryAuth()), config);
}

describe("nesting beyond the depth limit and invalid UTF-8 in items", () => {
  it("drops an event of 100,000-deep arrays as invalid_json and delivers the session and attachment beside it", async () => {
    const { id, config } = project();
    const event = `{"event_id":"${EVENT_ID}","extra":{"deep":${deepArrays(100_000)}}}`;
    const res = await send(id, config, `{"event_id":"${EVENT_ID}"}\n{"type":"event"}\n${event}\n{"type":"session"}\n${goodSession}\n{"type":"attachment","length":3}\nabc\n`);
    expect(res.status).toBe(200);
    expect(upstream.calls).toHaveLength(1);
    const got = received(upstream.calls[0]!);
    expect(got.types).toEqual(["session", "attachment"]);
    expect(got.items[1]!.text).toBe("abc");
    expect(got.discarded).toEqual([{ reason: "invalid_json", category: "error", quantity: 1 }]);
  });

  it("drops a log item of 100,000-deep arrays, one outcome for its entries, and delivers the event", async () => {
    const { id, config } = project();
    const log = `{"items":[{"body":"x","attributes":${deepArrays(100_000)}}]}`;
    const res = await send(id, config, `{}\n{"type":"event"}\n${goodEvent}\n{"type":"log","item_count":3,"content_type":"application/vnd.sentry.items.log+json"}\n${log}\n`);
    expect(res.status).toBe(200);
    const got = received(upstream.calls[0]!);
    expect(got.types).toEqual(["event"]);
    expect(JSON.parse(got.items[0]!.text).message).toBe("still here");
    expect(got.discarded).toEqual([{ reason: "invalid_json", category: "log_item", quantity: 3 }]);
  });

  it("drops 5,000-deep objects in an event, a transaction and a span, and delivers the log beside them", async () => {
    const { id, config } = project();
    const body = [
      "{}",
      '{"type":"event"}', `{"contexts":{"x":${deepObjects(5_000)}}}`,
      '{"type":"transaction"}', `{"type":"transaction","spans":[${deepObjects(5_000)}]}`,
      '{"type":"span"}', deepObjects(5_000),
      '{"type":"log","item_count":1}', goodLog,
    ].join("\n");
    const res = await send(id, config, body);
    expect(res.status).toBe(200);
    const got = received(upstream.calls[0]!);
    expect(got.types).toEqual(["log"]);
    expect(JSON.parse(got.items[0]!.text)).toEqual(JSON.parse(goodLog));
    expect(got.discarded).toEqual([
      { reason: "invalid_json", category: "error", quantity: 1 },
      { reason: "invalid_json", category: "transaction", quantity: 1 },
      { reason: "invalid_json", category: "span", quantity: 1 },
    ]);
  });

  it("drops deep items even when the project scrubs nothing, so nothing after validation meets them", async () => {
    const { id, config } = project({ scrub: { defaults: false, scrubIpAddresses: false } });
    const log = `{"items":[${deepArrays(100_000)}]}`;
    const res = await send(id, config, `{}\n{"type":"event"}\n${goodEvent}\n{"type":"log","item_count":1}\n${log}\n`);
    expect(res.status).toBe(200);
    const got = received(upstream.calls[0]!);
    expect(got.types).toEqual(["event"]);
    expect(got.discarded).toEqual([{ reason: "invalid_json", category: "log_item", quantity: 1 }]);
  });

  it("keeps an event nested exactly to the limit, and refuses one level more", async () => {
    const { id, config } = project();
    // The event object is one level, so 127 levels inside it make 128.
    const at = `{"extra":{"x":${deepArrays(126)}}}`;
    const over = `{"extra":{"x":${deepArrays(127)}}}`;
    expect((await send(id, config, `{}\n{"type":"event"}\n${at}`)).status).toBe(200);
    expect(upstream.calls).toHaveLength(1);
    const res = await send(id, config, `{}\n{"type":"event"}\n${over}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toContain("invalid_json");
    expect(upstream.calls).toHaveLength(1);
  });

  it("drops an event holding invalid UTF-8 as invalid_json instead of forwarding it, and delivers the rest", async () => {
    const { id, config } = project();
    const event = concat('{"message":"caf', new Uint8Array([0xc3, 0x28, 0xff]), '"}');
    const res = await send(id, config, concat(`{}\n{"type":"event","length":${event.byteLength}}\n`, event, `\n{"type":"session"}\n${goodSession}\n`));
    expect(res.status).toBe(200);
    const got = received(upstream.calls[0]!);
    expect(got.types).toEqual(["session"]);
    expect(got.discarded).toEqual([{ reason: "invalid_json", category: "error", quantity: 1 }]);
  });

  it("answers 400, not 500, when the only item is too deep or not UTF-8", async () => {
    const { id, config } = project();
    for (const payload of [enc(deepArrays(100_000)), enc(`{"a":${deepObjects(5_000)}}`), concat('{"m":"', new Uint8Array([0xff]), '"}')]) {
      const res = await send(id, config, concat(`{}\n{"type":"event","length":${payload.byteLength}}\n`, payload));
      expect(res.status).toBe(400);
      expect(((await res.json()) as { detail: string }).detail).toContain("invalid_json");
    }
    expect(upstream.calls).toHaveLength(0);
  });

  it("answers 400 for an envelope or item header nested deeper than the limit, as Relay refuses to parse it", async () => {
    const { id, config } = project();
    for (const body of [`{"x":${deepArrays(100_000)}}\n{"type":"event"}\n${goodEvent}`, `{}\n{"type":"event","x":${deepObjects(5_000)}}\n${goodEvent}`]) {
      const res = await send(id, config, body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { detail: string }).detail).toMatch(/header.* nests deeper than 128 levels/);
    }
    expect(upstream.calls).toHaveLength(0);
  });

  it("treats an unknown item type whose payload opens like JSON the same way", async () => {
    const { id, config } = project();
    const res = await send(id, config, `{}\n{"type":"event"}\n${goodEvent}\n{"type":"x_custom"}\n${deepArrays(100_000)}\n`);
    expect(res.status).toBe(200);
    expect(received(upstream.calls[0]!).types).toEqual(["event"]);
  });
});

describe("store bodies beyond the depth limit or not UTF-8", () => {
  async function store(projectId: string, config: string, body: Uint8Array | string) {
    const res = await relay(post(`/api/${projectId}/store/`, body, { ...sentryAuth(), "content-type": "application/json" }), config);
    return { status: res.status, detail: ((await res.json()) as { detail?: string }).detail };
  }

  it("answers 400 with a detail for 100,000-deep arrays, 5,000-deep objects and invalid UTF-8, forwarding nothing", async () => {
    const { id, config } = project();
    expect(await store(id, config, `{"extra":${deepArrays(100_000)}}`)).toEqual({ status: 400, detail: "store body nests deeper than 128 levels" });
    expect(await store(id, config, `{"extra":${deepObjects(5_000)}}`)).toEqual({ status: 400, detail: "store body nests deeper than 128 levels" });
    expect(await store(id, config, concat('{"message":"', new Uint8Array([0xff, 0xfe]), '"}'))).toEqual({ status: 400, detail: "store body is not valid UTF-8" });
    // The same forms base64-encoded, as raven-era SDKs send them.
    expect(await store(id, config, btoa(`{"extra":${deepArrays(100_000)}}`))).toEqual({ status: 400, detail: "store body nests deeper than 128 levels" });
    expect(upstream.calls).toHaveLength(0);
  });

  it("still takes a store event nested within the limit", async () => {
    const { id, config } = project();
    const res = await store(id, config, `{"message":"ok","extra":{"x":${deepArrays(100)}}}`);
    expect(res.status).toBe(200);
    expect(upstream.calls).toHaveLength(1);
    expect(dec(upstream.calls[0]!.body)).toContain(deepArrays(100));
  });
});
