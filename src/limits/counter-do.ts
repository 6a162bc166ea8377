import { DurableObject } from "cloudflare:workers";
import type { QuotaConfig } from "../config/schema";
import type { Env } from "../env";
import { bucketAt, bucketExpiry, MAX_WINDOW_SECONDS, oldestCounted, secondsUntilExpiry, windowShape } from "./window";

/** One quota counter touched by one request: which window, how much is needed now, how much to lease. */
export interface LeaseRequest {
  /** `<quota id>` or `<quota id>:<public key>` for key-scoped quotas. */
  key: string;
  limit: number;
  windowSeconds: number;
  /** Units the caller must have for its current item, all or nothing. */
  need: number;
  /** Units it would like to hold for the next ones (≥ need). */
  want: number;
  /** Units from an earlier lease it did not use, and the bucket they were counted in. */
  giveBack?: { units: number; bucket: number };
}

export interface LeaseGrant {
  key: string;
  granted: number;
  /** The bucket the grant was counted in, so unused units can be given back. */
  bucket: number;
  /** Units used in the window after this grant. */
  used: number;
  /** When nothing was granted: seconds until enough units leave the window. */
  retryAfter?: number;
}

export interface QuotaSnapshot {
  source: "override" | "config";
  quotas: QuotaConfig[];
  usage: Array<{ quota: string; publicKey?: string; used: number; limit: number; window: number }>;
  calls: { leases: number; overrideReads: number };
}

/** A lease never takes more than this share of what is left, so one isolate cannot starve the others. */
const LEASE_SHARE = 0.1;

/** Expired rows are swept at most this often per counter (so a row outlives its window by up to this). */
export const SWEEP_INTERVAL_MS = 60_000;
/** Rows one sweep deletes at most; more wait a second for the next. */
export const SWEEP_BATCH = 20_000;

/**
 * Counters created before rows carried `expires` have the old table: add the
 * column, and give their rows the longest window a quota may have, since the
 * window a row was counted in is not recorded. They are swept then at the
 * latest, sooner when their key is leased again (which prunes its old
 * buckets); none is dropped while it could still count.
 */
function migrateUsageExpiry(sql: SqlStorage, now: number): void {
  const columns = sql.exec("SELECT * FROM usage LIMIT 0").columnNames;
  if (columns.includes("expires")) return;
  sql.exec("ALTER TABLE usage ADD COLUMN expires INTEGER");
  sql.exec("UPDATE usage SET expires = ? WHERE expires IS NULL", now + MAX_WINDOW_SECONDS * 1000);
}

/**
 * One project's quotas: usage in sliding windows (see window.ts) and any
 * runtime override, in SQLite so both survive eviction. Grants are counted when granted, so a
 * lease can never let more through than the limit; what the caller does not
 * use it gives back on its next call.
 */
export class QuotaCounter extends DurableObject<Env> {
  /** Calls from the ingest path, which the bench reads: leases and override reads. */
  private calls = { leases: 0, overrideReads: 0 };

