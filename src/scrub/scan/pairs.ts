import { charSet, isSpace, type Spans } from "./chars";

/** What may stand before a pair: the start, `?`, `&`, `;` or a blank. */
const opensPair = charSet("?&;");
/** Not in a name: `= & # ; ? / " '` and blanks. */
const endsName = charSet(`=&#;?/"'`);
/** Not in a value: `& # ; " '` and blanks. */
const endsValue = charSet(`&#;"'`);

/**
 * `name=value` pairs in query strings, form bodies, cookie strings and log
 * lines; the spans are the values of the pairs whose name `isSensitive`
 * accepts. A pair starts at the text's start or after `? & ;` or a blank; a
 * value runs to the next `& # ; " '` or blank (so `a=b=c` is one pair, value
 * `b=c`). One pass: a name is read back from its `=` and holds no `=`, and a
 * value is read once before the search moves past it.
 */
export function findSensitivePairs(text: string, isSensitive: (name: string) => boolean): Spans | undefined {
  let spans: Spans | undefined;
  const n = text.length;
  let floor = 0;
  for (let eq = text.indexOf("="); eq >= 0; eq = text.indexOf("=", floor)) {
    let start = eq;
    while (start > floor) {
      const c = text.charCodeAt(start - 1);
      if (endsName(c) || isSpace(c)) break;
      start--;
    }
    const before = start > 0 ? text.charCodeAt(start - 1) : -1;
    if (start === eq || !(start === 0 || opensPair(before) || isSpace(before))) {
      floor = eq + 1;
      continue;
    }
    let end = eq + 1;
    while (end < n && !endsValue(text.charCodeAt(end)) && !isSpace(text.charCodeAt(end))) end++;
    if (end > eq + 1 && isSensitive(text.slice(start, eq))) (spans ??= []).push(eq + 1, end);
    floor = end > eq + 1 ? end : eq + 1;
  }
  return spans;
}
