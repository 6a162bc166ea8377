import { isAlnum, isDigit, isHex, isWord, type Spans } from "./chars";

const DOT = 46;
const COLON = 58;
const PERCENT = 37;
const DASH = 45;
const SLASH = 47;
const AT = 64;

/** The characters an address is written in: hex digits, dots and colons. */
const inRun = (c: number): boolean => isHex(c) || c === DOT || c === COLON;

/**
 * IPv4 and IPv6 addresses where an address can stand, in one pass: each
 * maximal run of hex digits, dots and colons is read once and judged whole.
 *
 * A dotted quad is not an address inside a version: after a letter, `_`, `/`,
 * `-` or `@` (`Chrome/120.0.0.0`, `v10.0.0.1`, Sentry's `app@2.1.0.4`), before a letter, `_` or `-`
 * (`11.3.244.8-node.38`), or as part of a longer dotted run (`1.2.3.4.5`,
 * `10.0.19045.1`). A port (`10.0.0.1:8080`), a CIDR suffix, brackets, quotes
 * and a sentence's closing dot are fine. IPv6 is any valid textual form
 * (compressed, with an embedded IPv4, with a `%zone`), not after or before a
 * letter; bare `::` is not taken for an address.
 */
export function findIps(text: string): Spans | undefined {
  let spans: Spans | undefined;
  const n = text.length;
  let dot = text.indexOf(".");
  let colon = text.indexOf(":");
  let from = 0;
  while (dot >= 0 || colon >= 0) {
    const at = dot < 0 ? colon : colon < 0 ? dot : Math.min(dot, colon);
    let start = at;
    while (start > from && inRun(text.charCodeAt(start - 1))) start--;
    let end = at + 1;
    while (end < n && inRun(text.charCodeAt(end))) end++;
    spans = judgeRun(text, start, end, spans);
    from = end;
    if (dot >= 0 && dot < end) dot = text.indexOf(".", end);
    if (colon >= 0 && colon < end) colon = text.indexOf(":", end);
  }
  return spans;
}

/** The addresses in one maximal run [start, end). */
function judgeRun(text: string, start: number, end: number, spans: Spans | undefined): Spans | undefined {
  const before = charAt(text, start - 1);
  // A sentence or a label may end right after an address: `from 10.0.0.1.`, `peer fe80::1: closed`.
  const last = text.charCodeAt(end - 1);
  const trimmed = (last === DOT || (last === COLON && text.charCodeAt(end - 2) !== COLON)) && !isWord(charAt(text, end)) ? end - 1 : end;

  let colons = 0;
  for (let i = start; i < trimmed && colons < 2; i++) if (text.charCodeAt(i) === COLON) colons++;
  if (colons >= 2 && !isWord(before) && trimmed - start <= 45 && validIpv6(text, start, trimmed)) {
    let stop = trimmed;
    if (trimmed === end && text.charCodeAt(end) === PERCENT) {
      let zone = end + 1;
      while (zone < text.length && isAlnum(text.charCodeAt(zone))) zone++;
      if (zone > end + 1) stop = zone;
    }
    if (!isWord(charAt(text, stop))) (spans ??= []).push(start, stop);
    return spans;
  }

  // Dotted quads, each between the run's edges or a colon (`peer:10.0.0.1`, a port).
  // A URL's host comes after `//`: there a dotted quad is an address, not a `Name/1.2.3.4` version.
  const urlHost = before === SLASH && charAt(text, start - 2) === SLASH;
  const startOk = !isWord(before) && before !== DASH && before !== AT && (before !== SLASH || urlHost);
  const after = charAt(text, end);
  const endOk = trimmed < end || (!isWord(after) && after !== DASH);
  let piece = start;
  while (piece < trimmed) {
    let stop = piece;
    while (stop < trimmed && text.charCodeAt(stop) !== COLON) stop++;
    if ((piece > start || startOk) && (stop < trimmed || endOk) && validIpv4(text, piece, stop)) (spans ??= []).push(piece, stop);
    piece = stop + 1;
  }
  return spans;
}

function charAt(text: string, index: number): number {
  return index >= 0 && index < text.length ? text.charCodeAt(index) : -1;
}

/** Four decimal octets 0-255, no leading zeros, nothing else. */
function validIpv4(text: string, start: number, end: number): boolean {
  let parts = 0;
  let i = start;
  while (i <= end) {
    let j = i;
    while (j < end && isDigit(text.charCodeAt(j))) j++;
    const len = j - i;
    if (len === 0 || len > 3 || (len > 1 && text.charCodeAt(i) === 48)) return false;
    let value = 0;
    for (let k = i; k < j; k++) value = value * 10 + text.charCodeAt(k) - 48;
    if (value > 255) return false;
    parts++;
    if (j === end) return parts === 4;
    if (text.charCodeAt(j) !== DOT || parts === 4) return false;
    i = j + 1;
  }
  return false;
}

/**
 * RFC 4291 text forms: eight groups of 1-4 hex digits, or fewer around one
 * `::`; the last 32 bits may be a dotted quad. At least one hex digit.
 */
function validIpv6(text: string, start: number, end: number): boolean {
  let groups = 0;
  let compressed = false;
  let i = start;
  if (text.charCodeAt(i) === COLON) {
    if (text.charCodeAt(i + 1) !== COLON) return false;
    compressed = true;
    i += 2;
    if (i === end) return false; // bare "::"
  }
  while (i < end) {
    let j = i;
    while (j < end && isHex(text.charCodeAt(j))) j++;
    if (j < end && text.charCodeAt(j) === DOT) {
      // An embedded IPv4 ends the address.
      let k = j;
      while (k < end && text.charCodeAt(k) !== COLON) k++;
      if (k !== end || !validIpv4(text, i, end)) return false;
      groups += 2;
      i = end;
      break;
    }
    if (j === i || j - i > 4) return false;
    groups++;
    if (j === end) {
      i = j;
      break;
    }
    // j is a colon
    if (text.charCodeAt(j + 1) === COLON) {
      if (compressed) return false;
      compressed = true;
      i = j + 2;
      if (i === end) break;
    } else {
      i = j + 1;
      if (i === end) return false; // trailing single colon
    }
  }
  return compressed ? groups <= 7 : groups === 8;
}
