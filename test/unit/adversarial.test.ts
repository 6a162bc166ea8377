import { describe, expect, it } from "vitest";
import { compileGlobs, globMatcher } from "../../src/filters/globs";
import { normalizeFile, normalizeMessage } from "../../src/spike/fingerprint";
import { only, scrub as scrubEvent, scrubText } from "./support/scrub-config";

/**
 * Long runs of the characters each pattern loops on, about 100 KB each: the
 * inputs that made the old regexes quadratic or exponential. These assert
 * what comes out; how long it takes is measured by `npm run bench:redos`.
 */
const N = 50_000;
const rep = (unit: string, times = N) => unit.repeat(times);

type Case = [name: string, input: string, expected: string, config?: Record<string, unknown>];

const DEFAULTS = {}; // default scrubbing and IP scrubbing, as a new project gets them

const scrubCases: Case[] = [
  // The input of issue 10: 26 s of CPU before.
  ['"a." x N + " //@" with the defaults', rep("a.") + " //@", rep("a.") + " //@", DEFAULTS],
  ['"a." x N + " //@" for @urlauth', rep("a.") + " //@", rep("a.") + " //@", only("@urlauth")],
  ['"a." x N + " //@" for @email', rep("a.") + " //@", rep("a.") + " //@", only("@email")],
  ['"a@" x N', rep("a@"), rep("a@"), DEFAULTS],
  ['"a@" x N, then one address', rep("a@") + "b.io", rep("a@", N - 1) + "[email]", only("@email")],
  ["a long local part and a domain of one-letter labels", rep("a.") + "@" + rep("b."), rep("a.") + "@" + rep("b."), only("@email")],
  ["the same with a real top-level domain", rep("a.") + "@" + rep("b.") + "io", "[email]", only("@email")],
  ['"//" x N', rep("//"), rep("//"), DEFAULTS],
  ['"//a:" x N', rep("//a:"), rep("//a:"), DEFAULTS],
  ['"//a:b" x N, then "@h": the last is a credential', rep("//a:b") + "@h", rep("//a:b", N - 1) + "//a:[Filtered]@h", only("@urlpassword")],
  ['"x://" + "a" x N for @urlauth', "x://" + rep("a"), "x://" + rep("a"), only("@urlauth")],
  ['"1" x N', rep("1", 2 * N), rep("1", 2 * N), DEFAULTS],
  ['"1." x N (IPs)', rep("1."), rep("1."), only("@ip")],
  ['"1.1.1.1 " x N', rep("1.1.1.1 ", N / 4), rep("[ip] ", N / 4), only("@ip")],
  ['":" x N', rep(":", 2 * N), rep(":", 2 * N), DEFAULTS],
  ['"1:" x N', rep("1:"), rep("1:"), only("@ip")],
  ['"ab:" x N', rep("ab:"), rep("ab:"), only("@ip")],
  ['"::1 " x N', rep("::1 ", N / 2), rep("[ip] ", N / 2), only("@ip")],
  ["a long octet", rep("9") + ".1.1.1", rep("9") + ".1.1.1", only("@ip")],
  ["a hex run", rep("a", 2 * N), rep("a", 2 * N), DEFAULTS],
  ['"1-" x N (cards)', rep("1-"), rep("1-"), only("@creditcard")],
  ['"1." x N, then a card', rep("1.") + " 4111 1111 1111 1111", rep("1.") + " [Filtered]", DEFAULTS],
  ['"DE89" x N', rep("DE89", N / 2), rep("DE89", N / 2), only("@iban")],
  ['"123-45-" x N', rep("123-45-", N / 4), rep("123-45-", N / 4), only("@usssn")],
  ['"aa:" x N: MAC after MAC', rep("aa:", 6 * 2000), rep("*".repeat(17) + ":", 2000), only("@mac")],
  ['"-----BEGIN" x N', rep("-----BEGIN", N / 5), rep("-----BEGIN", N / 5), DEFAULTS],
  ["private-key headers and no footer", rep("-----BEGIN RSA PRIVATE KEY-----\n", 3000), rep("-----BEGIN RSA PRIVATE KEY-----\n", 3000), DEFAULTS],
  [
    "private-key headers, then one footer",
    rep("-----BEGIN RSA PRIVATE KEY-----\n", 3000) + "x\n-----END RSA PRIVATE KEY-----",
    "-----BEGIN RSA PRIVATE KEY-----\n[pemkey]\n-----END RSA PRIVATE KEY-----",
    only("@pemkey"),
  ],
  ['"/home/" x N', rep("/home/", N / 3), rep("/home/", N / 3), DEFAULTS],
  ['"C:\\" and backslashes', "C:" + rep("\\", 2 * N), "C:" + rep("\\", 2 * N), DEFAULTS],
  ['"Bearer " x N', rep("Bearer ", 10_000), rep("Bearer [token] ", 5000), only("@bearer")],
  ['"password" x N, no assignment', rep("password", N / 4) + "#:", rep("password", N / 4) + "#:", DEFAULTS],
  ['"token=" x N', rep("token=", N / 3), "token=[Filtered]", DEFAULTS],
  ['"a=" x N', rep("a="), rep("a="), DEFAULTS],
  ['"a:" x N', rep("a:"), rep("a:"), DEFAULTS],
  ['"?&;=" x N', rep("?&;=", N / 2), rep("?&;=", N / 2), DEFAULTS],
];

