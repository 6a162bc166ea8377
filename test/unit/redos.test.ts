import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { checkSync, type Diagnostics } from "recheck";
import { describe, expect, it } from "vitest";
import { compileGlobs } from "../../src/filters/globs";
import { BUILTIN_NAMES, builtinRule } from "../../src/scrub/builtins";
import { sensitiveKeyPattern } from "../../src/scrub/compile";
import { collectRegexes, type FoundRegex } from "./support/regex-sources";

/**
 * Every regex the relay compiles goes through recheck, a ReDoS checker
 * (automata-based, with fuzzing for what automata cannot model): any regex
 * that could backtrack super-linearly, exponentially or polynomially,
 * including the unanchored-scan trap (`a*b` retried from every `a`), fails
 * this test. "Every regex" is found, not listed: the TypeScript compiler's
 * parser reads all of src/ for regex literals, `new RegExp(...)` and string
 * patterns given to match/search; a `new RegExp` whose pattern is not a
 * constant must be named in DYNAMIC below with the regexes it can build.
 */

// recheck's native build when its package installed (fast), else its pure-JS build: both offline.
const require = createRequire(import.meta.url);
process.env.RECHECK_BACKEND ??= (() => {
  try {
    require.resolve(`recheck-${process.platform === "darwin" ? "macos" : process.platform}-${process.arch}/package.json`);
    return "native";
  } catch {
    return "pure";
  }
})();

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Regexes built at run time from something other than constants, by their
 * site (file and the text of the call's arguments), with the regexes that
 * site can build. A new dynamic site fails the test until it is listed here.
 */
const DYNAMIC: Record<string, () => RegExp[]> = {
  // The sensitive-key matcher: Sentry's words plus the project's sensitiveFields, escaped.
  'src/scrub/compile.ts RegExp([SENSITIVE_KEY_SOURCE, ...fields].join("|"), "i")': () => [
    sensitiveKeyPattern([]),
    sensitiveKeyPattern(["ssn_number", "x-card", "a.b*c+d?(e)[f]{g}|h^$\\"]),
  ],
};

/**
 * Regexes that only ever run on the operator's own config or other trusted
 * text, never on request content, by source, with the reason. Keep it short.
 */
const TRUSTED: Record<string, string> = {};

const PARAMS = { timeout: 60_000, randomSeed: 0 } as const;
/** A few regexes take seconds on the pure-JS backend (under a second natively). */
const CHECK_TIMEOUT = 90_000;

function check(regex: { source: string; flags: string }): Diagnostics {
  // `d` (indices) does not change how a regex matches; recheck does not know the flag.
  return checkSync(regex.source, regex.flags.replace("d", ""), PARAMS);
}

function verdict(d: Diagnostics): string {
  if (d.status === "safe") return "safe";
  if (d.status === "vulnerable") return `vulnerable: ${d.complexity.summary}, e.g. ${JSON.stringify(d.attack.pattern).slice(0, 80)}`;
  return `unknown: ${JSON.stringify(d.error)}`;
}

const collected = collectRegexes(ROOT, "src");

function unique(regexes: FoundRegex[]): FoundRegex[] {
  const seen = new Map<string, FoundRegex>();
  for (const r of regexes) {
    const key = `/${r.source}/${r.flags.replace(/[dg]/g, "")}`;
    if (!seen.has(key)) seen.set(key, r);
  }
  return [...seen.values()];
}

describe("ReDoS: the checker", () => {
  it.each([
    ["(x+x+)+y", "exponential"],
    ["[a-z0-9.]*@", "polynomial"],
    ["\\/+$", "polynomial"],
  ])("flags %s as %s, so a pass below means something", (source, type) => {
    const d = check({ source, flags: "g" });
    expect(d.status).toBe("vulnerable");
    expect(d.status === "vulnerable" && d.complexity.type).toBe(type);
  }, CHECK_TIMEOUT);
});

describe("ReDoS: the source scan", () => {
  it("finds the regexes of src/, constants folded across imports", () => {
    const sources = collected.found.map((r) => r.source);
    expect(sources).toContain("\\b\\d{3}-\\d{2}-\\d{4}\\b");
    // SENSITIVE_WORD is `new RegExp(SENSITIVE_KEY_SOURCE, "i")`: folded from the constant.
    expect(collected.found.some((r) => r.source.startsWith("password|secret|") && r.flags === "i")).toBe(true);
    expect(collected.found.length).toBeGreaterThan(40);
  });

  it("knows every dynamic site", () => {
    const unknown = collected.dynamic.filter((d) => !(d.site in DYNAMIC)).map((d) => `${d.where}: ${d.site}`);
    expect(unknown).toEqual([]);
  });
});

describe("ReDoS: every regex in src/ is linear", () => {
  const cases = unique(collected.found).map((r) => [`${r.where} /${r.source.length > 70 ? `${r.source.slice(0, 70)}…` : r.source}/${r.flags}`, r] as const);
  it.each(cases)("%s", (_name, regex) => {
    if (regex.source in TRUSTED) return;
    expect(verdict(check(regex))).toBe("safe");
  }, CHECK_TIMEOUT);
});

describe("ReDoS: regexes built at run time", () => {
  it.each(Object.entries(DYNAMIC))("%s", (_site, build) => {
    for (const regex of build()) expect(`${regex.source}: ${verdict(check(regex))}`).toBe(`${regex.source}: safe`);
  }, CHECK_TIMEOUT);

  it("every built-in rule, with every method, runs only checked regexes or scanners", () => {
    const checked = new Set(collected.found.map((r) => r.source));
    for (const name of BUILTIN_NAMES) {
      for (const method of ["", ":replace", ":mask", ":remove", ":hash", ":filter"]) {
        const rule = builtinRule(`@${name}${method}`);
        expect(rule, `@${name}${method}`).toBeDefined();
        if (rule?.kind === "pattern" && rule.find.regex) expect(checked.has(rule.find.regex.source), rule.id).toBe(true);
        if (rule?.kind === "key" && rule.key instanceof RegExp) expect(checked.has(rule.key.source), rule.id).toBe(true);
      }
    }
  });

  it("globs compile to no regex at all", () => {
    const matches = compileGlobs(["*a*a*a*a*a*b"]);
    expect(matches("a".repeat(50) + "b")).toBe(true);
    expect(collected.dynamic.some((d) => d.site.startsWith("src/filters/globs.ts"))).toBe(false);
  });
});
