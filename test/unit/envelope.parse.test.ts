import { describe, expect, it } from "vitest";
import { EnvelopeError } from "../../src/envelope/errors";
import { parseEnvelope } from "../../src/envelope/parse";
import { serializeEnvelope } from "../../src/envelope/serialize";

const enc = (s: string) => new TextEncoder().encode(s);
const bytesOf = (...parts: Array<string | number[]>) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? [...enc(p)] : p)));

interface ValidCase {
  name: string;
  input: Uint8Array;
  header: Record<string, unknown>;
  items: Array<{ header: Record<string, unknown>; payload: string | number[] }>;
}

const ID = "9ec79c33ec9942ab8353589fcb2e04dc";
const valid: ValidCase[] = [
  {
    name: "JS SDK: no length, no trailing newline",
    input: bytesOf(`{"event_id":"${ID}"}\n{"type":"event"}\n{"message":"hi"}`),
    header: { event_id: ID },
    items: [{ header: { type: "event" }, payload: '{"message":"hi"}' }],
  },
  {
    name: "explicit length and a newline after every item, as other SDKs send",
    input: bytesOf(`{"event_id":"${ID}"}\n{"type":"event","length":16}\n{"message":"hi"}\n{"type":"attachment","length":3}\nabc\n`),
    header: { event_id: ID },
    items: [
      { header: { type: "event", length: 16 }, payload: '{"message":"hi"}' },
      { header: { type: "attachment", length: 3 }, payload: "abc" },
    ],
  },
  {
    name: "no length and a newline after every item",
    input: bytesOf('{}\n{"type":"event"}\n{"a":1}\n{"type":"session"}\n{"sid":"x"}\n'),
    header: {},
    items: [
      { header: { type: "event" }, payload: '{"a":1}' },
      { header: { type: "session" }, payload: '{"sid":"x"}' },
    ],
  },
  {
    name: "binary attachment containing newlines, CRs, NULs and invalid UTF-8",
    input: bytesOf('{}\n{"type":"attachment","length":7,"filename":"core.dmp"}\n', [0, 10, 255, 10, 13, 10, 1], "\n"),
    header: {},
    items: [{ header: { type: "attachment", length: 7, filename: "core.dmp" }, payload: [0, 10, 255, 10, 13, 10, 1] }],
  },
  {
    name: "explicit length, last item without trailing newline",
    input: bytesOf('{}\n{"type":"attachment","length":3}\nabc'),
    header: {},
    items: [{ header: { type: "attachment", length: 3 }, payload: "abc" }],
  },
  {
    name: "length 0 followed by its newline and another item",
    input: bytesOf('{}\n{"type":"attachment","length":0}\n\n{"type":"event"}\n{}'),
    header: {},
    items: [
      { header: { type: "attachment", length: 0 }, payload: "" },
      { header: { type: "event" }, payload: "{}" },
    ],
  },
  {
    name: "two empty attachments, the last header ending the input (Relay's test)",
    input: bytesOf('{}\n{"type":"attachment","length":0}\n\n{"type":"attachment","length":0}'),
    header: {},
    items: [
      { header: { type: "attachment", length: 0 }, payload: "" },
      { header: { type: "attachment", length: 0 }, payload: "" },
    ],
  },
  {
    name: "empty payload without length: header line then an empty line",
    input: bytesOf('{}\n{"type":"user_report"}\n\n{"type":"event"}\n{}\n'),
    header: {},
    items: [
      { header: { type: "user_report" }, payload: "" },
      { header: { type: "event" }, payload: "{}" },
    ],
  },
  {
    name: "item header ending the input, no newline",
    input: bytesOf('{}\n{"type":"client_report"}'),
    header: {},
    items: [{ header: { type: "client_report" }, payload: "" }],
  },
  {
    name: "item header and its newline ending the input",
    input: bytesOf('{}\n{"type":"client_report"}\n'),
    header: {},
    items: [{ header: { type: "client_report" }, payload: "" }],
  },
  {
    name: "header only, no newline",
    input: bytesOf(`{"event_id":"${ID}"}`),
    header: { event_id: ID },
    items: [],
  },
  {
    name: "header only, with its newline",
    input: bytesOf(`{"event_id":"${ID}"}\n`),
    header: { event_id: ID },
    items: [],
  },
  {
    name: "bare {} header of a browser client report",
    input: bytesOf('{}\n{"type":"client_report"}\n{"timestamp":1,"discarded_events":[]}'),
    header: {},
    items: [{ header: { type: "client_report" }, payload: '{"timestamp":1,"discarded_events":[]}' }],
  },
  {
    name: "hyphenated event id, dsn and sdk",
    input: bytesOf('{"event_id":"9ec79c33-ec99-42ab-8353-589fcb2e04dc","dsn":"https://k@h/1","sdk":{"name":"s","version":"1"}}\n{"type":"event"}\n{}\n'),
    header: { event_id: "9ec79c33-ec99-42ab-8353-589fcb2e04dc", dsn: "https://k@h/1", sdk: { name: "s", version: "1" } },
    items: [{ header: { type: "event" }, payload: "{}" }],
  },
  {
    name: "CRLF: a \\r before the newline ending a payload without length is payload",
    input: bytesOf('{}\n{"type":"event"}\n{"a":1}\r\n{"type":"event"}\n{}\r\n'),
    header: {},
    items: [
      { header: { type: "event" }, payload: '{"a":1}\r' },
      { header: { type: "event" }, payload: "{}\r" },
    ],
  },
  {
    name: "CRLF: a sized payload may contain \\r\\n (Relay's BOM + Hello\\r\\n test)",
    input: bytesOf('{}\n{"type":"attachment","length":10}\n', [0xef, 0xbb, 0xbf], "Hello\r\n\n"),
    header: {},
    items: [{ header: { type: "attachment", length: 10 }, payload: [0xef, 0xbb, 0xbf, ...enc("Hello\r\n")] }],
  },
  {
    name: "CRLF: blank CRLF lines before an item header are skipped",
    input: bytesOf('{}\n\r\n\r\n{"type":"event"}\n{}'),
    header: {},
    items: [{ header: { type: "event" }, payload: "{}" }],
  },
  {
    name: "whitespace and blank lines before the envelope header",
    input: bytesOf(' \n\t\r\n{"event_id":"x"}\n{"type":"event"}\n{}'),
    header: { event_id: "x" },
    items: [{ header: { type: "event" }, payload: "{}" }],
  },
  {
    name: "blank lines and indentation between items",
    input: bytesOf('{}\n{"type":"event"}\n{}\n\n\n  {"type":"attachment","length":1}\nx\n'),
    header: {},
    items: [
      { header: { type: "event" }, payload: "{}" },
      { header: { type: "attachment", length: 1 }, payload: "x" },
    ],
  },
  {
    name: "headers spread over several lines, as serde_json reads them",
    input: bytesOf('{\n  "event_id": "x"\n}\n{"type":\n"event"}\n{}'),
    header: { event_id: "x" },
    items: [{ header: { type: "event" }, payload: "{}" }],
  },
  {
    name: "braces, quotes and non-ASCII inside header strings",
    input: bytesOf('{"a":"}{\\"]["}\n{"type":"attachment","filename":"rés}umé\\".txt","length":2}\nhi'),
    header: { a: '}{"][' },
    items: [{ header: { type: "attachment", filename: 'rés}umé".txt', length: 2 }, payload: "hi" }],
  },
  {
    name: "unknown item types (even an empty one) and extra header fields",
    input: bytesOf('{"sdk":{"name":"x"}}\n{"type":"brand_new","content_type":"application/json","x":[1]}\n{"a":1}\n{"type":""}\nzz'),
    header: { sdk: { name: "x" } },
    items: [
      { header: { type: "brand_new", content_type: "application/json", x: [1] }, payload: '{"a":1}' },
      { header: { type: "" }, payload: "zz" },
    ],
  },
  {
    name: "v11 span batch",
    input: bytesOf('{}\n{"type":"span","item_count":2,"content_type":"application/vnd.sentry.items.span.v2+json"}\n{"version":2,"items":[{},{}]}'),
    header: {},
    items: [
      {
        header: { type: "span", item_count: 2, content_type: "application/vnd.sentry.items.span.v2+json" },
        payload: '{"version":2,"items":[{},{}]}',
      },
    ],
  },
  {
    name: "length: null is read as no length",
    input: bytesOf('{}\n{"type":"event","length":null}\n{}'),
    header: {},
    items: [{ header: { type: "event" }, payload: "{}" }],
  },
];

