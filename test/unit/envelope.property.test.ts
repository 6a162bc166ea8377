import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EnvelopeError } from "../../src/envelope/errors";
import { parseEnvelope } from "../../src/envelope/parse";
import { serializeEnvelope } from "../../src/envelope/serialize";

const enc = (s: string) => new TextEncoder().encode(s);
const NEWLINE = 10;

const jsonObject = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
// `type` and `length` are set by the item generator itself.
const itemExtra = fc.dictionary(
  fc.string({ maxLength: 8 }).filter((key) => key !== "type" && key !== "length"),
  fc.jsonValue({ maxDepth: 2 }),
  { maxKeys: 4 },
);
const itemType = fc.constantFrom("event", "transaction", "attachment", "session", "span", "log", "client_report", "something_new");

/** One generated item, and the bytes an SDK might have written for it. */
const item = fc
  .record({
    type: itemType,
    extra: itemExtra,
    payload: fc.uint8Array({ maxLength: 64 }),
    explicitLength: fc.boolean(),
    newline: fc.constantFrom("\n", "\r\n", ""),
  })
  .map(({ type, extra, payload, explicitLength, newline }) => {
    // Without `length`, a payload ends at its first newline: generate none.
    const body = explicitLength ? payload : payload.filter((b) => b !== NEWLINE);
    const header = { ...extra, type, ...(explicitLength ? { length: body.byteLength } : {}) };
    const tail = !explicitLength && newline === "\r\n" ? "\n" : newline; // an implicit payload keeps its \r
    return { header, payload: body, tail, explicitLength };
  });

const envelope = fc.record({ header: jsonObject, items: fc.array(item, { maxLength: 5 }) }).map(({ header, items }) => {
  const parts: Uint8Array[] = [enc(`${JSON.stringify(header)}\n`)];
  items.forEach((it, i) => {
    const last = i === items.length - 1;
    // Only the last item may go without a newline.
    const tail = last ? it.tail : it.tail || "\n";
    parts.push(enc(`${JSON.stringify(it.header)}\n`), it.payload, enc(tail));
  });
  const size = parts.reduce((n, p) => n + p.byteLength, 0);
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const p of parts) {
    bytes.set(p, offset);
    offset += p.byteLength;
  }
  return { bytes, items };
});

describe("envelope properties", () => {
  it("serialize(parse(x)) is x, byte for byte, and payloads come back as generated", () => {
    fc.assert(
      fc.property(envelope, ({ bytes, items }) => {
        const parsed = parseEnvelope(bytes);
        expect([...serializeEnvelope(parsed)]).toEqual([...bytes]);
        const lastIsBlank = items.length > 0 && items[items.length - 1]!.payload.byteLength === 0;
        // A trailing item whose header is followed only by whitespace parses the same.
        expect(parsed.items.length).toBe(items.length);
        parsed.items.forEach((p, i) => {
          const expected = items[i]!;
          expect(p.header.type).toBe(expected.header.type);
          if (!(lastIsBlank && i === items.length - 1)) expect([...p.payload]).toEqual([...expected.payload]);
        });
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 500) },
    );
  }, 120_000);

  it("random bytes never throw anything but EnvelopeError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          parseEnvelope(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(EnvelopeError);
        }
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 2000) },
    );
  }, 120_000);

  it("mutations of valid envelopes never throw anything but EnvelopeError, and what parses round-trips", () => {
    const mutated = fc.tuple(envelope, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }));
    fc.assert(
      fc.property(mutated, ([{ bytes }, edits]) => {
        const copy = bytes.slice();
        for (const [at, value] of edits) if (copy.length) copy[at % copy.length] = value;
        let parsed;
        try {
          parsed = parseEnvelope(copy);
        } catch (err) {
          expect(err).toBeInstanceOf(EnvelopeError);
          return;
        }
        expect([...serializeEnvelope(parsed)]).toEqual([...copy]);
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 1000) },
    );
  }, 120_000);
});
