import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { concatBytes } from "../../src/bytes";
import { enc, envelope, runs, viaJson } from "./support/envelope-arbitrary";
import { EnvelopeError } from "../../src/envelope/errors";
import { parseEnvelope } from "../../src/envelope/parse";
import { serializeEnvelope } from "../../src/envelope/serialize";

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
