import type { LeaseGrant, LeaseRequest } from "./counter-do";
import { LruMap } from "./lru";

/** How long units leased from the counter may be used before what is left goes back. */
export const LEASE_TTL_MS = 1000;
const MAX_LEASE = 10_000;

export interface Quota {
  key: string;
  limit: number;
  windowSeconds: number;
}

/** The part of a DO stub the book needs; tests hand in their own. */
export type LeaseCall = (requests: LeaseRequest[]) => Promise<LeaseGrant[]>;

/** `first`: the first unit counted for this key in the current window (a new fingerprint, for sampling). */
export type Take = { ok: true; first: boolean } | { ok: false; retryAfter: number };

/**
 * The cap on fingerprints an isolate keeps. Spike books are keyed by
 * fingerprint, which the sender chooses, so without a cap an attacker
 * sending distinct messages grows the isolate without end. One key costs
 * about 215 B of V8 heap (its `fp:<md5>` string with the book's prefix, the
 * map entry, one flat state object; `npm run bench:lease-memory`), so the
 * 10,000 keys every project's spike book shares (books.ts) are about 2.1 MiB
 * (2.6 MiB measured after 1,000,000 distinct fingerprints, with the hash
 * table's slack) per isolate, however many projects are flooded. A quota book keeps its own
 * keys under the same cap, but has only a handful (quota ids × configured
 * public keys, and the two project-rate keys): a few KiB per project.
 * `limits.leaseBookKeys` changes it.
 */
export const DEFAULT_BOOK_KEYS = 10_000;

/**
 * Everything a book knows of one key, flat in one object (one allocation, no
 * per-field map) so that eviction forgets it all at once. Zero means "none".
 */
interface KeyState {
  /** Units of the lease not used yet. */
  available: number;
  /** The bucket the lease was counted in, for giving units back. */
  bucket: number;
  /** When the lease lapses (ms); 0 when there is no lease. */
  expires: number;
  /** The grant started the window's count for this key: its first unit is the window's first. */
  fresh: boolean;
  /** Units consumed from this lease: the next lease asks for a bit more than this. */
  consumed: number;
  /** Known exhausted until then (ms). */
  limitedUntil: number;
  /** The counter's last "not now" (s), for items refused while the quota is not exhausted. */
  lastRetry: number;
  /** Window usage the counter reported with its last grant. */
  lastUsed: number;
}

/**
 * What one isolate holds of one project's quotas. Units are taken locally
 * from leases; the counter is called only to refill a lease, and not at all
 * while a quota is known to be exhausted ("limited until T"), so a hot project
 * costs a Durable Object call per lease, not per event.
 *
 * The keys are held in an LRU of `maxKeys`. Forgetting a key never lets more
 * than a quota through, because the counter, not the book, is the truth:
 * - a lease's units were counted as used when granted; evicted, they are
 *   never used nor given back, so the window counts units nobody sent until
 *   they leave it. That refuses a little early, never admits too much (at
 *   most one lease, ≤ 10% of what was left, per eviction);
 * - a forgotten "limited until" costs one more counter call, which refuses
 *   again while the quota is still exhausted;
 * - a forgotten usage figure reads as 0 until the next grant (project spike
 *   detection only, and that key is refreshed by every event).
 * A hot key is used on every event, so it stays at the recent end; a flood
 * of one-off keys evicts other one-off keys first.
 */
/** Where books keep their keys: a book's own, or one several books share (prefixing their keys). */
export type KeyStore = LruMap<string, KeyState>;

/** A store for books to share: at most `maxKeys` keys among all of them. */
export function sharedKeyStore(maxKeys: number): KeyStore {
  return new LruMap(maxKeys);
}

export class LeaseBook {
  private keys: KeyStore;
  /** Set when the store is shared: this book's keys in it start with it. */
  private readonly prefix: string;
  /**
   * Refills under way, so concurrent requests in this isolate wait for one
   * instead of each calling. Entries leave when their call settles: bounded by
   * the calls in flight, not by the keys ever seen.
   */
  private inflight = new Map<string, Promise<void>>();
  calls = 0;

  /** `keys`: the cap of a store of the book's own, or a shared store and this book's prefix in it. */
  constructor(private readonly leasing: boolean = true, keys: number | { store: KeyStore; prefix: string } = DEFAULT_BOOK_KEYS) {
    if (typeof keys === "number") {
      this.keys = new LruMap(keys);
      this.prefix = "";
    } else {
      this.keys = keys.store;
      this.prefix = keys.prefix;
    }
  }

