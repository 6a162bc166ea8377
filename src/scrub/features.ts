import { isSpace } from "./scan/chars";

/**
 * What the prechecks of the built-in rules ask of a string, read in one pass
 * over it, so a string that cannot hold a match costs one loop rather than a
 * search per rule.
 */
export interface Features {
  length: number;
  /** `=`. */
  equals: boolean;
  colons: number;
  /** The longest run of `-`. */
  dashes: number;
  /** The longest run of digits, single spaces or dashes allowed between them (cards, IMEIs, SSNs). */
  digits: number;
  /**
   * One bit (`CAN_*` below) per built-in rule type the string may hold a
   * match of, by a necessary condition of its finder: a rule whose bit is
   * clear is skipped without a call.
   */
  candidates: number;
}

/** Four decimal octets need three dots between digits; IPv6 needs `::` or at least six colons. */
export const CAN_IP = 1 << 0;
/** `@`. */
export const CAN_EMAIL = 1 << 1;
/** 13 digits in one run (single spaces or dashes between). */
export const CAN_CREDITCARD = 1 << 2;
/** Two capitals and two digits in a row, 15 characters or more. */
export const CAN_IBAN = 1 << 3;
export const CAN_USSSN = 1 << 4;
export const CAN_MAC = 1 << 5;
export const CAN_IMEI = 1 << 6;
/** 32 characters or more. */
export const CAN_UUID = 1 << 7;
/** Five dashes in a row. */
export const CAN_PEMKEY = 1 << 8;
/** `//` and `@`. */
export const CAN_URL_CREDENTIALS = 1 << 9;
/** `/` or `\` right before `h`, `u` or `d` (any case): `/home/`, `\Users\`, `\Documents and Settings\`. */
export const CAN_USERPATH = 1 << 10;
/** `bearer` (any case) right before a blank (`\s`). */
export const CAN_BEARER = 1 << 11;
/** `=` or `:`. */
export const CAN_ASSIGN = 1 << 12;

export function emptyFeatures(): Features {
  return { length: 0, equals: false, colons: 0, dashes: 0, digits: 0, candidates: 0 };
}

/**
 * What each ASCII code unit means to the scan. Letters and most punctuation
 * are OTHER: they only end runs, and they are most of any string, so the loop
 * tests for them first and does nothing else for them.
 */
const OTHER = 0, DIGIT = 1, DASH = 2, SPACE = 3, AT = 4, SLASH = 5, BACKSLASH = 6, EQUALS = 7, COLON = 8, DOT = 9, BLANK = 10;
const ASCII_CLASS = new Uint8Array(128);
for (let c = 48; c <= 57; c++) ASCII_CLASS[c] = DIGIT;
for (let c = 9; c <= 13; c++) ASCII_CLASS[c] = BLANK;
ASCII_CLASS[45] = DASH;
ASCII_CLASS[32] = SPACE;
ASCII_CLASS[64] = AT;
ASCII_CLASS[47] = SLASH;
ASCII_CLASS[92] = BACKSLASH;
ASCII_CLASS[61] = EQUALS;
ASCII_CLASS[58] = COLON;
ASCII_CLASS[46] = DOT;

/** Flags seen on the way, folded into `candidates` at the end. */
const SEEN_AT = 1, SEEN_DOUBLE_SLASH = 2, SEEN_EQUALS = 4, SEEN_BEARER = 8, SEEN_USER_DIR = 16, SEEN_IBAN_START = 32, SEEN_DOUBLE_COLON = 64;

/** `A`-`Z`, as `[A-Z]` reads it. */
const isCapital = (c: number): boolean => c >= 65 && c <= 90;
const isDigitCode = (c: number): boolean => c >= 48 && c <= 57;

/**
 * Fills `into` (reused, so nothing is allocated per string). One table
 * lookup per code unit; what needs a neighbour (`//`, `::`, a digit after a
 * dot, capitals before digits, a letter after a slash, `bearer` before a
 * blank) is read back or ahead only at the rarer character that can start
 * or end it.
 */
