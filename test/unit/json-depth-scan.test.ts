import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nestsDeeperThan } from "../../src/json/bounded";

/** The scan as first written, one unit at a time: the quote-to-quote version must agree with it on any input. */
function reference(input: Uint8Array | string, maxDepth: number): boolean {
  if (input.length <= maxDepth) return false;
  const unit = typeof input === "string" ? (i: number) => input.charCodeAt(i) : (i: number) => input[i]!;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < input.length; i++) {
    const c = unit(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** Text dense in what the scan cares about: quotes, backslash runs, brackets. */
const jsonish = fc
  .array(fc.constantFrom('"', "\\", "\\\\", '\\"', "[", "]", "{", "}", "a", ":", ",", "é", "☃", "🎉", " "), { maxLength: 80 })
  .map((parts) => parts.join(""));

describe("the depth scan", () => {
  it("agrees with the unit-by-unit scan on text and on its UTF-8 bytes", () => {
    fc.assert(
      fc.property(jsonish, fc.integer({ min: 0, max: 6 }), (text, maxDepth) => {
        const expected = reference(text, maxDepth);
        expect(nestsDeeperThan(text, maxDepth)).toBe(expected);
        expect(nestsDeeperThan(new TextEncoder().encode(text), maxDepth)).toBe(expected);
      }),
      { numRuns: 5000 },
    );
  });

  it("agrees on real JSON nested around its limit", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 9 }), (value, maxDepth) => {
        const text = JSON.stringify(value);
        expect(nestsDeeperThan(text, maxDepth)).toBe(reference(text, maxDepth));
        expect(nestsDeeperThan(new TextEncoder().encode(text), maxDepth)).toBe(reference(text, maxDepth));
      }),
      { numRuns: 2000 },
    );
  });

  it("finds the closing quote after long backslash runs", () => {
    const escaped = `"${'\\\\'.repeat(5000)}\\"[[[["`;
    expect(nestsDeeperThan(`[${escaped},[[]]]`, 3)).toBe(false);
    expect(nestsDeeperThan(`[${escaped},[[[]]]]`, 3)).toBe(true);
  });
});
