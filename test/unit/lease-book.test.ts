import { describe, expect, it } from "vitest";
import type { LeaseGrant, LeaseRequest } from "../../src/limits/counter-do";
import { DEFAULT_BOOK_KEYS, LeaseBook, sharedKeyStore, type LeaseCall } from "../../src/limits/leases";
import { bookFor, spikeBookFor } from "../../src/limits/books";
import { LruMap } from "../../src/limits/lru";
import { relayConfigSchema } from "../../src/config/schema";

/**
 * A counter that counts like the Durable Object (one window that never
 * rolls, grants capped at a tenth of what is left, give-backs honoured), so
 * a test can see exactly how many units were granted per key.
 */
function countingCounter() {
  const used = new Map<string, number>();
  let calls = 0;
  const call: LeaseCall = async (requests: LeaseRequest[]) => {
    calls++;
    return requests.map((r): LeaseGrant => {
      let u = used.get(r.key) ?? 0;
      if (r.giveBack) u = Math.max(0, u - r.giveBack.units);
      const remaining = r.limit - u;
      if (remaining < Math.max(1, r.need)) {
        used.set(r.key, u);
        return { key: r.key, granted: 0, bucket: 1, used: u, retryAfter: 30 };
      }
      const granted = Math.min(r.want, remaining, Math.max(r.need, Math.floor(remaining * 0.1)));
      used.set(r.key, u + granted);
      return { key: r.key, granted, bucket: 1, used: u + granted };
    });
  };
  return { call, used, calls: () => calls };
}

/** A counter with no memory of its own: grants what is asked, so only the book's memory is measured. */
const grantAll: LeaseCall = async (requests) =>
  requests.map((r) => ({ key: r.key, granted: r.want, bucket: 1, used: r.want }));

const fp = (i: number) => `fp:${i.toString(16).padStart(32, "0")}`;
const one = (key: string, limit = 100) => [{ quota: { key, limit, windowSeconds: 60 }, amounts: [1] }];

describe("LruMap", () => {
  it("forgets the least recently used beyond its capacity; a read counts as a use, a peek does not", () => {
    const lru = new LruMap<string, number>(3);
    lru.set("a", 1);
    lru.set("b", 2);
    lru.set("c", 3);
    expect(lru.get("a")).toBe(1);
    expect(lru.peek("b")).toBe(2);
    lru.set("d", 4);
    expect([lru.peek("a"), lru.peek("b"), lru.peek("c"), lru.peek("d")]).toEqual([1, undefined, 3, 4]);
    expect(lru.size).toBe(3);
    lru.resize(1);
    expect(lru.size).toBe(1);
    expect(lru.peek("d")).toBe(4);
    expect(() => new LruMap(0)).toThrow(RangeError);
  });
});

