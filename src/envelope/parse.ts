import { EnvelopeError } from "./errors";
import type { Envelope, EnvelopeHeader, EnvelopeItem, ItemHeader } from "./types";

const NEWLINE = 0x0a;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * Parses a Sentry envelope with Relay's tolerance: items with or without
 * `length`, binary payloads, no trailing newline, blank lines between items,
 * CRLF line ends on header lines (JSON treats the `\r` as whitespace), trailing
 * whitespace at the end. Every item keeps its exact input bytes in `raw`.
 * Throws only `EnvelopeError`.
 */
export function parseEnvelope(bytes: Uint8Array): Envelope {
  if (bytes.byteLength === 0) throw new EnvelopeError("empty envelope: no header line");
  const headerEnd = lineEnd(bytes, 0);
  const header = jsonObject(bytes.subarray(0, headerEnd), "envelope header (line 1)") as EnvelopeHeader;
  let offset = Math.min(headerEnd + 1, bytes.byteLength);

  let rawHeaderEnd = offset;
  const items: EnvelopeItem[] = [];
  while (offset < bytes.byteLength) {
    const start = offset;
    offset = skipWhitespace(bytes, offset);
    if (offset >= bytes.byteLength) {
      // Trailing blank lines stay with the last segment, so they survive a round trip.
      const last = items[items.length - 1];
      if (last) last.raw = bytes.subarray(last.raw!.byteOffset - bytes.byteOffset, bytes.byteLength);
      else rawHeaderEnd = bytes.byteLength;
      break;
    }
    const index = items.length;
    const itemHeaderEnd = lineEnd(bytes, offset);
    const header = itemHeader(bytes.subarray(offset, itemHeaderEnd), index);
    const payloadStart = Math.min(itemHeaderEnd + 1, bytes.byteLength);

    let payloadEnd: number;
    if (header.length !== undefined) {
      payloadEnd = payloadStart + header.length;
      if (payloadEnd > bytes.byteLength) {
        throw new EnvelopeError(`item ${index} (${header.type}): length ${header.length} exceeds the remaining ${bytes.byteLength - payloadStart} bytes`);
      }
      if (endOfLine(bytes, payloadEnd) === payloadEnd && payloadEnd < bytes.byteLength) {
        throw new EnvelopeError(`item ${index} (${header.type}): expected a newline after its ${header.length}-byte payload at byte ${payloadEnd}`);
      }
    } else {
      payloadEnd = lineEnd(bytes, payloadStart);
    }
    offset = endOfLine(bytes, payloadEnd);
    items.push({ header, payload: bytes.subarray(payloadStart, payloadEnd), raw: bytes.subarray(start, offset) });
  }
  return { header, rawHeader: bytes.subarray(0, rawHeaderEnd), items };
}

/** Index of the next `\n` at or after `from`, or the end of input. */
function lineEnd(bytes: Uint8Array, from: number): number {
  const i = bytes.indexOf(NEWLINE, from);
  return i === -1 ? bytes.byteLength : i;
}

/** Past the `\n` (or `\r\n`) at `at`, if there is one. */
function endOfLine(bytes: Uint8Array, at: number): number {
  if (bytes[at] === NEWLINE) return at + 1;
  if (bytes[at] === 0x0d && bytes[at + 1] === NEWLINE) return at + 2;
  return at;
}

function skipWhitespace(bytes: Uint8Array, from: number): number {
  let i = from;
  while (i < bytes.byteLength && (bytes[i] === NEWLINE || bytes[i] === 0x0d || bytes[i] === 0x20 || bytes[i] === 0x09)) i++;
  return i;
}

function jsonObject(line: Uint8Array, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = utf8.decode(line);
  } catch {
    throw new EnvelopeError(`${what} is not valid UTF-8`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new EnvelopeError(`${what} is not valid JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new EnvelopeError(`${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function itemHeader(line: Uint8Array, index: number): ItemHeader {
  const header = jsonObject(line, `item ${index}: header`);
  if (typeof header.type !== "string" || header.type === "") {
    throw new EnvelopeError(`item ${index}: header has no "type"`);
  }
  const { length } = header;
  if (length === null) delete header.length;
  else if (length !== undefined && !(typeof length === "number" && Number.isInteger(length) && length >= 0)) {
    throw new EnvelopeError(`item ${index} (${header.type}): "length" must be a non-negative integer, got ${JSON.stringify(length)}`);
  }
  return header as ItemHeader;
}
