import { describe, expect, it } from "vitest";
import { newItem, setEnvelopeHeader, setItemPayload } from "../../src/envelope/envelope";
import { EnvelopeError } from "../../src/envelope/errors";
import { parseEnvelope } from "../../src/envelope/parse";
import { serializeEnvelope } from "../../src/envelope/serialize";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const bytesOf = (...parts: Array<string | number[]>) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? [...enc(p)] : p)));

interface ValidCase {
  name: string;
  input: Uint8Array;
  header: Record<string, unknown>;
  items: Array<{ type: string; payload: string | number[] }>;
}

const ID = "9ec79c33ec9942ab8353589fcb2e04dc";
const valid: ValidCase[] = [
  {
    name: "JS SDK: no length, no trailing newline",
    input: bytesOf(`{"event_id":"${ID}"}\n{"type":"event"}\n{"message":"hi"}`),
    header: { event_id: ID },
    items: [{ type: "event", payload: '{"message":"hi"}' }],
  },
  {
    name: "explicit length and a newline after every item, as other SDKs send",
    input: bytesOf(`{"event_id":"${ID}"}\n{"type":"event","length":16}\n{"message":"hi"}\n{"type":"attachment","length":3}\nabc\n`),
    header: { event_id: ID },
    items: [{ type: "event", payload: '{"message":"hi"}' }, { type: "attachment", payload: "abc" }],
  },
  {
    name: "binary payload containing newlines and NULs",
    input: bytesOf('{}\n{"type":"attachment","length":6}\n', [0, 10, 255, 10, 13, 1], "\n"),
    header: {},
    items: [{ type: "attachment", payload: [0, 10, 255, 10, 13, 1] }],
  },
  {
    name: "explicit length, last item without trailing newline",
    input: bytesOf('{}\n{"type":"attachment","length":3}\nabc'),
    header: {},
    items: [{ type: "attachment", payload: "abc" }],
  },
  {
    name: "empty payload with length 0",
    input: bytesOf('{}\n{"type":"attachment","length":0}\n\n{"type":"event"}\n{}'),
    header: {},
    items: [{ type: "attachment", payload: "" }, { type: "event", payload: "{}" }],
  },
  {
    name: "empty payload without length",
    input: bytesOf('{}\n{"type":"user_report"}\n\n'),
    header: {},
    items: [{ type: "user_report", payload: "" }],
  },
  {
    name: "item header at the very end, no payload line",
    input: bytesOf('{}\n{"type":"client_report"}'),
    header: {},
    items: [{ type: "client_report", payload: "" }],
  },
  {
    name: "header only, no items, no newline",
    input: bytesOf(`{"event_id":"${ID}"}`),
    header: { event_id: ID },
    items: [],
  },
  {
    name: "bare {} header and trailing blank lines",
    input: bytesOf('{}\n{"type":"client_report"}\n{"discarded_events":[]}\n\n\n'),
    header: {},
    items: [{ type: "client_report", payload: '{"discarded_events":[]}' }],
  },
  {
    name: "header with no items but trailing newlines",
    input: bytesOf("{}\n\n"),
    header: {},
    items: [],
  },
  {
    name: "hyphenated event id and a dsn",
    input: bytesOf('{"event_id":"9ec79c33-ec99-42ab-8353-589fcb2e04dc","dsn":"https://k@h/1"}\n{"type":"event"}\n{}\n'),
    header: { event_id: "9ec79c33-ec99-42ab-8353-589fcb2e04dc", dsn: "https://k@h/1" },
    items: [{ type: "event", payload: "{}" }],
  },
  {
    name: "CRLF after header lines and an explicit-length payload",
    input: bytesOf('{}\r\n{"type":"attachment","length":3}\r\nabc\r\n{"type":"event"}\r\n{}'),
    header: {},
    items: [{ type: "attachment", payload: "abc" }, { type: "event", payload: "{}" }],
  },
  {
    name: "blank lines between items",
    input: bytesOf('{}\n{"type":"event"}\n{}\n\n\n{"type":"attachment","length":1}\nx\n'),
    header: {},
    items: [{ type: "event", payload: "{}" }, { type: "attachment", payload: "x" }],
  },
  {
    name: "unknown item type and extra header fields",
    input: bytesOf('{"sdk":{"name":"x"}}\n{"type":"brand_new","content_type":"application/json","x":[1]}\n{"a":1}\n'),
    header: { sdk: { name: "x" } },
    items: [{ type: "brand_new", payload: '{"a":1}' }],
  },
  {
    name: "v11 span batch",
    input: bytesOf('{}\n{"type":"span","item_count":2,"content_type":"application/vnd.sentry.items.span.v2+json"}\n{"version":2,"items":[{},{}]}'),
    header: {},
    items: [{ type: "span", payload: '{"version":2,"items":[{},{}]}' }],
  },
  {
    name: "length: null is treated as absent",
    input: bytesOf('{}\n{"type":"event","length":null}\n{}'),
    header: {},
    items: [{ type: "event", payload: "{}" }],
  },
];

