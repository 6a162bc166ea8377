/**
 * JSON from request bytes, read the way Relay's serde_json reads it: strict
 * UTF-8, and at most `MAX_JSON_DEPTH` levels of nesting. `JSON.parse` itself
 * takes any depth, but every walk after it (scrubbing, re-serializing) would
 * then recurse as deep as the sender chose; refusing deep documents up front
 * bounds every later recursion by a constant.
 */

/** serde_json's default recursion limit, which is what Relay enforces. */
export const MAX_JSON_DEPTH = 128;

export type JsonProblem = "invalid_utf8" | "too_deep" | "invalid_json";
export type JsonResult = { ok: true; value: unknown } | { ok: false; problem: JsonProblem };

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

const QUOTE = 0x22, BACKSLASH = 0x5c, OPEN_ARRAY = 0x5b, CLOSE_ARRAY = 0x5d, OPEN_OBJECT = 0x7b, CLOSE_OBJECT = 0x7d;

/**
 * Whether brackets outside strings nest deeper than `maxDepth`: one linear
 * pass, no parse. Works on UTF-8 bytes and on UTF-16 code units alike, since
 * every structural character is ASCII and no multi-byte sequence contains one.
 */
export function nestsDeeperThan(input: Uint8Array | string, maxDepth: number): boolean {
  if (input.length <= maxDepth) return false;
  return typeof input === "string" ? textNestsDeeper(input, maxDepth) : bytesNestsDeeper(input, maxDepth);
}

// One copy of the scan per input type, so each loop reads its input one way
// (a per-unit callback made the scan cost twice the parse). Strings are
// skipped from quote to quote with indexOf; a quote after an odd run of
// backslashes is escaped, and each run is counted once, at the quote that
// ends it, so the scan stays linear.

function bytesNestsDeeper(bytes: Uint8Array, maxDepth: number): boolean {
  let depth = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === QUOTE) i = closingQuoteInBytes(bytes, i + 1);
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
  }
  return false;
}

/** What each ASCII unit does to the depth outside strings: +1, -1, or 2 for a quote (a string starts). */
const TEXT_STEP = new Int8Array(128);
TEXT_STEP[OPEN_ARRAY] = 1;
TEXT_STEP[OPEN_OBJECT] = 1;
TEXT_STEP[CLOSE_ARRAY] = -1;
TEXT_STEP[CLOSE_OBJECT] = -1;
TEXT_STEP[QUOTE] = 2;

// Text is most of what the relay scans (each JSON item is decoded first), so
// its loop reads one table entry per unit outside strings rather than
// comparing with five characters.
function textNestsDeeper(text: string, maxDepth: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128) continue;
    const step = TEXT_STEP[c]!;
    if (step === 0) continue;
    if (step === 2) i = closingQuoteInText(text, i + 1);
    else if ((depth += step) > maxDepth) return true;
  }
  return false;
}

/** Index of the quote ending the string whose content starts at `from`, or the length if none does. */
function closingQuoteInBytes(bytes: Uint8Array, from: number): number {
  for (let at = from; ; ) {
    const q = bytes.indexOf(QUOTE, at);
    if (q === -1) return bytes.length;
    let run = 0;
    while (q - run > from && bytes[q - run - 1] === BACKSLASH) run++;
    if (run % 2 === 0) return q;
    at = q + 1;
  }
}

function closingQuoteInText(text: string, from: number): number {
  for (let at = from; ; ) {
    const q = text.indexOf('"', at);
    if (q === -1) return text.length;
    if (q === from || text.charCodeAt(q - 1) !== BACKSLASH) return q;
    let run = 0;
    while (q - run > from && text.charCodeAt(q - run - 1) === BACKSLASH) run++;
    if (run % 2 === 0) return q;
    at = q + 1;
  }
}

/** Bytes → JSON value, refusing invalid UTF-8 and documents nested deeper than `maxDepth`. */
export function parseJsonBytes(bytes: Uint8Array, maxDepth: number = MAX_JSON_DEPTH): JsonResult {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return { ok: false, problem: "invalid_utf8" };
  }
  // The decoded text scans faster than the bytes (V8's indexOf on a flat string), with the same answer.
  if (nestsDeeperThan(text, maxDepth)) return { ok: false, problem: "too_deep" };
  return parseChecked(text);
}

/** Text → JSON value, refusing documents nested deeper than `maxDepth`. */
export function parseJsonText(text: string, maxDepth: number = MAX_JSON_DEPTH): JsonResult {
  if (nestsDeeperThan(text, maxDepth)) return { ok: false, problem: "too_deep" };
  return parseChecked(text);
}

function parseChecked(text: string): JsonResult {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, problem: "invalid_json" };
  }
}