const expectedBytes = (payload: string | number[]) => (typeof payload === "string" ? [...enc(payload)] : payload);

describe("parseEnvelope: valid envelopes", () => {
  it.each(valid)("$name", ({ input, header, items }) => {
    const envelope = parseEnvelope(input);
    expect(envelope.header).toEqual(header);
    expect(envelope.items.map((i) => i.header)).toEqual(items.map((i) => i.header));
    envelope.items.forEach((item, n) => expect([...item.payload]).toEqual(expectedBytes(items[n]!.payload)));
  });

  it.each(valid)("raw parts are views of the input that tile it exactly: $name", ({ input }) => {
    const envelope = parseEnvelope(input);
    const parts = [envelope.rawHeader!, ...envelope.items.map((i) => i.raw!)];
    let offset = 0;
    for (const part of parts) {
      expect(part.buffer).toBe(input.buffer);
      expect(part.byteOffset).toBe(input.byteOffset + offset);
      offset += part.byteLength;
    }
    expect(offset).toBe(input.byteLength);
  });

  it.each(valid)("serializeEnvelope(parseEnvelope(x)) is x: $name", ({ input }) => {
    expect([...serializeEnvelope(parseEnvelope(input))]).toEqual([...input]);
  });

  it("keeps the header line and its newline as rawHeader, and whole items as raw", () => {
    const envelope = parseEnvelope(enc('{"a":1}\n{"type":"event"}\n{}\n{"type":"attachment","length":1}\nx'));
    expect(new TextDecoder().decode(envelope.rawHeader)).toBe('{"a":1}\n');
    expect(envelope.items.map((i) => new TextDecoder().decode(i.raw))).toEqual(['{"type":"event"}\n{}\n', '{"type":"attachment","length":1}\nx']);
  });

  it("parses an input that is a view into a larger buffer", () => {
    const whole = enc('garbage{}\n{"type":"event"}\n{}more');
    const view = whole.subarray(7, whole.byteLength - 4);
    const envelope = parseEnvelope(view);
    expect(envelope.items[0]!.payload).toEqual(enc("{}"));
    expect([...serializeEnvelope(envelope)]).toEqual([...view]);
  });
});

