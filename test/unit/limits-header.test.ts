import { describe, expect, it } from "vitest";
import { formatRateLimits, parseRateLimits } from "../../src/limits/header";
import { bucketAt, oldestCounted, secondsUntilExpiry, windowShape } from "../../src/limits/window";

const NOW = 1_795_420_800_000;

describe("X-Sentry-Rate-Limits", () => {
  it("formats Sentry's documented example byte for byte", () => {
    expect(formatRateLimits([
      { categories: ["transaction", "error"], until: NOW + 60_000, scope: "project", reasonCode: "quota_exceeded" },
      { categories: [], until: NOW + 2_700_000, scope: "organization" },
    ], NOW)).toBe("60:transaction;error:project:quota_exceeded, 2700::organization");
  });

  it("rounds retry times up to whole seconds, at least 1", () => {
    expect(formatRateLimits([{ categories: ["error"], until: NOW + 1_200, scope: "key" }], NOW)).toBe("2:error:key");
    expect(formatRateLimits([{ categories: ["error"], until: NOW - 5, scope: "key" }], NOW)).toBe("1:error:key");
  });

  it("parses what it formats, and what upstreams send", () => {
    const headers = new Headers({ "x-sentry-rate-limits": "60:transaction;error:project:quota_exceeded, 2700::organization, junk" });
    expect(parseRateLimits(headers, 200, NOW)).toEqual([
      { categories: ["transaction", "error"], until: NOW + 60_000, scope: "project", reasonCode: "quota_exceeded" },
      { categories: [], until: NOW + 2_700_000, scope: "organization" },
    ]);
  });

  it("reads Retry-After alone on a 429 as every category, and nothing on a plain 200", () => {
    expect(parseRateLimits(new Headers({ "retry-after": "30" }), 429, NOW)).toEqual([{ categories: [], until: NOW + 30_000, scope: "organization" }]);
    expect(parseRateLimits(new Headers({ "retry-after": "30" }), 200, NOW)).toEqual([]);
    expect(parseRateLimits(new Headers(), 429, NOW)).toEqual([{ categories: [], until: NOW + 60_000, scope: "organization" }]);
  });
});

describe("sliding window shape", () => {
  it("cuts a window into at most 60 buckets", () => {
    expect(windowShape(60)).toEqual({ bucketMs: 1000, buckets: 60 });
    expect(windowShape(3600)).toEqual({ bucketMs: 60_000, buckets: 60 });
    expect(windowShape(2)).toEqual({ bucketMs: 1000, buckets: 2 });
  });
  it("counts the oldest overlapping bucket whole and frees it when it slides out", () => {
    const shape = windowShape(60);
    const now = 1_000_500;
    expect(bucketAt(shape, now)).toBe(1000);
    expect(oldestCounted(shape, now)).toBe(941);
    expect(secondsUntilExpiry(shape, 941, now)).toBe(1);
    expect(secondsUntilExpiry(shape, 1000, now)).toBe(60);
  });
});
