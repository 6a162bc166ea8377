import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { builtinRule, BUILTIN_NAMES, SENSITIVE_KEY_SOURCE, SENSITIVE_WORD, type PatternRule } from "../../src/scrub/builtins";
import { emptyFeatures, readFeatures } from "../../src/scrub/features";

/**
 * The gates and hints of the built-in rules skip a string without running
 * its finder: they must never skip a string the finder would find something
 * in. Random strings are built from the pieces each finder looks for.
 */
const PIECES = [
  "1", "2", "5", "9", "0", "12", "255", "4111", "1111", ".", ":", "::", "-", "-----BEGIN", " PRIVATE KEY-----", "-----END",
  " ", "\t", "\u00a0", "\n", "@", "//", "/", "\\", "=", "&", "?", ";", "'", '"', "a", "b", "x", "f", "e", "DE", "GB", "AB",
  "home", "Users", "users", "Documents and Settings", "C:", "bearer", "Bearer", "BEARER", "token", "password", "example", ".com",
  "fe80", "ffff", "abcd", "4", "3", "7", "8", "6",
];
/** Digits, dots, colons, hex letters and joiners alone, so addresses and numbers come up often. */
const NUMERIC = ["1", "2", "5", "0", "25", "255", ".", ".", ":", ":", "-", " ", "a", "f", "E", "x"];
const texts = fc.oneof(
  fc.array(fc.constantFrom(...PIECES), { maxLength: 30 }).map((parts) => parts.join("")),
  fc.array(fc.constantFrom(...NUMERIC), { maxLength: 40 }).map((parts) => parts.join("")),
);

const rules = BUILTIN_NAMES.map((name) => builtinRule(`@${name}`)).filter((rule): rule is PatternRule => rule?.kind === "pattern");

describe("built-in rule gates never skip a match", () => {
  it.each(rules.map((rule) => [rule.id, rule] as const))("%s", (_id, rule) => {
    const features = emptyFeatures();
    fc.assert(fc.property(texts, (text) => {
      const found = rule.find(text);
      if (found === undefined || found.length === 0) return;
      readFeatures(text, features);
      if (rule.gate !== undefined) expect((features.candidates & rule.gate) !== 0, text).toBe(true);
      if (rule.hint) expect(rule.hint(text, features), text).toBe(true);
    }), { numRuns: 4000, seed: 11 });
  });

  it("gates on the shapes each rule is for", () => {
    const samples: Record<string, string> = {
      "@ip": "peer 10.0.0.1", "@email": "a@example.com", "@creditcard": "4111 1111 1111 1111",
      "@iban": "DE89 3704 0044 0532 0130 00", "@usssn": "078-05-1120", "@mac": "00:1A:2B:3C:4D:5E", "@imei": "490154203237518",
      "@uuid": "550e8400-e29b-41d4-a716-446655440000", "@urlauth": "https://u:p@host", "@userpath": "C:\\Users\\dana\\x",
      "@bearer": "Authorization: Bearer\u00a0abc", "@passwordassign": "password = hunter2",
    };
    const features = emptyFeatures();
    const all: [string, string][] = [...Object.entries(samples), ["@ip", "fe80::1"], ["@ip", "1:2:3:4:5:6:7:8"], ["@ip", "1:2:3:4:5:6:1.2.3.4"]];
    for (const [id, text] of all) {
      const rule = rules.find((r) => r.id === id)!;
      expect(rule.find(text), id).toBeDefined();
      readFeatures(text, features);
      expect((features.candidates & rule.gate!) !== 0, id).toBe(true);
    }
  });
});

describe("SENSITIVE_WORD", () => {
  const words = SENSITIVE_KEY_SOURCE.split("|");
  const reference = new RegExp(SENSITIVE_KEY_SOURCE, "i");
  it("accepts what the sensitive-key pattern accepts, and nothing else", () => {
    const pieces = ["pass", "word", "wd", "private", "key", "-", "_", "se", "cret", "ssion", "id", "ssid", "api", "auth", "a", "c", "redentials",
      "srf", "mysql", "pwd", "t", "oken", "wo", "factor", "bearer", "x", "otp", "P", "K", "S", " "];
    fc.assert(fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 8 }).map((p) => p.join("")), (text) => {
      expect(SENSITIVE_WORD.test(text), text).toBe(reference.test(text));
    }), { numRuns: 5000, seed: 11 });
    for (const word of words) {
      const plain = word.replace(/\[-_\]\?/g, "_").replace(/\[-_\]/g, "-");
      expect(SENSITIVE_WORD.test(plain.toUpperCase()), word).toBe(true);
    }
  });
});
