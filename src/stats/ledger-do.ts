import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { bucketStart, HOUR_MS, HOUR_RETENTION_MS, MINUTE_MS, MINUTE_RETENTION_MS, type LedgerRow } from "./buckets";

/** Hours of minute rows one alarm run rolls up at most; the rest wait for the next run. */
export const ROLLUP_HOURS_PER_RUN = 24;
/** Expired hour rows one alarm run deletes at most. */
export const DELETE_ROWS_PER_RUN = 10_000;
/** When nothing is left to do, the next run comes after this long. */
export const ROLLUP_INTERVAL_MS = HOUR_MS;
/** When a run stopped at its bound, the next comes this soon. */
const BACKLOG_DELAY_MS = 1_000;
/** Rows one `record` call takes at most; a batch is bounded far below this (see recorder.ts). */
const MAX_ROWS_PER_CALL = 5_000;

const COLUMNS = "t INTEGER NOT NULL, category TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT NOT NULL, quantity INTEGER NOT NULL, bytes INTEGER NOT NULL, PRIMARY KEY (t, category, outcome, reason)";
const UPSERT = "ON CONFLICT (t, category, outcome, reason) DO UPDATE SET quantity = quantity + excluded.quantity, bytes = bytes + excluded.bytes";

/**
 * One project's outcome ledger: per-minute buckets of category × outcome ×
 * reason for 48 hours, then per-hour buckets for 90 days. Isolates send it
 * batches (recorder.ts), about once a second each; an alarm rolls old
 * minutes into hours and deletes expired hours, a bounded amount per run.
 */
export class OutcomeLedger extends DurableObject<Env> {
  /** Calls to `record`, for tests and the bench (one per flushed batch). */
  private records = 0;
  private alarmSet = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS minutes (${COLUMNS})`);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS hours (${COLUMNS})`);
  }

  /** Adds a batch of counts, each into the minute bucket of its `t`. */
  async record(rows: LedgerRow[]): Promise<void> {
    this.records++;
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      for (const row of rows.slice(0, MAX_ROWS_PER_CALL)) {
        if (!validRow(row)) continue;
        sql.exec(
          `INSERT INTO minutes (t, category, outcome, reason, quantity, bytes) VALUES (?, ?, ?, ?, ?, ?) ${UPSERT}`,
          bucketStart(row.t, MINUTE_MS), row.category, row.outcome, row.reason, row.quantity, row.bytes,
        );
      }
    });
    if (!this.alarmSet) {
      this.alarmSet = true;
      if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + ROLLUP_INTERVAL_MS);
    }
  }

  /**
   * Rows in [from, to), summed into buckets of `resolution` ms. Minutes come
   * from the minute table; older spans only exist as hours, which are
   * returned at hour granularity whatever the resolution asked.
   */
  async query(from: number, to: number, resolution: number): Promise<LedgerRow[]> {
    const cursor = this.ctx.storage.sql.exec<{ t: number; category: string; outcome: LedgerRow["outcome"]; reason: string; quantity: number; bytes: number }>(
      `SELECT (t / CAST(?1 AS INTEGER)) * CAST(?1 AS INTEGER) AS t, category, outcome, reason, SUM(quantity) AS quantity, SUM(bytes) AS bytes FROM (
         SELECT * FROM minutes WHERE t >= ?2 AND t < ?3
         UNION ALL
         SELECT * FROM hours WHERE t >= ?2 AND t < ?3
       ) GROUP BY 1, category, outcome, reason ORDER BY 1`,
      resolution, from, to,
    );
    return cursor.toArray().map((row) => ({ ...row }));
  }

  /** How many `record` calls this instance served since it started. */
  async recordCalls(): Promise<number> {
    return this.records;
  }

  override async alarm(): Promise<void> {
    const done = rollup(this.ctx.storage, Date.now());
    await this.ctx.storage.setAlarm(Date.now() + (done ? ROLLUP_INTERVAL_MS : BACKLOG_DELAY_MS));
    this.alarmSet = true;
  }
}

function validRow(row: LedgerRow): boolean {
  return Number.isSafeInteger(row.t) && Number.isSafeInteger(row.quantity) && Number.isSafeInteger(row.bytes) && row.quantity >= 0 && row.bytes >= 0
    && typeof row.category === "string" && typeof row.outcome === "string" && typeof row.reason === "string";
}

/**
 * One bounded retention step: minutes older than 48 hours become hour rows
 * (an hour at a time, in one transaction each, so a row is never counted
 * twice or lost), then hours older than 90 days are deleted. True when no
 * backlog is left.
 */
export function rollup(storage: DurableObjectStorage, now: number): boolean {
  const sql = storage.sql;
  const minuteCutoff = bucketStart(now - MINUTE_RETENTION_MS, MINUTE_MS);
  let hours = 0;
  for (; hours < ROLLUP_HOURS_PER_RUN; hours++) {
    const oldest = sql.exec<{ t: number | null }>("SELECT MIN(t) AS t FROM minutes").one().t;
    if (oldest === null || oldest >= minuteCutoff) break;
    const end = Math.min(bucketStart(oldest, HOUR_MS) + HOUR_MS, minuteCutoff);
    storage.transactionSync(() => {
      sql.exec(
        // (The WHERE clause is what lets SQLite parse an upsert on INSERT … SELECT.)
        `INSERT INTO hours (t, category, outcome, reason, quantity, bytes)
           SELECT (t / CAST(?1 AS INTEGER)) * CAST(?1 AS INTEGER), category, outcome, reason, SUM(quantity), SUM(bytes) FROM minutes WHERE t < ?2
           GROUP BY 1, category, outcome, reason ${UPSERT}`,
        HOUR_MS, end,
      );
      sql.exec("DELETE FROM minutes WHERE t < ?", end);
    });
  }
  const hourCutoff = now - HOUR_RETENTION_MS;
  const deleted = sql.exec(
    "DELETE FROM hours WHERE rowid IN (SELECT rowid FROM hours WHERE t < ? LIMIT ?)", hourCutoff, DELETE_ROWS_PER_RUN,
  ).rowsWritten;
  return hours < ROLLUP_HOURS_PER_RUN && deleted < DELETE_ROWS_PER_RUN;
}