describe("adversarial input: the scrubber's output", () => {
  it.each(scrubCases)("%s", (_name, input, expected, config) => {
    expect(scrubText(input, config)).toBe(expected);
  });

  it("custom patterns run on RE2: (x+x+)+y on a long run of x", () => {
    const config = { defaults: false, scrubIpAddresses: false, rules: [{ selector: "$string", pattern: "(x+x+)+y" }] };
    expect(scrubText(rep("x", 2 * N), config)).toBe(rep("x", 2 * N));
    expect(scrubText(rep("x", 2 * N) + "y", config)).toBe("[Filtered]");
  });

  it("custom key patterns run on RE2 too", () => {
    const config = { defaults: false, scrubIpAddresses: false, rules: [{ selector: "**", keyPattern: "(a+a+)+b" }] };
    const key = rep("a", 5000);
    expect(scrubTextUnderKey(key, "v", config)).toBe("v");
    expect(scrubTextUnderKey(key + "b", "v", config)).toBe("[Filtered]");
  });
});

function scrubTextUnderKey(key: string, value: string, config: Record<string, unknown>): unknown {
  return (scrubEvent({ extra: { [key]: value } }, config) as { extra: Record<string, unknown> }).extra[key];
}

const messageCases: [string, string, string][] = [
  ['"a." x N + " //@"', rep("a.") + " //@", rep("a.") + " //@"],
  ['"a@" x N', rep("a@"), rep("a@")],
  ["an address with a long local part and many labels", rep("x") + "@" + rep("y."), "<email>."],
  ['"1." x N', rep("1."), rep("<num>.", N / 2)],
  ['":" x N', rep(":"), rep(":")],
  ["a hex run of letters", rep("a"), rep("a")],
  ["a hex run of letters and digits", rep("a1"), "<hex>"],
  ["an unclosed quote", '"' + rep("a"), '"' + rep("a")],
  ["quotes in pairs", rep("'a", N), rep("<quoted>a", N / 2)],
  ["a time with a long fraction and a word after", "1:11:11." + rep("1") + "x", "<time>." + rep("1") + "x"],
  ["a long run of blanks", "a" + rep(" ") + "b", "a b"],
];

describe("adversarial input: the fingerprint normalizer's output", () => {
  it.each(messageCases)("%s", (_name, input, expected) => {
    expect(normalizeMessage(input)).toBe(expected);
  });

  it.each([
    ['"?" x N', rep("?"), ""],
    ["a long hash between dots", "a." + rep("0") + ".js", "a.<hash>.js"],
    ["a long host", "https://" + rep("a"), ""],
    ["many leading slashes", rep("/") + "x", "x"],
    ["many dashes", rep("-"), rep("-")],
  ])("file: %s", (_name, input, expected) => {
    expect(normalizeFile(input)).toBe(expected);
  });
});

describe("adversarial input: globs", () => {
  const text = "a".repeat(2000);
  it.each<[string, string, boolean]>([
    ["*a*a*a*a*a*b", text, false],
    ["*a*a*a*a*a*b", text + "b", true],
    ["*?*?*?*?*?*b", text, false],
    ["*a?a?a?a*c", text + "c", true],
    ["a*a*a*a*a", text, true],
    ["*" + "a*".repeat(50) + "b", text, false],
    ["*" + "ab".repeat(20) + "*", rep("ab", 1000), true],
    ["*" + "ab".repeat(20) + "c*", rep("ab", 1000), false],
  ])("%s on %d characters is %s", (glob, input, expected) => {
    expect(globMatcher(glob)(input)).toBe(expected);
  });

  it("a list of globs", () => {
    expect(compileGlobs(["*a*a*a*b", "*ready"])(text + "ready")).toBe(true);
    expect(compileGlobs(["*a*a*a*b", "*ready"])(text)).toBe(false);
  });
});
