/**
 * Sentry's filter globs: `*` any run of characters, `?` one, matched against
 * the whole text, case-insensitively (as Relay's error-message and release
 * filters match).
 *
 * The glob is the operator's, the text the attacker's, so matching must cost
 * time linear in the text for a fixed glob, whatever the text. No regex and no
 * backtracking: the glob is cut at its stars into segments; the first must
 * match at the start, the last at the end, and each one between is placed at
 * its leftmost match after the one before (leftmost is never worse, so no
 * placement is ever revisited). Each text position is tried at most once per
 * segment: O(text × glob) in the worst case, O(text) for a fixed glob.
 */
export function globMatcher(glob: string): (text: string) => boolean {
  const segments = glob.toLowerCase().split("*");
  if (segments.length === 1) {
    const only = segments[0]!;
    return (text) => text.length === only.length && matchesAt(text.toLowerCase(), only, 0);
  }
  const head = segments[0]!;
  const tail = segments[segments.length - 1]!;
  const middle = segments.slice(1, -1).filter((s) => s !== "");
  const fixed = head.length + tail.length;
  return (raw) => {
    if (raw.length < fixed) return false;
    const text = raw.toLowerCase();
    if (!matchesAt(text, head, 0) || !matchesAt(text, tail, text.length - tail.length)) return false;
    let at = head.length;
    const limit = text.length - tail.length;
    for (const segment of middle) {
      const found = indexOfSegment(text, segment, at, limit);
      if (found < 0) return false;
      at = found + segment.length;
    }
    return true;
  };
}

/** `segment` (where `?` is any one character) at `at` of `text`. */
function matchesAt(text: string, segment: string, at: number): boolean {
  if (at < 0 || at + segment.length > text.length) return false;
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    if (c !== 63 /* ? */ && c !== text.charCodeAt(at + i)) return false;
  }
  return true;
}

/** The first place at or after `from` where `segment` fits wholly before `limit`, or -1. */
function indexOfSegment(text: string, segment: string, from: number, limit: number): number {
  if (!segment.includes("?")) {
    const found = text.indexOf(segment, from);
    return found >= 0 && found + segment.length <= limit ? found : -1;
  }
  for (let at = from; at + segment.length <= limit; at++) if (matchesAt(text, segment, at)) return at;
  return -1;
}

const compiled = new WeakMap<readonly string[], (text: string) => boolean>();

/** One matcher per list, compiled on first use: config lists live as long as the config. */
export function compileGlobs(globs: readonly string[]): (text: string) => boolean {
  let matcher = compiled.get(globs);
  if (!matcher) {
    const matchers = globs.map(globMatcher);
    matcher = (text) => matchers.some((matches) => matches(text));
    compiled.set(globs, matcher);
  }
  return matcher;
}