export function readFeatures(text: string, into: Features): Features {
  let seen = 0;
  let colons = 0, digitDots = 0, dashes = 0, dashRun = 0, digits = 0, digitRun = 0, plainDigits = 0;
  let joined = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    const kind = c < 128 ? ASCII_CLASS[c]! : isSpace(c) ? BLANK : OTHER;
    if (kind === OTHER) {
      digitRun = 0;
      plainDigits = 0;
      joined = false;
      dashRun = 0;
      continue;
    }
    if (kind === DIGIT) {
      if (++digitRun > digits) digits = digitRun;
      // `[A-Z]{2}\d{2}`: at the second digit of a plain run, look back at what precedes the run.
      if (++plainDigits === 2 && i >= 3 && isCapital(text.charCodeAt(i - 2)) && isCapital(text.charCodeAt(i - 3))) seen |= SEEN_IBAN_START;
      // A digit right after a dot that follows a digit: one of a dotted quad's three.
      if (plainDigits === 1 && i >= 2 && text.charCodeAt(i - 1) === 46 && isDigitCode(text.charCodeAt(i - 2))) digitDots++;
      joined = false;
      dashRun = 0;
      continue;
    }
    plainDigits = 0;
    if (kind === DASH || kind === SPACE) {
      // One space or dash may join two digit groups (cards, IMEIs, SSNs).
      if (digitRun > 0 && !joined) joined = true;
      else {
        digitRun = 0;
        joined = false;
      }
      if (kind === DASH) {
        if (++dashRun > dashes) dashes = dashRun;
      } else {
        dashRun = 0;
        if (endsWithBearer(text, i)) seen |= SEEN_BEARER;
      }
      continue;
    }
    digitRun = 0;
    joined = false;
    dashRun = 0;
    switch (kind) {
      case AT: seen |= SEEN_AT; break;
      case SLASH:
        if (i > 0 && text.charCodeAt(i - 1) === 47) seen |= SEEN_DOUBLE_SLASH;
        if (i + 1 < n && startsUserDir(text.charCodeAt(i + 1))) seen |= SEEN_USER_DIR;
        break;
      case BACKSLASH:
        if (i + 1 < n && startsUserDir(text.charCodeAt(i + 1))) seen |= SEEN_USER_DIR;
        break;
      case EQUALS: seen |= SEEN_EQUALS; break;
      case COLON:
        colons++;
        if (i > 0 && text.charCodeAt(i - 1) === 58) seen |= SEEN_DOUBLE_COLON;
        break;
      case BLANK: if (endsWithBearer(text, i)) seen |= SEEN_BEARER; break;
    }
  }
  let candidates = 0;
  if (digitDots >= 3 || colons >= 6 || (seen & SEEN_DOUBLE_COLON) !== 0) candidates |= CAN_IP;
  if ((seen & SEEN_AT) !== 0) {
    candidates |= CAN_EMAIL;
    if ((seen & SEEN_DOUBLE_SLASH) !== 0) candidates |= CAN_URL_CREDENTIALS;
  }
  if (digits >= 13) candidates |= CAN_CREDITCARD;
  if (digits >= 15) candidates |= CAN_IMEI;
  if (n >= 15 && (seen & SEEN_IBAN_START) !== 0) candidates |= CAN_IBAN;
  if (n >= 11 && dashes > 0 && digits >= 9) candidates |= CAN_USSSN;
  if (n >= 17 && (colons >= 5 || dashes > 0)) candidates |= CAN_MAC;
  if (n >= 32) candidates |= CAN_UUID;
  if (dashes >= 5) candidates |= CAN_PEMKEY;
  if ((seen & SEEN_USER_DIR) !== 0) candidates |= CAN_USERPATH;
  if ((seen & SEEN_BEARER) !== 0) candidates |= CAN_BEARER;
  if ((seen & SEEN_EQUALS) !== 0 || colons > 0) candidates |= CAN_ASSIGN;
  into.length = n;
  into.equals = (seen & SEEN_EQUALS) !== 0;
  into.colons = colons;
  into.dashes = dashes;
  into.digits = digits;
  into.candidates = candidates;
  return into;
}

/** `h`, `u` or `d` in either case: the first letter of `home`, `users`, `documents`. */
function startsUserDir(c: number): boolean {
  const lower = c | 32;
  return lower === 104 || lower === 117 || lower === 100;
}

const BEARER = "bearer";

/** Whether the six code units before `end` spell `bearer`, in any case (ASCII letters only, as the `i` flag folds them). */
function endsWithBearer(text: string, end: number): boolean {
  if (end < 6 || (text.charCodeAt(end - 1) | 32) !== 114) return false;
  for (let k = 0; k < 6; k++) if ((text.charCodeAt(end - 6 + k) | 32) !== BEARER.charCodeAt(k)) return false;
  return true;
}
