import type { Spans } from "./chars";

const BEGIN = "-----BEGIN";
const END = "-----END";
const LABEL_TAIL = " PRIVATE KEY";
const DASHES = "-----";

/** `[A-Z ]`. */
const isLabel = (c: number): boolean => c === 32 || (c >= 65 && c <= 90);

/**
 * The body of each PEM private key, `-----BEGIN ... PRIVATE KEY-----` to the
 * first `-----END ... PRIVATE KEY-----` after it, without the line breaks that
 * frame it. Linear: the search only moves forward, and once no footer follows
 * a header none follows any later one.
 */
export function findPemKeys(text: string): Spans | undefined {
  let spans: Spans | undefined;
  let from = 0;
  for (;;) {
    const header = text.indexOf(BEGIN, from);
    if (header < 0) return spans;
    const headerEnd = armourEnd(text, header + BEGIN.length);
    if (headerEnd < 0) {
      from = header + BEGIN.length;
      continue;
    }
    let bodyStart = headerEnd;
    while (text.charCodeAt(bodyStart) === 32 || text.charCodeAt(bodyStart) === 9) bodyStart++;
    if (text.charCodeAt(bodyStart) === 13) bodyStart++;
    if (text.charCodeAt(bodyStart) === 10) bodyStart++;

    let footer = text.indexOf(END, bodyStart);
    let footerEnd = -1;
    while (footer >= 0 && (footerEnd = armourEnd(text, footer + END.length)) < 0) footer = text.indexOf(END, footer + END.length);
    if (footer < 0) return spans;

    let bodyEnd = footer;
    if (bodyEnd > bodyStart && text.charCodeAt(bodyEnd - 1) === 10) bodyEnd--;
    if (bodyEnd > bodyStart && text.charCodeAt(bodyEnd - 1) === 13) bodyEnd--;
    if (bodyEnd > bodyStart) (spans ??= []).push(bodyStart, bodyEnd);
    from = footerEnd;
  }
}

/** After `-----BEGIN` or `-----END`: `[A-Z ]*` ending in ` PRIVATE KEY`, then `-----`. Where that ends, or -1. */
function armourEnd(text: string, from: number): number {
  let i = from;
  while (i < text.length && isLabel(text.charCodeAt(i))) i++;
  if (i - from < LABEL_TAIL.length || !text.startsWith(LABEL_TAIL, i - LABEL_TAIL.length)) return -1;
  return text.startsWith(DASHES, i) ? i + DASHES.length : -1;
}