  /** How many keys the book's store holds now (never more than its cap); a shared store's, all books together. */
  get size(): number {
    return this.keys.size;
  }

  get maxKeys(): number {
    return this.keys.limit;
  }

  /** A new cap from a changed config; keys beyond it are forgotten, least recently used first. */
  resize(maxKeys: number): void {
    if (maxKeys !== this.keys.limit) this.keys.resize(maxKeys);
  }

  private at(key: string): string {
    return this.prefix === "" ? key : this.prefix + key;
  }

  /** Known exhausted: how many seconds are left, or 0. */
  limitedFor(key: string, now: number): number {
    const state = this.keys.get(this.at(key));
    if (state === undefined || state.limitedUntil === 0) return 0;
    if (state.limitedUntil <= now) {
      state.limitedUntil = 0;
      return 0;
    }
    return Math.ceil((state.limitedUntil - now) / 1000);
  }

  /**
   * Takes `amounts` (one per item, in order) from each quota's lease,
   * refilling the leases that fall short with a single counter call. Returns
   * per quota and item whether the units were granted.
   */
  async take(demands: Array<{ quota: Quota; amounts: number[] }>, call: LeaseCall, now: number): Promise<Map<string, Take[]>> {
    const waiting = demands.map((d) => this.inflight.get(d.quota.key)).filter((p) => p !== undefined);
    if (waiting.length > 0) await Promise.all(waiting);
    const refills: LeaseRequest[] = [];
    for (const { quota, amounts } of demands) {
      const held = this.keys.get(this.at(quota.key));
      const total = amounts.reduce((a, b) => a + b, 0);
      if (held && held.expires > now && held.available >= total) continue;
      const want = this.leasing ? Math.min(MAX_LEASE, Math.max(total, Math.ceil((held?.consumed ?? 0) * 1.5))) : total;
      refills.push({
        key: quota.key,
        limit: quota.limit,
        windowSeconds: quota.windowSeconds,
        need: Math.min(...amounts),
        want,
        ...(held && held.expires !== 0 && held.available > 0 ? { giveBack: { units: held.available, bucket: held.bucket } } : {}),
      });
      if (held) held.available = 0;
    }
    if (refills.length > 0) {
      this.calls++;
      const limits = new Map(refills.map((r) => [r.key, r.limit]));
      const done = call(refills).then((grants) => {
        for (const grant of grants) this.apply(grant, limits.get(grant.key) ?? Infinity, now);
      });
      const settled = done.catch(() => undefined);
      for (const refill of refills) this.inflight.set(refill.key, settled);
      try {
        await done;
      } finally {
        for (const refill of refills) if (this.inflight.get(refill.key) === settled) this.inflight.delete(refill.key);
      }
    }

    const results = new Map<string, Take[]>();
    for (const { quota, amounts } of demands) {
      const state = this.keys.peek(this.at(quota.key));
      results.set(quota.key, amounts.map((amount) => {
        if (state && state.expires !== 0 && state.available >= amount) {
          const first = state.fresh;
          state.fresh = false;
          state.available -= amount;
          state.consumed += amount;
          return { ok: true, first };
        }
        return { ok: false, retryAfter: this.limitedFor(quota.key, now) || state?.lastRetry || 1 };
      }));
    }
    return results;
  }

  /** Usage of `key`'s window as of the last grant (units leased count as used). */
  usedAsOfLastGrant(key: string): number {
    return this.keys.peek(this.at(key))?.lastUsed ?? 0;
  }

  private apply(grant: LeaseGrant, limit: number, now: number): void {
    const at = this.at(grant.key);
    let state = this.keys.get(at);
    if (!state) {
      state = { available: 0, bucket: 0, expires: 0, fresh: false, consumed: 0, limitedUntil: 0, lastRetry: 0, lastUsed: 0 };
      this.keys.set(at, state);
    }
    state.lastUsed = grant.used;
    if (grant.granted === 0) {
      const retryAfter = grant.retryAfter ?? 1;
      state.lastRetry = retryAfter;
      // Only an exhausted quota is cached: a large item refused may leave room for a small one.
      if (grant.used >= limit) state.limitedUntil = now + retryAfter * 1000;
      state.available = 0;
      state.expires = 0;
      state.consumed = 0;
      return;
    }
    const held = state.expires > now;
    // Units still held join the new grant; their bucket is the newer one, within a TTL of the truth.
    state.fresh = grant.used === grant.granted && !held;
    state.available = grant.granted + (held ? state.available : 0);
    state.consumed = held ? state.consumed : 0;
    state.bucket = grant.bucket;
    state.expires = now + LEASE_TTL_MS;
  }
}