  /** When the sweep alarm is set for (ms), as far as this instance knows; null when none is. */
  private sweepAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS usage (key TEXT NOT NULL, bucket INTEGER NOT NULL, units INTEGER NOT NULL, expires INTEGER, PRIMARY KEY (key, bucket))",
    );
    migrateUsageExpiry(ctx.storage.sql, Date.now());
    ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS usage_expires ON usage (expires)");
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS override (id INTEGER PRIMARY KEY CHECK (id = 1), quotas TEXT NOT NULL)");
    void ctx.blockConcurrencyWhile(async () => {
      this.sweepAt = await ctx.storage.getAlarm();
      // Rows from before expiry was recorded (or an alarm lost): make sure a sweep is due.
      if (this.sweepAt === null) this.scheduleSweep(Date.now());
    });
  }

  /**
   * The sweep: rows whose bucket has left its window count for nothing, and
   * keys seen once (a fingerprint that never recurs) would otherwise stay
   * forever. Deletes every expired row, then sets the alarm for the next one
   * to expire, no sooner than SWEEP_INTERVAL_MS from now.
   */
  override async alarm(): Promise<void> {
    this.sweep(Date.now());
  }

  /** One sweep as of `nowMs` (the alarm's; tests choose theirs). */
  sweep(nowMs: number): void {
    this.sweepAt = null;
    // In batches, so a flood's worth of rows never holds the object for long: a full batch brings the next one soon.
    const deleted = this.ctx.storage.sql.exec(
      "DELETE FROM usage WHERE rowid IN (SELECT rowid FROM usage WHERE expires <= ? LIMIT ?)", nowMs, SWEEP_BATCH,
    ).rowsWritten;
    if (deleted >= SWEEP_BATCH) {
      this.sweepAt = nowMs + 1000;
      void this.ctx.storage.setAlarm(this.sweepAt);
      return;
    }
    this.scheduleSweep(nowMs);
  }

  private scheduleSweep(now: number): void {
    const next = this.ctx.storage.sql.exec<{ next: number | null }>("SELECT MIN(expires) AS next FROM usage").one().next;
    if (next !== null) this.sweepNoLaterThan(next, now);
  }

  /** Brings the alarm forward to cover a row expiring at `expires`; never later, never more often than the interval. */
  private sweepNoLaterThan(expires: number, now: number): void {
    const at = Math.max(expires, now + SWEEP_INTERVAL_MS);
    if (this.sweepAt !== null && this.sweepAt <= at) return;
    this.sweepAt = at;
    void this.ctx.storage.setAlarm(at);
  }

  /** Quotas set through the admin API, replacing the configured ones; null when none are set. */
  getOverride(): QuotaConfig[] | null {
    this.calls.overrideReads++;
    return this.readOverride();
  }

  private readOverride(): QuotaConfig[] | null {
    const row = this.ctx.storage.sql.exec<{ quotas: string }>("SELECT quotas FROM override WHERE id = 1").toArray()[0];
    return row ? (JSON.parse(row.quotas) as QuotaConfig[]) : null;
  }

  setOverride(quotas: QuotaConfig[] | null): void {
    if (quotas === null) this.ctx.storage.sql.exec("DELETE FROM override WHERE id = 1");
    else this.ctx.storage.sql.exec("INSERT OR REPLACE INTO override (id, quotas) VALUES (1, ?)", JSON.stringify(quotas));
  }

  lease(requests: LeaseRequest[], nowMs: number = Date.now()): LeaseGrant[] {
    this.calls.leases++;
    return requests.map((request) => this.leaseOne(request, nowMs));
  }

  /**
   * For the admin API, in one call: the quotas in force (override or the
   * configured ones passed in), usage of each counter, and the ingest-path
   * call counts. Reading it counts as none of them.
   */
  snapshot(configured: QuotaConfig[], publicKeys: string[], nowMs: number = Date.now()): QuotaSnapshot {
    const override = this.readOverride();
    const quotas = override ?? configured;
    const usage = quotas.flatMap((quota) => {
      const shape = windowShape(quota.window);
      const entry = (key: string, publicKey?: string) => ({
        quota: quota.id, ...(publicKey ? { publicKey } : {}), used: this.used(key, shape, nowMs), limit: quota.limit, window: quota.window,
      });
      return quota.scope === "key" ? publicKeys.map((k) => entry(`${quota.id}:${k}`, k)) : [entry(quota.id)];
    });
    return { source: override ? "override" : "config", quotas, usage, calls: { ...this.calls } };
  }

  private leaseOne(request: LeaseRequest, nowMs: number): LeaseGrant {
    const shape = windowShape(request.windowSeconds);
    const sql = this.ctx.storage.sql;
    if (request.giveBack && request.giveBack.units > 0 && request.giveBack.bucket >= oldestCounted(shape, nowMs)) {
      sql.exec("UPDATE usage SET units = MAX(0, units - ?) WHERE key = ? AND bucket = ?", request.giveBack.units, request.key, request.giveBack.bucket);
    }
    const used = this.used(request.key, shape, nowMs);
    const remaining = request.limit - used;
    const bucket = bucketAt(shape, nowMs);
    if (remaining < Math.max(1, request.need)) {
      const retryAfter = this.retryAfter(request.key, shape, nowMs, used + request.need - request.limit, request.windowSeconds);
      return { key: request.key, granted: 0, bucket, used, retryAfter };
    }
    const share = Math.max(request.need, Math.floor(remaining * LEASE_SHARE));
    const granted = Math.min(request.want, remaining, share);
    // A row expires when its bucket leaves the window; the longest window wins should a key's window change.
    const expires = bucketExpiry(shape, bucket);
    sql.exec(
      "INSERT INTO usage (key, bucket, units, expires) VALUES (?, ?, ?, ?) ON CONFLICT (key, bucket) DO UPDATE SET units = units + excluded.units, expires = MAX(COALESCE(expires, 0), excluded.expires)",
      request.key, bucket, granted, expires,
    );
    sql.exec("DELETE FROM usage WHERE key = ? AND bucket < ?", request.key, oldestCounted(shape, nowMs));
    this.sweepNoLaterThan(expires, nowMs);
    return { key: request.key, granted, bucket, used: used + granted };
  }

  private used(key: string, shape: ReturnType<typeof windowShape>, nowMs: number): number {
    const row = this.ctx.storage.sql
      .exec<{ total: number | null }>("SELECT SUM(units) AS total FROM usage WHERE key = ? AND bucket >= ?", key, oldestCounted(shape, nowMs))
      .one();
    return row.total ?? 0;
  }

  /** Walks buckets oldest first until `excess` units would have left the window. */
  private retryAfter(key: string, shape: ReturnType<typeof windowShape>, nowMs: number, excess: number, windowSeconds: number): number {
    const rows = this.ctx.storage.sql
      .exec<{ bucket: number; units: number }>("SELECT bucket, units FROM usage WHERE key = ? AND bucket >= ? ORDER BY bucket", key, oldestCounted(shape, nowMs))
      .toArray();
    let freed = 0;
    for (const row of rows) {
      freed += row.units;
      if (freed >= excess) return secondsUntilExpiry(shape, row.bucket, nowMs);
    }
    // More than the limit itself (an item larger than the quota): it will never fit.
    return windowSeconds;
  }
}
