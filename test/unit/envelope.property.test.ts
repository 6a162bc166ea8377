import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { concatBytes } from "../../src/bytes";
import { EnvelopeError } from "../../src/envelope/errors";
import { parseEnvelope } from "../../src/envelope/parse";
import { serializeEnvelope } from "../../src/envelope/serialize";

const enc = (s: string) => new TextEncoder().encode(s);
const NEWLINE = 10;
const runs = (n: number) => ({ numRuns: Number(process.env.PROPERTY_RUNS ?? n) });
/** What the parser should give back for a generated JSON value (JSON turns -0 into 0, drops undefined). */
const viaJson = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

const jsonObject = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
// `type` and `length` are set by the item generator itself.
const itemExtra = fc.dictionary(
  fc.string({ maxLength: 8 }).filter((key) => key !== "type" && key !== "length"),
  fc.jsonValue({ maxDepth: 2 }),
  { maxKeys: 3 },
);
const itemType = fc.oneof(
  fc.constantFrom("event", "transaction", "attachment", "session", "span", "log", "client_report", "replay_recording"),
  fc.string({ maxLength: 12 }), // unknown types, "" included
);
// Relay skips JSON whitespace before a header: blank lines, CRLF lines, indentation.
const leadingWhitespace = fc.constantFrom("", "", "", "\n", "\r\n", " \t", "\n\n");
const payload = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.string({ maxLength: 40, unit: "grapheme" }).map(enc),
  fc.constantFrom("\n", "\r\n", "{}\n{}", "").map(enc),
);

/** One generated item, with the bytes an SDK might have written for it. */
const item = fc
  .record({ type: itemType, extra: itemExtra, payload, explicitLength: fc.boolean(), before: leadingWhitespace, newline: fc.boolean() })
  .map(({ type, extra, payload, explicitLength, before, newline }) => {
    // Without `length` a payload ends at its first newline: generate none then.
    const body = explicitLength ? payload : payload.filter((b) => b !== NEWLINE);
    const header = { ...extra, type, ...(explicitLength ? { length: body.byteLength } : {}) };
    return { header, payload: body, before, newline };
  });

const envelope = fc
  .record({ before: leadingWhitespace, header: jsonObject, headerNewline: fc.boolean(), items: fc.array(item, { maxLength: 5 }) })
  .map(({ before, header, headerNewline, items }) => {
    // Only the last part may go without its newline.
    const parts = [enc(`${before}${JSON.stringify(header)}${headerNewline || items.length > 0 ? "\n" : ""}`)];
    items.forEach((it, i) => {
      const last = i === items.length - 1;
      parts.push(enc(`${it.before}${JSON.stringify(it.header)}\n`), it.payload, enc(it.newline || !last ? "\n" : ""));
    });
    return { bytes: concatBytes(parts), header, items };
  });

const expectOnlyEnvelopeErrors = (bytes: Uint8Array) => {
  let parsed;
  try {
    parsed = parseEnvelope(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(EnvelopeError);
    return;
  }
  // Whatever parses must also come back byte for byte.
  expect([...serializeEnvelope(parsed)]).toEqual([...bytes]);
};

describe("envelope properties", () => {
  it("serialize(parse(x)) is x, byte for byte, and headers and payloads come back as generated", () => {
    fc.assert(
      fc.property(envelope, ({ bytes, header, items }) => {
        const parsed = parseEnvelope(bytes);
        expect([...serializeEnvelope(parsed)]).toEqual([...bytes]);
        expect(parsed.header).toEqual(viaJson(header));
        expect(parsed.items).toHaveLength(items.length);
        parsed.items.forEach((p, i) => {
          expect(p.header).toEqual(viaJson(items[i]!.header));
          expect([...p.payload]).toEqual([...items[i]!.payload]);
        });
      }),
      runs(500),
    );
  }, 120_000);

  it("random bytes never throw anything but EnvelopeError", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), expectOnlyEnvelopeErrors), runs(2000));
  }, 120_000);

  it("random envelope-like text never throws anything but EnvelopeError", () => {
    const token = fc.constantFrom("{", "}", "[", "]", '"', ":", ",", "\\", "\n", "\r", " ", "type", "length", "1", "-1", "null", "\xff", "é");
    const text = fc.array(token, { maxLength: 60 }).map((tokens) => enc(tokens.join("")));
    const header = fc.constantFrom('{}\n{"type":"event"', '{}\n{"type":"attachment","length":', '{}\n{', "{");
    fc.assert(fc.property(fc.tuple(header, text), ([h, t]) => expectOnlyEnvelopeErrors(concatBytes([enc(h), t]))), runs(2000));
  }, 120_000);

  it("mutations of valid envelopes never throw anything but EnvelopeError, and what parses round-trips", () => {
    const edit = fc.tuple(fc.constantFrom("set", "insert", "delete"), fc.nat(), fc.constantFrom(0, 10, 13, 32, 34, 48, 92, 123, 125, 255));
    fc.assert(
      fc.property(envelope, fc.array(edit, { minLength: 1, maxLength: 4 }), ({ bytes }, edits) => {
        const copy = [...bytes];
        for (const [kind, at, value] of edits) {
          const i = copy.length ? at % copy.length : 0;
          if (kind === "set" && copy.length) copy[i] = value;
          else if (kind === "insert") copy.splice(i, 0, value);
          else copy.splice(i, 1);
        }
        expectOnlyEnvelopeErrors(new Uint8Array(copy));
      }),
      runs(1000),
    );
  }, 120_000);
});