describe("parseEnvelope: malformed envelopes", () => {
  it.each<[string, string | Uint8Array, string]>([
    ["empty body", "", "empty envelope: no header"],
    ["only whitespace", "\n \r\n", "empty envelope: no header"],
    ["header not JSON", "{nope\n", "invalid envelope header: line 1 is not valid JSON"],
    ["header never closed", '{"event_id":"x"\n{"type":"event"}\n{}', "invalid envelope header: line 1 is not valid JSON"],
    ["header is an array", "[1,2]\n", "invalid envelope header: line 1 is not a JSON object"],
    ["header is a number", "42\n", "invalid envelope header: line 1 is not a JSON object"],
    ["header is null", "null", "invalid envelope header: line 1 is not a JSON object"],
    ["header is a string", '"{}"\n', "invalid envelope header: line 1 is not a JSON object"],
    ["header after blank lines names its line", '\n\n[]\n', "invalid envelope header: line 3 is not a JSON object"],
    ["header starts with a UTF-8 BOM", bytesOf([0xef, 0xbb, 0xbf], "{}\n"), "invalid envelope header: line 1 is not valid JSON"],
    ["header ended by CRLF (Relay: missing newline)", '{}\r\n{"type":"event"}\n{}', 'invalid envelope header: expected a newline after it at byte 2, found "\\r"'],
    ["header followed by a space", '{} \n{"type":"event"}\n{}', 'invalid envelope header: expected a newline after it at byte 2, found " "'],
    ["two headers on one line", "{}{}\n", 'invalid envelope header: expected a newline after it at byte 2, found "{"'],
    ["item header not JSON", '{}\n{"type":"event"\n{}', "item 0: header is not valid JSON (at byte 3)"],
    ["second item header not JSON", '{}\n{"type":"event"}\n{}\nnot json\n', "item 1: header is not valid JSON (at byte 23)"],
    ["item header is a string", '{}\n"event"\n{}', "item 0: header is not a JSON object (at byte 3)"],
    ["item header is an array", '{}\n[{"type":"event"}]\n{}', "item 0: header is not a JSON object (at byte 3)"],
    ["item header ended by CRLF", '{}\n{"type":"event"}\r\n{}', 'item 0: expected a newline after the header at byte 19, found "\\r"'],
    ["missing type", '{}\n{"length":2}\n{}', 'item 0: missing "type"'],
    ["non-string type", '{}\n{"type":7}\n{}', 'item 0: "type" must be a string, got 7'],
    ["null type", '{}\n{"type":null}\n{}', 'item 0: "type" must be a string, got null'],
    ["negative length", '{}\n{"type":"attachment","length":-1}\nx', 'item 0: "length" must be a non-negative integer, got -1'],
    ["fractional length", '{}\n{"type":"attachment","length":1.5}\nx', 'item 0: "length" must be a non-negative integer, got 1.5'],
    ["string length", '{}\n{"type":"attachment","length":"3"}\nabc', 'item 0: "length" must be a non-negative integer, got "3"'],
    ["boolean length", '{}\n{"type":"attachment","length":true}\nabc', 'item 0: "length" must be a non-negative integer, got true'],
    ["length past the end", '{}\n{"type":"attachment","length":10}\nabc', "item 0: length 10 exceeds the remaining 3 bytes"],
    ["length with no payload line at all", '{}\n{"type":"event"}\n{}\n{"type":"attachment","length":1}', "item 1: length 1 exceeds the remaining 0 bytes"],
    ["no newline after a sized payload", '{}\n{"type":"attachment","length":2}\nabc\n', 'item 0: expected a newline after the payload at byte 38, found "c"'],
    ["CRLF after a sized payload", '{}\n{"type":"attachment","length":3}\nabc\r\n', 'item 0: expected a newline after the payload at byte 39, found "\\r"'],
    ["a second newline after the last item (Relay: unexpected end of file)", '{}\n{"type":"event"}\n{}\n\n', "item 1: expected an item header at byte 23, found only whitespace to the end"],
    ["trailing spaces after the last item", '{}\n{"type":"attachment","length":1}\nx\n  ', "item 1: expected an item header at byte 38, found only whitespace to the end"],
    ["a blank line after a header-only envelope", "{}\n\n", "item 0: expected an item header at byte 3, found only whitespace to the end"],
    ["invalid UTF-8 in the envelope header", bytesOf('{"a":"', [0xff], '"}\n'), "invalid envelope header: line 1 is not valid UTF-8"],
    ["invalid UTF-8 in an item header", bytesOf('{}\n{"type":"', [0xc3, 0x28], '"}\n{}'), "item 0: header is not valid UTF-8 (at byte 3)"],
  ])("%s", (_name, input, message) => {
    let thrown: unknown;
    try {
      parseEnvelope(typeof input === "string" ? enc(input) : input);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(EnvelopeError);
    expect((thrown as EnvelopeError).name).toBe("EnvelopeError");
    expect((thrown as EnvelopeError).message).toBe(message);
  });
});
