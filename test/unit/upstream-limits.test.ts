import { describe, expect, it } from "vitest";
import { activeUpstreamLimits, MAX_UPSTREAM_LIMITS, rememberUpstreamLimits } from "../../src/limits/upstream-limits";

describe("limits an upstream announced", () => {
  it("keep one entry per distinct limit however often the upstream repeats it, the latest end winning", () => {
    for (let i = 0; i < 10_000; i++) {
      rememberUpstreamLimits("u1", [
        { categories: ["transaction"], until: 60_000 + i, scope: "project", reasonCode: "quota" },
        { categories: [], until: 30_000, scope: "organization" },
      ], i);
    }
    expect(activeUpstreamLimits("u1", 10_000)).toEqual([
      { categories: ["transaction"], until: 69_999, scope: "project", reasonCode: "quota" },
      { categories: [], until: 30_000, scope: "organization" },
    ]);
    expect(activeUpstreamLimits("u1", 30_000)).toHaveLength(1);
  });

  it("keep at most MAX_UPSTREAM_LIMITS, those lasting longest", () => {
    const many = Array.from({ length: 500 }, (_, i) => ({ categories: [`c${i}`], until: 1_000 + i, scope: "project" }));
    rememberUpstreamLimits("u2", many, 0);
    const kept = activeUpstreamLimits("u2", 0);
    expect(kept).toHaveLength(MAX_UPSTREAM_LIMITS);
    expect(Math.min(...kept.map((l) => l.until))).toBe(1_000 + 500 - MAX_UPSTREAM_LIMITS);
  });
});
