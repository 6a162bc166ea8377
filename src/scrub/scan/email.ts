import { ALNUM_CHARS, charSet, isAlnum, isLetter, isWord, wordAt, type Spans } from "./chars";

/** The shape of address a caller looks for. */
export interface EmailShape {
  /** The characters of the part before `@`. */
  local: (c: number) => boolean;
  /** The match starts at a letter or digit that begins a word (`\b[a-zA-Z0-9]`), so quotes stay outside. */
  wordStart: boolean;
  /** The last label is letters only (two or more) and ends the word: `example.co.uk`, not `react@18.2.0`. */
  letterTld: boolean;
}

const isLabel = charSet(`${ALNUM_CHARS}-`);

/**
 * Addresses in `text`, as a global regex scan would find them, in one pass:
 * each `@` is expanded left over the local part and right over the domain,
 * and no expansion crosses the previous `@` or the end of the previous match,
 * so every character is read at most twice whatever the input.
 */
export function findEmails(text: string, shape: EmailShape): Spans | undefined {
  let spans: Spans | undefined;
  let floor = 0;
  for (let at = text.indexOf("@"); at >= 0; at = text.indexOf("@", floor)) {
    let start = at;
    while (start > floor && shape.local(text.charCodeAt(start - 1))) start--;
    if (shape.wordStart) {
      while (start < at && !(isAlnum(text.charCodeAt(start)) && !wordAt(text, start - 1))) start++;
    }
    const end = start < at ? domainEnd(text, at + 1, shape.letterTld) : -1;
    if (end < 0) {
      floor = at + 1;
      continue;
    }
    (spans ??= []).push(start, end);
    floor = end;
  }
  return spans;
}

/**
 * Where the domain starting at `from` ends: dot-separated non-empty labels of
 * `[a-zA-Z0-9-]`, at least two, the longest such run; with `letterTld` the
 * last label is a run of two or more letters followed by a non-word
 * character. -1 when there is none.
 */
function domainEnd(text: string, from: number, letterTld: boolean): number {
  const n = text.length;
  let best = -1;
  let labels = 0;
  let i = from;
  for (;;) {
    let j = i;
    while (j < n && isLabel(text.charCodeAt(j))) j++;
    if (j === i) break;
    labels++;
    if (labels >= 2) {
      if (!letterTld) best = j;
      else {
        let k = i;
        while (k < j && isLetter(text.charCodeAt(k))) k++;
        if (k - i >= 2 && !(k < n && isWord(text.charCodeAt(k)))) best = k;
      }
    }
    if (j < n && text.charCodeAt(j) === 46 /* . */) i = j + 1;
    else break;
  }
  return best;
}