describe("LeaseBook memory", () => {
  it("holds at most its cap of keys through 1,000,000 distinct fingerprints, and keeps a hot one", { timeout: 120_000 }, async () => {
    const cap = 1_000;
    // As the relay keeps them: a project's spike book in the isolate's fingerprint store.
    const book = new LeaseBook(true, { store: sharedKeyStore(cap), prefix: "42/spike/lease\u0000" });
    const hot = "fp:hot";
    let largest = 0;
    let hotCalls = 0;
    for (let i = 0; i < 1_000_000; i++) {
      await book.take(one(fp(i)), grantAll, 1_000);
      if (book.size > largest) largest = book.size;
      if (i % 100 === 0) {
        const before = book.calls;
        const result = await book.take(one(hot, 1_000_000), grantAll, 1_000);
        expect(result.get(hot)![0]!.ok).toBe(true);
        hotCalls += book.calls - before;
      }
    }
    expect(largest).toBe(cap);
    expect(book.size).toBe(cap);
    // Used every 100 events, the hot key was never evicted: its growing lease served it with few calls.
    expect(book.usedAsOfLastGrant(hot)).toBeGreaterThan(0);
    expect(hotCalls).toBeLessThan(20);
  });

  it("holds at most the cap of fingerprints for all projects together, each project's keys apart", async () => {
    const store = sharedKeyStore(1_000);
    const a = new LeaseBook(true, { store, prefix: "1/spike\u0000" });
    const b = new LeaseBook(true, { store, prefix: "2/spike\u0000" });
    const counter = countingCounter();
    // The same fingerprint in two projects is two keys: each has its own quota.
    for (let i = 0; i < 3; i++) expect((await a.take(one("fp:same", 3), counter.call, 0)).get("fp:same")![0]!.ok).toBe(true);
    expect((await a.take(one("fp:same", 3), counter.call, 0)).get("fp:same")![0]!.ok).toBe(false);
    expect((await b.take(one("fp:same", 3), grantAll, 0)).get("fp:same")![0]!.ok).toBe(true);
    for (let i = 0; i < 100_000; i++) {
      await (i % 2 ? a : b).take(one(fp(i)), grantAll, 0);
      expect(store.size).toBeLessThanOrEqual(1_000);
    }
    expect(a.size).toBe(1_000);
  });

  it("gives every project's spike book the isolate's one fingerprint store, and each quota book its own", async () => {
    const spikeA = spikeBookFor("7001", true, 500);
    const spikeB = spikeBookFor("7002", true, 500);
    const quotas = bookFor("7001", true, 500);
    for (let i = 0; i < 2_000; i++) await (i % 2 ? spikeA : spikeB).take(one(fp(i)), grantAll, 0);
    expect(spikeA.size).toBe(500);
    expect(spikeB.size).toBe(500);
    expect(quotas.size).toBe(0);
    expect(spikeBookFor("7001", true, 500)).toBe(spikeA);
  });

  it("uses the default cap unless told otherwise, and the config's field defaults to it", () => {
    expect(new LeaseBook().maxKeys).toBe(DEFAULT_BOOK_KEYS);
    const config = relayConfigSchema.parse({ projects: {} });
    expect(config.limits.leaseBookKeys).toBe(DEFAULT_BOOK_KEYS);
    expect(relayConfigSchema.safeParse({ projects: {}, limits: { leaseBookKeys: 10 } }).success).toBe(false);
  });

  it("shrinks to a smaller cap at once", async () => {
    const book = new LeaseBook(true, 500);
    for (let i = 0; i < 500; i++) await book.take(one(fp(i)), grantAll, 0);
    book.resize(100);
    expect(book.size).toBe(100);
  });
});

describe("LeaseBook eviction never admits more than the quota", () => {
  it("an evicted lease's units stay counted: the key gets fewer than its limit, never more", async () => {
    const counter = countingCounter();
    const book = new LeaseBook(true, 2);
    const limit = 1_000;
    let admitted = 0;
    for (let round = 0; round < 300; round++) {
      // Ten events in a row grow the victim's lease beyond what it then uses...
      for (let i = 0; i < 10; i++) {
        const result = await book.take(one("fp:victim", limit), counter.call, 0);
        if (result.get("fp:victim")![0]!.ok) admitted++;
      }
      // ...and two other keys push it, with its unused units, out of the book.
      await book.take(one(fp(2 * round)), counter.call, 0);
      await book.take(one(fp(2 * round + 1)), counter.call, 0);
    }
    expect(counter.used.get("fp:victim")).toBe(limit);
    expect(admitted).toBeLessThan(limit);
    expect(admitted).toBeGreaterThan(0);
  });

  it("a forgotten 'limited until' costs one more counter call, which refuses again", async () => {
    const counter = countingCounter();
    const book = new LeaseBook(false, 2);
    const key = "fp:spiking";
    for (let i = 0; i < 3; i++) await book.take(one(key, 3), counter.call, 0);
    expect((await book.take(one(key, 3), counter.call, 0)).get(key)![0]).toEqual({ ok: false, retryAfter: 30 });
    expect(book.limitedFor(key, 0)).toBe(30);

    await book.take(one(fp(1)), counter.call, 0);
    await book.take(one(fp(2)), counter.call, 0);
    expect(book.limitedFor(key, 0)).toBe(0);

    const calls = counter.calls();
    expect((await book.take(one(key, 3), counter.call, 0)).get(key)![0]).toEqual({ ok: false, retryAfter: 30 });
    expect(counter.calls()).toBe(calls + 1);
    expect(counter.used.get(key)).toBe(3);
  });
});
