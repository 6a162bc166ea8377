import { describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { bucketStart, HOUR_MS, MINUTE_MS, summarize, type LedgerRow } from "../../src/stats/buckets";
import { addToBatch, flushIfDue, flushNow, FLUSH_INTERVAL_MS, lostCounts, MAX_BATCH_KEYS } from "../../src/stats/recorder";
import { lostReason } from "../../src/stats/record";

const T = Date.UTC(2026, 10, 25, 10, 17, 42, 123);
const row = (over: Partial<LedgerRow>): LedgerRow => ({ t: T, category: "error", outcome: "accepted", reason: "", quantity: 1, bytes: 10, ...over });

/** A ledger that keeps what it is sent, or refuses while `refuse` is set. */
function memoryLedger() {
  const state = { calls: 0, rows: [] as LedgerRow[], refuse: false };
  const stub = {
    record: async (rows: LedgerRow[]) => {
      state.calls++;
      if (state.refuse) throw new Error("ledger unavailable");
      state.rows.push(...rows);
    },
  };
  const env = { LEDGER: { idFromName: (name: string) => name, get: () => stub } } as unknown as Env;
  return { state, env };
}

describe("bucket math", () => {
  it("puts an instant in the bucket that starts at or before it", () => {
    expect(bucketStart(T, MINUTE_MS)).toBe(Date.UTC(2026, 10, 25, 10, 17));
    expect(bucketStart(T, HOUR_MS)).toBe(Date.UTC(2026, 10, 25, 10));
    expect(bucketStart(Date.UTC(2026, 10, 25, 10), HOUR_MS)).toBe(Date.UTC(2026, 10, 25, 10));
  });

  it("summarizes rows into a sorted series and totals with received, forwarded and each drop", () => {
    const answer = summarize(
      [
        row({ t: T + HOUR_MS, outcome: "received", quantity: 2, bytes: 30 }),
        row({ t: T, outcome: "received", quantity: 3, bytes: 40 }),
        row({ t: T, outcome: "accepted", quantity: 2, bytes: 25 }),
        row({ t: T, outcome: "filtered", reason: "release-version", quantity: 1, bytes: 0 }),
        row({ t: T + HOUR_MS, outcome: "rate_limited", reason: "quota", quantity: 2, bytes: 0 }),
      ],
      HOUR_MS,
    );
    expect(answer.series.map((point) => point.t)).toEqual(["2026-11-25T10:00:00.000Z", "2026-11-25T11:00:00.000Z"]);
    expect(answer.series[0]!.categories.error).toEqual({ received: 3, forwarded: 2, dropped: { "filtered/release-version": 1 }, bytesReceived: 40, bytesForwarded: 25 });
    expect(answer.totals.error).toEqual({
      received: 5, forwarded: 2, dropped: { "filtered/release-version": 1, "rate_limited/quota": 2 }, bytesReceived: 70, bytesForwarded: 25,
    });
  });
});

describe("isolate batching", () => {
  it("merges counts per minute × category × outcome × reason and flushes at most once per interval", async () => {
    const { state, env } = memoryLedger();
    const pending: Promise<unknown>[] = [];
    const waitUntil = (p: Promise<unknown>) => void pending.push(p);
    for (let i = 0; i < 100; i++) {
      addToBatch("p-merge", [row({ t: T + i })], T + i);
      flushIfDue(env, "p-merge", T + i, waitUntil);
    }
    await Promise.all(pending);
    // The first request flushed at once; the other 99 wait for the interval.
    expect(state.calls).toBe(1);
    flushIfDue(env, "p-merge", T + 99 + FLUSH_INTERVAL_MS, waitUntil);
    await Promise.all(pending);
    expect(state.calls).toBe(2);
    expect(state.rows).toEqual([
      { ...row({}), t: bucketStart(T, MINUTE_MS), quantity: 1 },
      { ...row({}), t: bucketStart(T, MINUTE_MS), quantity: 99, bytes: 990 },
    ]);
  });

  it("puts the counts back when the ledger refuses them", async () => {
    const { state, env } = memoryLedger();
    state.refuse = true;
    addToBatch("p-refused", [row({ quantity: 4 })], T);
    await flushNow(env, "p-refused");
    expect(state.rows).toEqual([]);
    state.refuse = false;
    addToBatch("p-refused", [row({ quantity: 1 })], T);
    await flushNow(env, "p-refused");
    expect(state.calls).toBe(2);
    expect(state.rows).toEqual([{ ...row({}), t: bucketStart(T, MINUTE_MS), quantity: 5, bytes: 20 }]);
  });

  it("caps a batch's keys: new reasons past the cap fold into `other`, and past the slack are lost and counted", async () => {
    const { state, env } = memoryLedger();
    const rows = Array.from({ length: MAX_BATCH_KEYS + 1 }, (_, i) => row({ outcome: "filtered", reason: `r${i}`, bytes: 0 }));
    addToBatch("p-cap", rows, T);
    await flushNow(env, "p-cap");
    expect(state.rows).toHaveLength(MAX_BATCH_KEYS + 1);
    expect(state.rows.at(-1)).toMatchObject({ reason: "other", quantity: 1 });
    expect(state.rows.reduce((n, r) => n + r.quantity, 0)).toBe(MAX_BATCH_KEYS + 1);

    const before = lostCounts();
    const many = Array.from({ length: 2 * MAX_BATCH_KEYS }, (_, i) => row({ category: `c${i}`, outcome: "filtered", reason: "x", bytes: 0 }));
    addToBatch("p-cap", many, T);
    await flushNow(env, "p-cap");
    const kept = state.rows.slice(MAX_BATCH_KEYS + 1);
    expect(kept.length).toBeLessThan(2 * MAX_BATCH_KEYS);
    expect(kept.reduce((n, r) => n + r.quantity, 0) + lostCounts() - before).toBe(2 * MAX_BATCH_KEYS);
  });
});

describe("delivery fate", () => {
  const response = (status: number) => ({ kind: "response" as const, status, headers: new Headers(), body: "" });
  it("counts an envelope as kept when the upstream took it, it was spooled or archived", () => {
    expect(lostReason({ upstream: response(200) })).toBeUndefined();
    expect(lostReason({ upstream: { kind: "timeout" }, spooled: true })).toBeUndefined();
    expect(lostReason({ upstream: response(400), archive: { ok: true, key: "k" } })).toBeUndefined();
    expect(lostReason({})).toBeUndefined();
  });
  it("names why it was lost otherwise", () => {
    expect(lostReason({ upstream: response(403) })).toBe("upstream_rejected");
    expect(lostReason({ upstream: response(503), spooled: false })).toBe("delivery_failed");
    expect(lostReason({ archive: { ok: false, error: "no bucket" } })).toBe("delivery_failed");
  });
});
