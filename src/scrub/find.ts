import type { Spans } from "./scan/chars";

/**
 * The parts of a string a pattern rule redacts: ascending, disjoint spans,
 * found in time linear in the text. A finder built on a regex names it, so
 * the ReDoS test can reach every regex a rule runs.
 */
export type Finder = ((text: string) => Spans | undefined) & { regex?: RegExp };

/**
 * A finder from a global regex, read with an exec loop (no iterator or match
 * array per string beyond exec's own). The regex must carry `g`, and `d` when
 * `groups` are asked for; it must itself be linear (the ReDoS test checks
 * every regex in src).
 */
export function regexFinder(regex: RegExp, groups?: readonly number[], accept?: (match: string) => boolean): Finder {
  if (!regex.global || (groups !== undefined && !regex.hasIndices)) throw new Error(`regexFinder needs the g${groups ? "d" : ""} flags: /${regex.source}/${regex.flags}`);
  const find = (text: string): Spans | undefined => {
    let spans: Spans | undefined;
    regex.lastIndex = 0;
    for (let match = regex.exec(text); match !== null; match = regex.exec(text)) {
      const whole = match[0];
      if (whole === "") {
        regex.lastIndex++;
        continue;
      }
      if (accept && !accept(whole)) continue;
      if (groups === undefined) {
        (spans ??= []).push(match.index, match.index + whole.length);
        continue;
      }
      for (const span of groupSpans(match, groups)) (spans ??= []).push(span[0], span[1]);
    }
    return spans;
  };
  return Object.assign(find, { regex });
}

function groupSpans(match: RegExpExecArray, groups: readonly number[]): [number, number][] {
  const spans: [number, number][] = [];
  for (const group of groups) {
    const span = match.indices?.[group];
    if (span !== undefined && span[1] > span[0]) spans.push(span);
  }
  return spans.length > 1 ? spans.sort((a, b) => a[0] - b[0]) : spans;
}