describe("parseEnvelope: valid envelopes", () => {
  it.each(valid)("$name", ({ input, header, items }) => {
    const envelope = parseEnvelope(input);
    expect(envelope.header).toEqual(header);
    expect(envelope.items.map((i) => i.header.type)).toEqual(items.map((i) => i.type));
    envelope.items.forEach((item, n) => {
      const expected = items[n]!.payload;
      expect([...item.payload]).toEqual(typeof expected === "string" ? [...enc(expected)] : expected);
    });
  });

  it.each(valid)("round-trips byte-for-byte: $name", ({ input }) => {
    expect([...serializeEnvelope(parseEnvelope(input))]).toEqual([...input]);
  });
});

describe("parseEnvelope: malformed envelopes", () => {
  it.each([
    ["empty body", "", "empty envelope"],
    ["header not JSON", "{nope\n", "envelope header (line 1) is not valid JSON"],
    ["header is an array", "[1,2]\n", "envelope header (line 1) is not a JSON object"],
    ["header is a number", "42\n", "envelope header (line 1) is not a JSON object"],
    ["header is null", "null", "envelope header (line 1) is not a JSON object"],
    ["item header not JSON", '{}\n{"type":"event"\n{}', "item 0: header is not valid JSON"],
    ["second item header not JSON", '{}\n{"type":"event"}\n{}\nnot json\n', "item 1: header is not valid JSON"],
    ["item header is a string", '{}\n"event"\n{}', "item 0: header is not a JSON object"],
    ["missing type", '{}\n{"length":2}\n{}', 'item 0: header has no "type"'],
    ["non-string type", '{}\n{"type":7}\n{}', 'item 0: header has no "type"'],
    ["empty type", '{}\n{"type":""}\n{}', 'item 0: header has no "type"'],
    ["negative length", '{}\n{"type":"attachment","length":-1}\nx', '"length" must be a non-negative integer, got -1'],
    ["fractional length", '{}\n{"type":"attachment","length":1.5}\nx', "got 1.5"],
    ["string length", '{}\n{"type":"attachment","length":"3"}\nabc', 'got "3"'],
    ["length past the end", '{}\n{"type":"attachment","length":10}\nabc', "item 0 (attachment): length 10 exceeds the remaining 3 bytes"],
    ["no newline after an explicit-length payload", '{}\n{"type":"attachment","length":2}\nabc\n', "item 0 (attachment): expected a newline after its 2-byte payload at byte 38"],
  ])("%s", (_name, input, message) => {
    let thrown: unknown;
    try {
      parseEnvelope(enc(input));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(EnvelopeError);
    expect((thrown as EnvelopeError).message).toContain(message);
  });

  it("names invalid UTF-8 in a header line", () => {
    expect(() => parseEnvelope(bytesOf("{}\n", [0x7b, 0xff, 0x7d], "\n{}"))).toThrowError(/item 0: header is not valid UTF-8/);
  });
});

describe("serializeEnvelope after changes", () => {
  const input = enc('{"event_id":"x"}\n{"type":"event"}\n{"a":1}\n{"type":"attachment","length":3}\nabc');

  it("re-encodes a changed item with its new length and keeps neighbours byte-identical", () => {
    const envelope = parseEnvelope(input);
    envelope.items[0] = setItemPayload(envelope.items[0]!, enc('{"a":"changed"}'));
    expect(dec(serializeEnvelope(envelope))).toBe(
      '{"event_id":"x"}\n{"type":"event","length":15}\n{"a":"changed"}\n{"type":"attachment","length":3}\nabc',
    );
  });

  it("re-encodes a changed header and keeps the items", () => {
    const envelope = setEnvelopeHeader(parseEnvelope(input), { event_id: "y" });
    expect(dec(serializeEnvelope(envelope))).toBe('{"event_id":"y"}\n{"type":"event"}\n{"a":1}\n{"type":"attachment","length":3}\nabc');
  });

  it("separates a new item from a raw last item that had no trailing newline", () => {
    const envelope = parseEnvelope(input);
    envelope.items.push(newItem({ type: "client_report" }, '{"discarded_events":[]}'));
    const out = dec(serializeEnvelope(envelope));
    expect(out.endsWith('abc\n{"type":"client_report","length":23}\n{"discarded_events":[]}\n')).toBe(true);
    expect(parseEnvelope(enc(out)).items.map((i) => i.header.type)).toEqual(["event", "attachment", "client_report"]);
  });

  it("writes new items with explicit lengths so binary payloads survive", () => {
    const payload = new Uint8Array([10, 10, 0, 10]);
    const out = serializeEnvelope({ header: {}, items: [newItem({ type: "attachment" }, payload)] });
    expect([...parseEnvelope(out).items[0]!.payload]).toEqual([...payload]);
  });
});
