import { describe, expect, it } from "vitest";
import { createEnvelope, itemJson, newItem, setEnvelopeHeader, setItemHeader, setItemPayload } from "../../src/envelope/envelope";
import { EnvelopeError } from "../../src/envelope/errors";
import { parseEnvelope } from "../../src/envelope/parse";
import { serializeEnvelope } from "../../src/envelope/serialize";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

// Round trips of every valid form are in envelope.parse.test.ts, next to the table of forms.

describe("serializeEnvelope after changes", () => {
  const input = enc('{"event_id":"x"}\n{"type":"event"}\n{"a":1}\n{"type":"attachment","length":3}\nabc\n{"type":"session"}\n{"sid":"s"}');

  it("re-encodes a changed item with its new length and keeps its neighbours byte-identical", () => {
    const envelope = parseEnvelope(input);
    envelope.items[1] = setItemPayload(envelope.items[1]!, enc("new\npayload"));
    expect(dec(serializeEnvelope(envelope))).toBe(
      '{"event_id":"x"}\n{"type":"event"}\n{"a":1}\n{"type":"attachment","length":11}\nnew\npayload\n{"type":"session"}\n{"sid":"s"}',
    );
  });

  it("replaces a stale length when the payload shrinks", () => {
    const envelope = parseEnvelope(input);
    envelope.items[1] = setItemPayload(envelope.items[1]!, enc("z"));
    const out = serializeEnvelope(envelope);
    expect(dec(out)).toContain('{"type":"attachment","length":1}\nz\n');
    expect(parseEnvelope(out).items.map((i) => dec(i.payload))).toEqual(['{"a":1}', "z", '{"sid":"s"}']);
  });

  it("re-encodes a changed item header and keeps the payload", () => {
    const envelope = parseEnvelope(input);
    envelope.items[0] = setItemHeader(envelope.items[0]!, { type: "event", content_type: "application/json" });
    expect(dec(serializeEnvelope(envelope))).toBe(
      '{"event_id":"x"}\n{"type":"event","content_type":"application/json","length":7}\n{"a":1}\n{"type":"attachment","length":3}\nabc\n{"type":"session"}\n{"sid":"s"}',
    );
  });

  it("re-encodes a changed envelope header and keeps the items", () => {
    const envelope = setEnvelopeHeader(parseEnvelope(input), { event_id: "y", dsn: "https://k@h/1" });
    expect(envelope.rawHeader).toBeUndefined();
    expect(dec(serializeEnvelope(envelope))).toBe(
      '{"event_id":"y","dsn":"https://k@h/1"}\n{"type":"event"}\n{"a":1}\n{"type":"attachment","length":3}\nabc\n{"type":"session"}\n{"sid":"s"}',
    );
  });

  it("drops an item and leaves the others byte-identical", () => {
    const envelope = parseEnvelope(input);
    envelope.items.splice(1, 1);
    expect(dec(serializeEnvelope(envelope))).toBe('{"event_id":"x"}\n{"type":"event"}\n{"a":1}\n{"type":"session"}\n{"sid":"s"}');
  });

  it("separates a new item from a raw last item that had no trailing newline", () => {
    const envelope = parseEnvelope(input);
    envelope.items.push(newItem({ type: "client_report" }, '{"discarded_events":[]}'));
    const out = dec(serializeEnvelope(envelope));
    expect(out.endsWith('{"sid":"s"}\n{"type":"client_report","length":23}\n{"discarded_events":[]}\n')).toBe(true);
    expect(parseEnvelope(enc(out)).items.map((i) => i.header.type)).toEqual(["event", "attachment", "session", "client_report"]);
  });

  it("separates items when a raw item without its newline is moved before another", () => {
    const envelope = parseEnvelope(input);
    envelope.items.reverse();
    const reparsed = parseEnvelope(serializeEnvelope(envelope));
    expect(reparsed.items.map((i) => dec(i.payload))).toEqual(['{"sid":"s"}', "abc", '{"a":1}']);
  });

  it("separates a new item from a header-only envelope with no newline", () => {
    const envelope = parseEnvelope(enc('{"event_id":"x"}'));
    envelope.items.push(newItem({ type: "event" }, "{}"));
    expect(dec(serializeEnvelope(envelope))).toBe('{"event_id":"x"}\n{"type":"event","length":2}\n{}\n');
  });

  it("writes new items with explicit lengths so binary payloads survive", () => {
    const payload = new Uint8Array([10, 10, 0, 13, 10, 255]);
    const out = serializeEnvelope(createEnvelope({}, [newItem({ type: "attachment", length: 99 }, payload), newItem({ type: "event" }, "")]));
    expect(dec(out.subarray(0, 36))).toBe('{}\n{"type":"attachment","length":6}\n');
    const reparsed = parseEnvelope(out);
    expect([...reparsed.items[0]!.payload]).toEqual([...payload]);
    expect(reparsed.items[1]!.payload.byteLength).toBe(0);
  });

  it("writes a built envelope exactly", () => {
    const envelope = createEnvelope({ event_id: "e" }, [newItem({ type: "event" }, '{"m":1}')]);
    expect(dec(serializeEnvelope(envelope))).toBe('{"event_id":"e"}\n{"type":"event","length":7}\n{"m":1}\n');
  });
});

describe("envelope helpers", () => {
  const item = parseEnvelope(enc('{}\n{"type":"event","length":7}\n{"a":1}')).items[0]!;

  it("never mutate their input", () => {
    const changed = setItemPayload(item, enc("{}"));
    expect(item.raw).toBeDefined();
    expect(item.header.length).toBe(7);
    expect(changed.raw).toBeUndefined();
    expect(changed.header).toEqual({ type: "event" });
  });

  it("newItem drops a stale length and encodes string payloads as UTF-8", () => {
    const built = newItem({ type: "attachment", length: 1, filename: "é.txt" }, "é");
    expect(built.header).toEqual({ type: "attachment", filename: "é.txt" });
    expect([...built.payload]).toEqual([0xc3, 0xa9]);
  });

  it("itemJson parses the payload", () => {
    expect(itemJson(item)).toEqual({ a: 1 });
  });

  it("itemJson throws an EnvelopeError naming the item type when the payload is not JSON", () => {
    expect(() => itemJson(newItem({ type: "event" }, "{nope"))).toThrowError(EnvelopeError);
    expect(() => itemJson(newItem({ type: "event" }, "{nope"))).toThrowError("event item payload is not valid JSON");
  });
});
