import { RE2JS } from "re2js";
import type { TextTest } from "./builtins";
import type { Finder } from "./find";
import type { Spans } from "./scan/chars";

/**
 * The operator's own patterns (`scrub.rules[].pattern` and `keyPattern`) run
 * on RE2 (re2js, a pure-JS port): matching time is linear in the text for any
 * pattern, so a pattern like `(x+x+)+y` costs no more than `xy`. RE2 has no
 * backreferences and no lookaround; such a pattern is refused when the config
 * is loaded. Syntax otherwise follows RE2 (`\d \w \s \b`, classes, `(?i)`,
 * `(?P<name>...)` and `(?<name>...)`, `\x{...}` rather than `\u....`).
 */
export function compileUserPattern(source: string, flags: "i" | "" = ""): RE2JS {
  return RE2JS.compile(source, flags === "i" ? RE2JS.CASE_INSENSITIVE : 0);
}

/** Why a pattern cannot be used, in the words a config error shows; undefined when it can. */
export function userPatternProblem(source: string): string | undefined {
  try {
    compileUserPattern(source);
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? err.message.replace(/^error parsing regexp: /, "") : String(err);
    return `invalid regular expression: ${message} (patterns run on RE2, which matches in linear time and has no backreferences or lookaround)`;
  }
}

/** A key test from a key pattern: substring search, case-insensitive. */
export function userKeyTest(source: string): TextTest {
  const pattern = compileUserPattern(source, "i");
  return { test: (text) => pattern.test(text) };
}

/** A finder from a content pattern: every match, or the listed capture groups of each. */
export function userPatternFinder(source: string, groups?: readonly number[]): Finder {
  const pattern = compileUserPattern(source);
  return (text) => {
    let spans: Spans | undefined;
    const matcher = pattern.matcher(text);
    while (matcher.find()) {
      if (matcher.end() === matcher.start()) continue;
      if (groups === undefined) {
        (spans ??= []).push(matcher.start(), matcher.end());
        continue;
      }
      const found: [number, number][] = [];
      for (const group of groups) {
        if (group > matcher.groupCount()) continue;
        const start = matcher.start(group);
        const end = matcher.end(group);
        if (start >= 0 && end > start) found.push([start, end]);
      }
      found.sort((a, b) => a[0] - b[0]);
      for (const [start, end] of found) (spans ??= []).push(start, end);
    }
    return spans;
  };
}
