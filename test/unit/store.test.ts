import { deflateRawSync, deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { RelayError } from "../../src/http/errors";
import { decodeStoreBody, eventToEnvelope, storeEventToEnvelope } from "../../src/ingest/store";

const enc = (s: string) => new TextEncoder().encode(s);
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const urlSafe = (s: string) => s.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
// Enough varied text that base64 of its deflate contains both `+` and `/`.
const event = { event_id: "aa".repeat(16), message: "hello", extra: { n: 1, words: Array.from({ length: 200 }, (_, i) => `w${i * 7919}`) } };
const json = JSON.stringify(event);
const MAX = 1024 * 1024;

function refusal(fn: () => unknown): RelayError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RelayError);
    return err as RelayError;
  }
  throw new Error("expected a RelayError");
}

describe("decodeStoreBody", () => {
  it("has fixtures that exercise the url-safe alphabet", () => {
    expect(b64(deflateSync(json))).toMatch(/\+/);
    expect(b64(deflateSync(json))).toMatch(/\//);
  });

  it.each([
    ["plain JSON", json],
    ["JSON with leading whitespace and newlines", `\n \t ${json}\r\n`],
    ["JSON after a UTF-8 byte order mark", `\uFEFF${json}`],
    ["base64 of zlib-deflated JSON (raven)", b64(deflateSync(json))],
    ["base64 of raw-deflated JSON", b64(deflateRawSync(json))],
    ["url-safe base64 without padding", urlSafe(b64(deflateSync(json)))],
    ["base64 wrapped at 76 columns", b64(deflateSync(json)).replace(/(.{76})/g, "$1\r\n")],
    ["base64 with surrounding whitespace", `  ${b64(deflateSync(json))}\n`],
    ["base64 of plain JSON", b64(enc(json))],
    ["url-safe base64 of plain JSON", urlSafe(b64(enc(json)))],
  ])("decodes %s", (_name, body) => {
    expect(decodeStoreBody(enc(body), MAX)).toEqual(event);
  });

  it("defaults the inflate cap to Relay's max event size (1 MiB)", () => {
    expect(decodeStoreBody(enc(b64(deflateSync(json))))).toEqual(event);
    const big = b64(deflateSync(`{"x":"${"a".repeat(MAX)}"}`));
    expect(refusal(() => decodeStoreBody(enc(big)))).toMatchObject({ status: 413, detail: `decompressed body exceeds ${MAX} bytes` });
  });

  it.each([
    ["empty", "", 400, "store body is empty"],
    ["only whitespace", " \n\t ", 400, "store body is empty"],
    ["broken JSON", "{not json", 400, "store body is not valid JSON"],
    ["truncated JSON", json.slice(0, -1), 400, "store body is not valid JSON"],
    ["a JSON array", "[1,2]", 400, "store body is not an object"],
    ["a JSON string", '"event"', 400, "store body is not an object"],
    ["neither JSON nor base64", "%%% not json %%%", 400, "store body is not valid JSON"],
    ["base64 one character too long", "QUJDREVFG", 400, "invalid base64 store body: truncated"],
    ["base64 of bytes that are not deflate", b64(enc("just some bytes that are not deflated")), 400, "store body is base64 but neither JSON nor zlib-deflated JSON"],
    ["base64 of truncated zlib", b64(deflateSync(json).subarray(0, 40)), 400, "store body is base64 but neither JSON nor zlib-deflated JSON"],
    ["base64 of deflated non-JSON", b64(deflateSync("hello")), 400, "store body is not valid JSON"],
    ["base64 of a deflated array", b64(deflateSync("[1]")), 400, "store body is not an object"],
    ["base64 of a broken JSON object", b64(enc("{nope")), 400, "store body is not valid JSON"],
  ])("refuses %s", (_name, body, status, detail) => {
    expect(refusal(() => decodeStoreBody(enc(body), MAX))).toMatchObject({ status, detail });
  });

  it("stops inflating at the cap: 413, not an out-of-memory", () => {
    const bomb = b64(deflateSync(`{"x":"${"a".repeat(50 * MAX)}"}`));
    expect(bomb.length).toBeLessThan(100_000);
    const started = Date.now();
    expect(refusal(() => decodeStoreBody(enc(bomb), MAX))).toMatchObject({ status: 413, detail: `decompressed body exceeds ${MAX} bytes` });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("accepts an event that inflates to exactly the cap and refuses one byte more", () => {
    const exact = `{"x":"${"a".repeat(100_000 - 8)}"}`;
    expect(exact.length).toBe(100_000);
    expect(decodeStoreBody(enc(b64(deflateSync(exact))), 100_000)).toEqual({ x: "a".repeat(100_000 - 8) });
    expect(refusal(() => decodeStoreBody(enc(b64(deflateSync(`${exact} `))), 100_000)).status).toBe(413);
  });

  it("stops raw-deflate inflation at the cap too", () => {
    const bomb = b64(deflateRawSync(`{"x":"${"a".repeat(5 * MAX)}"}`));
    expect(refusal(() => decodeStoreBody(enc(bomb), MAX)).status).toBe(413);
  });
});

describe("storeEventToEnvelope", () => {
  const now = new Date("2026-11-23T08:00:00Z");
  const decode = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;

  it("wraps an event with its id in the header and one item of the right length", () => {
    const envelope = storeEventToEnvelope(event, now);
    expect(envelope.header).toEqual({ event_id: event.event_id, sent_at: "2026-11-23T08:00:00.000Z" });
    expect(envelope.rawHeader).toBeUndefined();
    expect(envelope.items).toHaveLength(1);
    const item = envelope.items[0]!;
    expect(item.header).toEqual({ type: "event", length: item.payload.byteLength });
    expect(item.raw).toBeUndefined();
    expect(decode(item.payload)).toEqual(event);
  });

  it.each([
    ["hyphenated upper-case", "9EC79C33-EC99-42AB-8353-589FCB2E04DC", "9ec79c33ec9942ab8353589fcb2e04dc"],
    ["32 hex upper-case", "9EC79C33EC9942AB8353589FCB2E04DC", "9ec79c33ec9942ab8353589fcb2e04dc"],
  ])("normalizes a %s event_id in header and payload", (_name, id, expected) => {
    const envelope = storeEventToEnvelope({ event_id: id, message: "x" }, now);
    expect(envelope.header.event_id).toBe(expected);
    expect(decode(envelope.items[0]!.payload).event_id).toBe(expected);
  });

  it.each([
    ["missing", {}],
    ["null", { event_id: null }],
    ["not a uuid", { event_id: "not-an-id" }],
    ["a number", { event_id: 42 }],
  ])("generates a 32-hex id when event_id is %s, and writes it into the payload", (_name, fields) => {
    const envelope = storeEventToEnvelope({ ...fields, message: "x" }, now);
    expect(envelope.header.event_id).toMatch(/^[0-9a-f]{32}$/);
    expect(decode(envelope.items[0]!.payload).event_id).toBe(envelope.header.event_id);
  });

  it.each([
    [{ type: "transaction" }, "transaction"],
    [{ type: "feedback" }, "feedback"],
    [{ type: "error" }, "event"],
    [{ type: "default" }, "event"],
    [{ type: "csp", csp: {} }, "event"],
    [{}, "event"],
  ])("types the item by the event's type: %j → %s", (fields, type) => {
    expect(storeEventToEnvelope(fields, now).items[0]!.header.type).toBe(type);
  });

  it("keeps the old name for the endpoints", () => {
    expect(eventToEnvelope).toBe(storeEventToEnvelope);
  });
});
