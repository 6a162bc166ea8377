import { isSpace } from "./scan/chars";

/**
 * What the prechecks of the built-in rules ask of a string, read in one pass
 * over it, so a string that cannot hold a match costs one loop rather than a
 * search per rule.
 */
export interface Features {
  length: number;
  /** `@`. */
  at: boolean;
  /** `//`. */
  doubleSlash: boolean;
  /** `/` or `\`. */
  pathSeparator: boolean;
  /** `=`. */
  equals: boolean;
  /** Any `\s`. */
  blank: boolean;
  colons: number;
  dots: number;
  /** The longest run of `-`. */
  dashes: number;
  /** The longest run of digits, single spaces or dashes allowed between them (cards, IMEIs, SSNs). */
  digits: number;
}

export function emptyFeatures(): Features {
  return { length: 0, at: false, doubleSlash: false, pathSeparator: false, equals: false, blank: false, colons: 0, dots: 0, dashes: 0, digits: 0 };
}

/** What each ASCII code unit means to the scan; 0 for everything that only ends a run (letters, most punctuation). */
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

/**
 * Fills `into` (reused, so nothing is allocated per string). One table
 * lookup per code unit: most of a string is letters, which only end runs.
 */
export function readFeatures(text: string, into: Features): Features {
  let at = false, doubleSlash = false, pathSeparator = false, equals = false, blank = false;
  let colons = 0, dots = 0, dashes = 0, dashRun = 0, digits = 0, digitRun = 0;
  let joined = false;
  let previous = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const kind = c < 128 ? ASCII_CLASS[c]! : isSpace(c) ? BLANK : OTHER;
    if (kind === DIGIT) {
      if (++digitRun > digits) digits = digitRun;
      joined = false;
      dashRun = 0;
    } else if (kind === DASH || kind === SPACE) {
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
        blank = true;
      }
    } else {
      digitRun = 0;
      joined = false;
      dashRun = 0;
      switch (kind) {
        case AT: at = true; break;
        case SLASH: if (previous === 47) doubleSlash = true; pathSeparator = true; break;
        case BACKSLASH: pathSeparator = true; break;
        case EQUALS: equals = true; break;
        case COLON: colons++; break;
        case DOT: dots++; break;
        case BLANK: blank = true; break;
      }
    }
    previous = c;
  }
  into.length = text.length;
  into.at = at;
  into.doubleSlash = doubleSlash;
  into.pathSeparator = pathSeparator;
  into.equals = equals;
  into.blank = blank;
  into.colons = colons;
  into.dots = dots;
  into.dashes = dashes;
  into.digits = digits;
  return into;
}
