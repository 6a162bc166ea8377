import { MAX_JSON_DEPTH, nestsDeeperThan } from "../json/bounded";
import { EnvelopeError } from "./errors";
import type { Envelope, EnvelopeHeader, EnvelopeItem, ItemHeader, StagedPayload } from "./types";

export interface ParseOptions {
  /**
   * Payloads the streaming reader already moved to R2, by the offset in
   * `bytes` where each would have started: there the item's `length` bytes
   * are absent, and the item gets `staged` instead of a payload.
   */
  staged?: ReadonlyMap<number, StagedPayload>;
}

const NEWLINE = 0x0a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
// ignoreBOM keeps a leading U+FEFF in the text, so JSON.parse rejects it as Relay's serde_json does.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Parses a Sentry envelope, accepting what Relay's `Envelope::parse_bytes` accepts
 * (relay-server/src/envelope/mod.rs and item.rs), so nothing taken here is refused
 * upstream for its framing. Relay reads each header with serde_json's stream
 * deserializer, which gives these rules:
 * - JSON whitespace (space, tab, `\r`, `\n`) before a header is skipped, so blank
 *   lines before the envelope header and between items are fine;
 * - the byte right after a header's closing `}` must be `\n` or the end of input,
 *   so `\r\n` line ends and spaces after a header are rejected;
 * - a payload with `length` is exactly that many bytes and must be followed by
 *   `\n` or the end; without `length` it runs to the next `\n` or the end, so a
 *   `\r` before that `\n` belongs to the payload;
 * - after an item's terminating `\n` anything left must be another item: a
 *   second trailing newline is an error ("unexpected end of file" in Relay).
 * One deliberate difference: `length` must be a non-negative integer. Older
 * Relays refuse anything else too (`Option<u32>`); the newest reads any other
 * value as no length, which would silently re-frame the rest of the envelope.
 * Every item keeps its exact input bytes in `raw`, including whitespace skipped
 * before its header. Throws only `EnvelopeError`.
 */
export function parseEnvelope(bytes: Uint8Array, options: ParseOptions = {}): Envelope {
  const start = skipWhitespace(bytes, 0);
  if (start === bytes.byteLength) throw new EnvelopeError("empty envelope: no header");
  const what = `invalid envelope header: line ${countNewlines(bytes, start) + 1}`;
  const { value: header, end: headerEnd } = readObject(bytes, start, what);
  if (!endsLine(bytes, headerEnd)) {
    throw new EnvelopeError(`invalid envelope header: expected a newline after it at byte ${headerEnd}, found ${describe(bytes[headerEnd])}`);
  }
  const rawHeader = bytes.subarray(0, Math.min(headerEnd + 1, bytes.byteLength));

  const items: EnvelopeItem[] = [];
  let offset = rawHeader.byteLength;
  while (offset < bytes.byteLength) {
    const { item, end } = parseItem(bytes, offset, items.length, options.staged);
    items.push(item);
    offset = end;
  }
  return { header: header as EnvelopeHeader, rawHeader, items };
}

function parseItem(
  bytes: Uint8Array,
  segmentStart: number,
  index: number,
  stagedAt: ParseOptions["staged"],
): { item: EnvelopeItem; end: number } {
  const start = skipWhitespace(bytes, segmentStart);
  if (start === bytes.byteLength) {
    throw new EnvelopeError(`item ${index}: expected an item header at byte ${segmentStart}, found only whitespace to the end`);
  }
  const { value, end: headerEnd } = readObject(bytes, start, `item ${index}: header`, ` (at byte ${start})`);
  const header = itemHeader(value, index);
  if (!endsLine(bytes, headerEnd)) {
    throw new EnvelopeError(`item ${index}: expected a newline after the header at byte ${headerEnd}, found ${describe(bytes[headerEnd])}`);
  }
  // The header may be the last thing in the input, newline or not: its payload is then empty.
  const payloadStart = Math.min(headerEnd + 1, bytes.byteLength);

  const staged = header.length !== undefined ? stagedAt?.get(payloadStart) : undefined;
  let payloadEnd: number;
  if (staged) {
    if (staged.length !== header.length) throw new Error(`staged payload of item ${index} has ${staged.length} bytes, its header says ${header.length}`);
    payloadEnd = payloadStart;
    if (!endsLine(bytes, payloadEnd)) {
      throw new EnvelopeError(`item ${index}: expected a newline after the payload, found ${describe(bytes[payloadEnd])}`);
    }
  } else if (header.length === undefined) {
    payloadEnd = lineEnd(bytes, payloadStart);
  } else {
    payloadEnd = payloadStart + header.length;
    if (payloadEnd > bytes.byteLength) {
      throw new EnvelopeError(`item ${index}: length ${header.length} exceeds the remaining ${bytes.byteLength - payloadStart} bytes`);
    }
    if (!endsLine(bytes, payloadEnd)) {
      throw new EnvelopeError(`item ${index}: expected a newline after the payload at byte ${payloadEnd}, found ${describe(bytes[payloadEnd])}`);
    }
  }
  const end = Math.min(payloadEnd + 1, bytes.byteLength);
  if (staged) {
    const frame = { head: bytes.subarray(segmentStart, payloadStart), tail: bytes.subarray(payloadEnd, end) };
    return { item: { header, payload: new Uint8Array(0), staged: { ...staged, frame } }, end };
  }
  return { item: { header, payload: bytes.subarray(payloadStart, payloadEnd), raw: bytes.subarray(segmentStart, end) }, end };
}

