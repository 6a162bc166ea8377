import fc from "fast-check";
import { concatBytes } from "../../../src/bytes";

/** Generated envelopes for property tests, with the bytes an SDK might have written. */
export const enc = (s: string) => new TextEncoder().encode(s);
const NEWLINE = 10;
export const runs = (n: number) => ({ numRuns: Number(process.env.PROPERTY_RUNS ?? n) });
/** What the parser should give back for a generated JSON value (JSON turns -0 into 0, drops undefined). */
export const viaJson = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

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

export const envelope = fc
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

