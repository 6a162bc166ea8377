/**
 * Character classes for the hand-written scanners, by UTF-16 code unit. They
 * follow JavaScript's regex classes without the `u` flag: `\w` and `\b` are
 * ASCII, `\s` is the full whitespace set.
 */

export const isDigit = (c: number): boolean => c >= 48 && c <= 57;
export const isLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
export const isAlnum = (c: number): boolean => isDigit(c) || isLetter(c);
export const isHex = (c: number): boolean => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
/** `\w`. */
export const isWord = (c: number): boolean => isAlnum(c) || c === 95;

/** `\s`. */
export function isSpace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 160) return false;
  return c === 160 || c === 5760 || (c >= 8192 && c <= 8202) || c === 8232 || c === 8233 || c === 8239 || c === 8287 || c === 12288 || c === 65279;
}

/** `\w` at `index` of `text`, false outside the text (as `\b` reads the edges). */
export function wordAt(text: string, index: number): boolean {
  return index >= 0 && index < text.length && isWord(text.charCodeAt(index));
}

/** A test over one code unit, from the characters of a regex class written out. */
export function charSet(chars: string): (c: number) => boolean {
  const table = new Uint8Array(128);
  for (let i = 0; i < chars.length; i++) table[chars.charCodeAt(i)] = 1;
  return (c) => c < 128 && table[c] === 1;
}

export const ALNUM_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** Spans of a string, flat: start, end, start, end ... ascending and disjoint. */
export type Spans = number[];