function itemHeader(header: Record<string, unknown>, index: number): ItemHeader {
  if (!("type" in header)) throw new EnvelopeError(`item ${index}: missing "type"`);
  // Any string is a type: Relay forwards types it does not know (even "") untouched.
  if (typeof header.type !== "string") {
    throw new EnvelopeError(`item ${index}: "type" must be a string, got ${JSON.stringify(header.type)}`);
  }
  const { length } = header;
  // serde reads `"length": null` as no length.
  if (length === null) delete header.length;
  else if (length !== undefined && !(typeof length === "number" && Number.isSafeInteger(length) && length >= 0)) {
    throw new EnvelopeError(`item ${index}: "length" must be a non-negative integer, got ${JSON.stringify(length)}`);
  }
  return header as ItemHeader;
}

/**
 * Reads the JSON object starting at `from`. Like serde_json's stream reader, it
 * ends at the object's closing brace, wherever the line ends.
 */
function readObject(bytes: Uint8Array, from: number, what: string, where = ""): { value: Record<string, unknown>; end: number } {
  const end = bytes[from] === OPEN_BRACE ? objectEnd(bytes, from) : -1;
  if (end === -1) {
    // Not an object, or one never closed: tell which from the rest of the line.
    const text = decode(bytes.subarray(from, lineEnd(bytes, from)), what, where);
    throw new EnvelopeError(`${what} is ${parses(text) ? "not a JSON object" : "not valid JSON"}${where}`);
  }
  const text = decode(bytes.subarray(from, end), what, where);
  // serde_json's depth limit, as for payloads: Relay refuses such a header, and nothing here walks one.
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) throw new EnvelopeError(`${what} nests deeper than ${MAX_JSON_DEPTH} levels${where}`);
  try {
    // Text that starts with `{` and parses is an object.
    return { value: JSON.parse(text) as Record<string, unknown>, end };
  } catch {
    throw new EnvelopeError(`${what} is not valid JSON${where}`);
  }
}

/** Index just past the brace closing the object that opens at `from`, or -1 if it never closes. */
export function objectEnd(bytes: Uint8Array, from: number): number {
  let depth = 0;
  let inString = false;
  for (let i = from; i < bytes.byteLength; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) {
      inString = true;
    } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      depth++;
    } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
      if (--depth === 0) return i + 1;
    }
  }
  return -1;
}

function decode(bytes: Uint8Array, what: string, where: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new EnvelopeError(`${what} is not valid UTF-8${where}`);
  }
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** True when `at` is a `\n` or the end of input: how Relay requires headers and sized payloads to end. */
function endsLine(bytes: Uint8Array, at: number): boolean {
  return at === bytes.byteLength || bytes[at] === NEWLINE;
}

/** Index of the next `\n` at or after `from`, or the end of input. */
function lineEnd(bytes: Uint8Array, from: number): number {
  const i = bytes.indexOf(NEWLINE, from);
  return i === -1 ? bytes.byteLength : i;
}

/** Past JSON whitespace, which serde_json skips before a value. */
export function skipWhitespace(bytes: Uint8Array, from: number): number {
  let i = from;
  while (i < bytes.byteLength && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  return i;
}

function countNewlines(bytes: Uint8Array, end: number): number {
  let n = 0;
  for (let i = 0; i < end; i++) if (bytes[i] === NEWLINE) n++;
  return n;
}

/** The byte found where a newline should be, for the message: `"\r"`, `"x"` or `0xff`. */
function describe(byte: number | undefined): string {
  if (byte === undefined) return "the end";
  return byte < 0x80 ? JSON.stringify(String.fromCharCode(byte)) : `0x${byte.toString(16)}`;
}
