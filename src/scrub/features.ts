import { isDigit, isSpace } from "./scan/chars";

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

/** Fills `into` (reused, so nothing is allocated per string). */
export function readFeatures(text: string, into: Features): Features {
  let at = false, doubleSlash = false, pathSeparator = false, equals = false, blank = false;
  let colons = 0, dots = 0, dashes = 0, dashRun = 0, digits = 0, digitRun = 0;
  let joined = false;
  let previous = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isDigit(c)) {
      if (++digitRun > digits) digits = digitRun;
      joined = false;
    } else if ((c === 32 || c === 45) && digitRun > 0 && !joined) {
      joined = true;
    } else {
      digitRun = 0;
      joined = false;
    }
    if (c === 45) {
      if (++dashRun > dashes) dashes = dashRun;
    } else dashRun = 0;
    switch (c) {
      case 64: at = true; break;
      case 47: if (previous === 47) doubleSlash = true; pathSeparator = true; break;
      case 92: pathSeparator = true; break;
      case 61: equals = true; break;
      case 58: colons++; break;
      case 46: dots++; break;
      default: if (!blank && isSpace(c)) blank = true;
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
