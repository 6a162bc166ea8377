import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { QuotaCounter as QuotaCounterClass, SWEEP_BATCH, type LeaseRequest, type QuotaCounter } from "../../src/limits/counter-do";
import { MAX_WINDOW_SECONDS } from "../../src/limits/window";

const quotas = (env as Env).QUOTAS!;
let next = 0;
/** A counter of its own per test (storage outlives a test within the file). */
const counter = () => quotas.get(quotas.idFromName(`expiry-${++next}/spike/0`)) as DurableObjectStub<QuotaCounter>;

const fp = (i: number) => `fp:${i.toString(16).padStart(32, "0")}`;
const one = (key: string, windowSeconds = 60, limit = 100): LeaseRequest => ({ key, limit, windowSeconds, need: 1, want: 1 });

type Row = { key: string; bucket: number; units: number; expires: number | null };
const rows = (stub: DurableObjectStub<QuotaCounter>) =>
  runInDurableObject(stub, (_instance, state) => state.storage.sql.exec<Row>("SELECT key, bucket, units, expires FROM usage ORDER BY key").toArray());

describe("quota counter rows expire", () => {
  it("a sweep deletes the rows of fingerprints seen once whose window has passed, and keeps those still counting", async () => {
    const stub = counter();
    const t0 = Date.now();
    // 200 fingerprints seen once, in a 60 s window, and one in an hour's window.
    await stub.lease(Array.from({ length: 200 }, (_, i) => one(fp(i))), t0);
    await stub.lease([one("fp:hourly", 3600, 5)], t0);
    // Two minutes later, one more, just seen.
    const later = t0 + 120_000;
    const [active] = await stub.lease([one("fp:active", 60, 3)], later);
    expect(active!.granted).toBe(1);
    expect(await rows(stub)).toHaveLength(202);

    await runInDurableObject(stub, (instance) => instance.sweep(later));

    const left = await rows(stub);
    expect(left.map((r) => r.key)).toEqual(["fp:active", "fp:hourly"]);
    expect(left.every((r) => r.expires !== null && r.expires > later)).toBe(true);
    // Another sweep is due for what is left.
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).not.toBeNull();

    // What was kept still counts: the hourly fingerprint has 4 of its 5 left, the active one 2 of 3.
    const [hourly, again] = await stub.lease([{ ...one("fp:hourly", 3600, 5), need: 5, want: 5 }, { ...one("fp:active", 60, 3), need: 3, want: 3 }], later);
    expect(hourly).toMatchObject({ granted: 0, used: 1 });
    expect(again).toMatchObject({ granted: 0, used: 1 });
  });

  it("the alarm sweeps on its own: rows whose window passed before it was due are gone", async () => {
    const stub = counter();
    const tenMinutesAgo = Date.now() - 10 * 60_000;
    await stub.lease(Array.from({ length: 200 }, (_, i) => one(fp(i))), tenMinutesAgo);
    await stub.lease([one("fp:active")]);
    // The alarm was due at once (its rows had expired); run it should it not have fired yet.
    await runDurableObjectAlarm(stub);
    expect((await rows(stub)).map((r) => r.key)).toEqual(["fp:active"]);
  });

  it("sweeps a flood in batches, the next one due a second later", async () => {
    const stub = counter();
    const t0 = Date.now();
    const flood = SWEEP_BATCH + 500;
    for (let start = 0; start < flood; start += 2_000) {
      await stub.lease(Array.from({ length: Math.min(2_000, flood - start) }, (_, i) => one(fp(start + i))), t0);
    }
    // Two minutes on, every one of them has left its 60 s window.
    const now = t0 + 120_000;
    await runInDurableObject(stub, (instance) => instance.sweep(now));
    expect(await rows(stub)).toHaveLength(500);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBe(now + 1000);
    await runInDurableObject(stub, (instance) => instance.sweep(now + 1000));
    expect(await rows(stub)).toEqual([]);
  });

  it("sets the sweep alarm with the first row, for when it expires", async () => {
    const stub = counter();
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeNull();
    const now = Date.now();
    await stub.lease([one(fp(1))], now);
    const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    const [row] = await rows(stub);
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeGreaterThanOrEqual(row!.expires!);
  });

  it("leaves nothing and sets no further alarm once every row has expired", async () => {
    const stub = counter();
    await stub.lease(Array.from({ length: 50 }, (_, i) => one(fp(i))), Date.now() - 5 * 60_000);
    await runDurableObjectAlarm(stub);
    expect(await rows(stub)).toEqual([]);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeNull();
  });

  it("migrates a counter made before rows had an expiry: its rows get the longest window's, and a sweep is set", async () => {
    const stub = counter();
    const bucket = Math.floor(Date.now() / 1000);
    await runInDurableObject(stub, (_i, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE usage");
      sql.exec("CREATE TABLE usage (key TEXT NOT NULL, bucket INTEGER NOT NULL, units INTEGER NOT NULL, PRIMARY KEY (key, bucket))");
      sql.exec("INSERT INTO usage (key, bucket, units) VALUES (?, ?, ?), (?, ?, ?)", "errors", bucket, 7, fp(9), bucket - 100, 1);
      return state.storage.deleteAlarm();
    });
    // The migration runs in the constructor, as after a restart: construct the class again on the same storage.
    const before = Date.now();
    await runInDurableObject(stub, (_i, state) => void new QuotaCounterClass(state, env as Env));

    const [grant] = await stub.lease([{ key: "errors", limit: 10, windowSeconds: 60, need: 3, want: 3 }]);
    // The old rows still count until their window passes.
    expect(grant).toMatchObject({ granted: 3, used: 10 });
    const migrated = await rows(stub);
    const old = migrated.find((r) => r.key === fp(9))!;
    expect(old.expires).toBeGreaterThanOrEqual(before + MAX_WINDOW_SECONDS * 1000);
    expect(migrated.filter((r) => r.key === "errors").every((r) => r.expires !== null)).toBe(true);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).not.toBeNull();
  });
});
