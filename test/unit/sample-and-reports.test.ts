import { describe, expect, it } from "vitest";
import { recordOutcomes, reportIsDue, takeClientReport, CLIENT_REPORT_MAX_AGE_MS } from "../../src/forward/client-reports";
import { keepBySample } from "../../src/spike/sample";

describe("keepBySample", () => {
  it("is deterministic per id", () => {
    for (const id of ["4bf92f3577b34da6a3ce929d0e0e4736", "not-hex-at-all", ""]) {
      expect(keepBySample(id, 0.5)).toBe(keepBySample(id, 0.5));
    }
  });
  it("keeps everything at 1 and nothing at 0", () => {
    expect(keepBySample("ffffffffffffffffffffffffffffffff", 1)).toBe(true);
    expect(keepBySample("00000000000000000000000000000000", 0)).toBe(false);
  });
  it("keeps a share close to the rate over many ids", () => {
    let kept = 0;
    for (let i = 0; i < 20_000; i++) if (keepBySample(`event-${i}`, 0.25)) kept++;
    expect(kept / 20_000).toBeGreaterThan(0.23);
    expect(kept / 20_000).toBeLessThan(0.27);
  });
  it("keeps a lower rate's ids at every higher rate, so tightening never keeps new ones", () => {
    for (let i = 0; i < 2_000; i++) if (keepBySample(`id-${i}`, 0.1)) expect(keepBySample(`id-${i}`, 0.5)).toBe(true);
  });
});

describe("client reports", () => {
  const now = 1_795_420_800_000;

  it("batch outcomes per project into Sentry's client_report fields", () => {
    recordOutcomes("r1", [
      { category: "error", reason: "filtered", quantity: 1, detail: "web-crawlers" },
      { category: "error", reason: "filtered", quantity: 2, detail: "web-crawlers" },
      { category: "error", reason: "spike_protected", quantity: 5, detail: "spike_protection" },
      { category: "transaction", reason: "sampled", quantity: 3, detail: "edge_sampling" },
      { category: "attachment", reason: "rate_limited", quantity: 1024, detail: "quota_exceeded" },
      { category: "error", reason: "invalid", quantity: 1, detail: "too_large" },
    ], now);
    const taken = takeClientReport("r1", now)!;
    expect(taken.item.header).toEqual({ type: "client_report" });
    expect(JSON.parse(new TextDecoder().decode(taken.item.payload))).toEqual({
      timestamp: Math.floor(now / 1000),
      filtered_events: [{ reason: "web-crawlers", category: "error", quantity: 3 }],
      rate_limited_events: [
        { reason: "spike_protection", category: "error", quantity: 5 },
        { reason: "quota_exceeded", category: "attachment", quantity: 1024 },
      ],
      filtered_sampling_events: [{ reason: "edge_sampling", category: "transaction", quantity: 3 }],
      discarded_events: [{ reason: "too_large", category: "error", quantity: 1 }],
    });
    expect(takeClientReport("r1", now)).toBeUndefined();
  });

  it("put the counts back when the envelope carrying them failed", () => {
    recordOutcomes("r2", [{ category: "error", reason: "sampled", quantity: 7, detail: "edge_sampling" }], now);
    takeClientReport("r2", now)!.restore();
    const again = takeClientReport("r2", now)!;
    expect(JSON.parse(new TextDecoder().decode(again.item.payload)).filtered_sampling_events).toEqual([{ reason: "edge_sampling", category: "error", quantity: 7 }]);
  });

  it("are due alone after a minute without an envelope to ride on", () => {
    recordOutcomes("r3", [{ category: "error", reason: "filtered", quantity: 1, detail: "localhost" }], now);
    expect(reportIsDue("r3", now + CLIENT_REPORT_MAX_AGE_MS - 1)).toBe(false);
    expect(reportIsDue("r3", now + CLIENT_REPORT_MAX_AGE_MS)).toBe(true);
  });
});

describe("project spike mode", () => {
  const config = { projectFactor: 10, projectMinimum: 100 };
  it.each([
    [50, 50, false, "a quiet project's first burst stays under the floor"],
    [500, 500, true, "a burst with no history above the floor"],
    [500, 500 + 59 * 100, false, "500/min against a 100/min baseline is under 10x"],
    [1_200, 1_200 + 59 * 100, true, "1,200/min against a 100/min baseline is over 10x"],
    [150, 150 + 59 * 10, true, "150/min against 10/min"],
  ])("minute %i, hour %i → %s (%s)", async (minute, hour, expected) => {
    const { isProjectSpike } = await import("../../src/spike/project-spike");
    expect(isProjectSpike(minute, hour, config)).toBe(expected);
  });
});
