import { charSet, isSpace, isWord, type Spans } from "./chars";

const isQuote = (c: number): boolean => c === 34 || c === 39;
/** Characters that end an assigned value: `\s " ' , ; ) } ]`. */
const endsValue = charSet(`"',;)}]`);

/**
 * Values assigned to a sensitive name in source lines and log text:
 * `password = "hunter2"`, `token: abc`, `"apiKey": 'k'`. The name is a whole
 * word that contains a sensitive word (`isSensitive`); the value runs to the
 * next space, quote or closing bracket and may not start with `[` (so an
 * earlier redaction is not redacted again).
 *
 * One pass: each `:` or `=` is read back over at most a quote, blanks and one
 * word, none of which holds another `:` or `=`, and a value is read once
 * before the search moves past it.
 */
export function findAssignedSecrets(text: string, isSensitive: (name: string) => boolean): Spans | undefined {
  let spans: Spans | undefined;
  const n = text.length;
  let floor = 0;
  for (let sep = floor; sep < n; sep++) {
    const c = text.charCodeAt(sep);
    if (c !== 58 /* : */ && c !== 61 /* = */) continue;
    let j = sep;
    while (j > floor && isSpace(text.charCodeAt(j - 1))) j--;
    if (j > floor && isQuote(text.charCodeAt(j - 1))) j--;
    const nameEnd = j;
    while (j > floor && isWord(text.charCodeAt(j - 1))) j--;
    if (j === nameEnd || (j > 0 && isWord(text.charCodeAt(j - 1)))) continue;
    if (!isSensitive(text.slice(j, nameEnd))) continue;

    let v = sep + 1;
    while (v < n && isSpace(text.charCodeAt(v))) v++;
    if (v < n && isQuote(text.charCodeAt(v))) v++;
    if (v >= n) break;
    const first = text.charCodeAt(v);
    if (isSpace(first) || endsValue(first) || first === 91 /* [ */) continue;
    let end = v + 1;
    while (end < n && !isSpace(text.charCodeAt(end)) && !endsValue(text.charCodeAt(end))) end++;
    (spans ??= []).push(v, end);
    floor = end;
    sep = end - 1;
  }
  return spans;
}
