import { deflateRawSync, deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { RelayError } from "../../src/http/errors";
import { decodeStoreBody, eventToEnvelope } from "../../src/ingest/store";

const enc = (s: string) => new TextEncoder().encode(s);
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const event = { event_id: "aa".repeat(16), message: "hello", extra: { n: 1 } };
const json = JSON.stringify(event);
const MAX = 1024 * 1024;

describe("decodeStoreBody", () => {
  it.each([
    ["plain JSON", json],
    ["JSON with leading whitespace", `\n  ${json}`],
    ["base64 of zlib-deflated JSON", b64(deflateSync(json))],
    ["base64 of raw-deflated JSON", b64(deflateRawSync(json))],
    ["url-safe base64 without padding", b64(deflateSync(json)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")],
    ["base64 wrapped over lines", b64(deflateSync(json)).replace(/(.{20})/g, "$1\n")],
    ["base64 of plain JSON", b64(enc(json))],
  ])("decodes %s", (_name, body) => {
    expect(decodeStoreBody(enc(body), MAX)).toEqual(event);
  });

  it.each([
    ["", 400, "store body is empty"],
    ["{not json", 400, "store body is not valid JSON"],
    ["[1,2]", 400, "neither JSON nor base64"],
    ["%%%", 400, "neither JSON nor base64"],
    [b64(enc("just some bytes that are not deflated")), 400, "not zlib-deflated JSON"],
    [b64(deflateSync("[1]")), 400, "store body is not a JSON object"],
  ])("refuses %j", (body, status, detail) => {
    try {
      decodeStoreBody(enc(body), MAX);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(RelayError);
      expect((err as RelayError).status).toBe(status);
      expect((err as RelayError).detail).toContain(detail);
    }
  });

  it("stops inflating at the cap", () => {
    const bomb = b64(deflateSync(`{"x":"${"a".repeat(5 * MAX)}"}`));
    expect(() => decodeStoreBody(enc(bomb), MAX)).toThrowError(/decompressed body exceeds/);
  });
});

describe("eventToEnvelope", () => {
  const now = new Date("2026-11-23T08:00:00Z");
  it("wraps an event with its id in the header", () => {
    const envelope = eventToEnvelope(event, now);
    expect(envelope.header).toEqual({ event_id: event.event_id, sent_at: "2026-11-23T08:00:00.000Z" });
    expect(envelope.items).toHaveLength(1);
    expect(envelope.items[0]!.header).toMatchObject({ type: "event" });
    expect(JSON.parse(new TextDecoder().decode(envelope.items[0]!.payload))).toEqual(event);
  });
  it("normalizes a hyphenated id and generates a missing one", () => {
    expect(eventToEnvelope({ event_id: "9EC79C33-EC99-42AB-8353-589FCB2E04DC" }, now).header.event_id).toBe("9ec79c33ec9942ab8353589fcb2e04dc");
    expect(eventToEnvelope({ message: "x" }, now).header.event_id).toMatch(/^[0-9a-f]{32}$/);
  });
  it("uses a transaction item for transactions", () => {
    expect(eventToEnvelope({ type: "transaction" }, now).items[0]!.header.type).toBe("transaction");
  });
});
