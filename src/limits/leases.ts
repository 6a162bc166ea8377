import type { LeaseGrant, LeaseRequest } from "./counter-do";

/** How long units leased from the counter may be used before what is left goes back. */
export const LEASE_TTL_MS = 1000;
const MAX_LEASE = 10_000;

interface Lease {
  available: number;
  bucket: number;
  expires: number;
  /** The grant started the window's count for this key: its first unit is the window's first. */
  fresh: boolean;
  /** Units consumed from this lease: the next lease asks for a bit more than this. */
  consumed: number;
}

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
 * What one isolate holds of one project's quotas. Units are taken locally
 * from leases; the counter is called only to refill a lease, and not at all
 * while a quota is known to be exhausted ("limited until T"), so a hot project
 * costs a Durable Object call per lease, not per event.
 */
export class LeaseBook {
  private leases = new Map<string, Lease>();
  private limitedUntil = new Map<string, number>();
  /** The counter's last "not now" per key, for items refused while the quota is not exhausted. */
  private lastRetry = new Map<string, number>();
  /** Window usage the counter reported with its last grant, per key. */
  private lastUsed = new Map<string, number>();
  /** Refills under way, so concurrent requests in this isolate wait for one instead of each calling. */
  private inflight = new Map<string, Promise<void>>();
  calls = 0;

  constructor(private readonly leasing: boolean = true) {}

  /** Known exhausted: how many seconds are left, or 0. */
  limitedFor(key: string, now: number): number {
    const until = this.limitedUntil.get(key);
    if (until === undefined) return 0;
    if (until <= now) {
      this.limitedUntil.delete(key);
      return 0;
    }
    return Math.ceil((until - now) / 1000);
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
      const lease = this.current(quota.key, now);
      const total = amounts.reduce((a, b) => a + b, 0);
      if (lease && lease.available >= total) continue;
      const expired = this.leases.get(quota.key);
      const want = this.leasing ? Math.min(MAX_LEASE, Math.max(total, Math.ceil((expired?.consumed ?? 0) * 1.5))) : total;
      refills.push({
        key: quota.key,
        limit: quota.limit,
        windowSeconds: quota.windowSeconds,
        need: Math.min(...amounts),
        want,
        ...(expired && expired.available > 0 ? { giveBack: { units: expired.available, bucket: expired.bucket } } : {}),
      });
      if (expired) expired.available = 0;
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
      const lease = this.leases.get(quota.key);
      results.set(quota.key, amounts.map((amount) => {
        if (lease && lease.available >= amount) {
          const first = lease.fresh;
          lease.fresh = false;
          lease.available -= amount;
          lease.consumed += amount;
          return { ok: true, first };
        }
        return { ok: false, retryAfter: this.limitedFor(quota.key, now) || this.lastRetry.get(quota.key) || 1 };
      }));
    }
    return results;
  }

  private current(key: string, now: number): Lease | undefined {
    const lease = this.leases.get(key);
    return lease && lease.expires > now ? lease : undefined;
  }

  /** Usage of `key`'s window as of the last grant (units leased count as used). */
  usedAsOfLastGrant(key: string): number {
    return this.lastUsed.get(key) ?? 0;
  }

  private apply(grant: LeaseGrant, limit: number, now: number): void {
    this.lastUsed.set(grant.key, grant.used);
    if (grant.granted === 0) {
      const retryAfter = grant.retryAfter ?? 1;
      this.lastRetry.set(grant.key, retryAfter);
      // Only an exhausted quota is cached: a large item refused may leave room for a small one.
      if (grant.used >= limit) this.limitedUntil.set(grant.key, now + retryAfter * 1000);
      this.leases.delete(grant.key);
      return;
    }
    const held = this.current(grant.key, now);
    // Units still held join the new grant; their bucket is the newer one, within a TTL of the truth.
    this.leases.set(grant.key, {
      available: grant.granted + (held?.available ?? 0),
      bucket: grant.bucket,
      expires: now + LEASE_TTL_MS,
      fresh: grant.used === grant.granted && !held,
      consumed: held?.consumed ?? 0,
    });
  }
}
