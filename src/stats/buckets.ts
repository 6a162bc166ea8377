import type { Outcome } from "../outcomes";

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Minute buckets are kept this long, then rolled up into hours. */
export const MINUTE_RETENTION_MS = 48 * HOUR_MS;
/** Hour buckets are kept this long, then deleted. */
export const HOUR_RETENTION_MS = 90 * DAY_MS;

export type Resolution = "minute" | "hour" | "day";
export const RESOLUTION_MS: Record<Resolution, number> = { minute: MINUTE_MS, hour: HOUR_MS, day: DAY_MS };

/**
 * What a ledger row counts: items that reached the pipeline (`received`),
 * items the relay passed on (`accepted`: delivered, spooled or archived), or
 * one of the pipeline's drop outcomes.
 */
export type LedgerOutcome = "received" | "accepted" | Outcome["reason"];

/** One counter of one bucket: the ledger's unit of storage and of transfer. */
export interface LedgerRow {
  /** Start of the bucket, ms since the epoch. */
  t: number;
  category: string;
  outcome: LedgerOutcome;
  /** The drop's finer reason (`Outcome.detail`, else the outcome); "" for received/accepted. */
  reason: string;
  quantity: number;
  bytes: number;
}

/** The start of the bucket of `resolution` holding instant `t`. */
export function bucketStart(t: number, resolution: number): number {
  return Math.floor(t / resolution) * resolution;
}

/** Per-category counts as the stats API answers them. */
export interface CategoryStats {
  received: number;
  forwarded: number;
  /** Keyed `<outcome>/<reason>`, e.g. `filtered/release-version`, `sampled/sampled`. */
  dropped: Record<string, number>;
  bytesReceived: number;
  bytesForwarded: number;
}

export interface StatsAnswer {
  series: Array<{ t: string; categories: Record<string, CategoryStats> }>;
  totals: Record<string, CategoryStats>;
}

function emptyStats(): CategoryStats {
  return { received: 0, forwarded: 0, dropped: {}, bytesReceived: 0, bytesForwarded: 0 };
}

/** Adds one row into a category map. Maps are null-prototype: category and reason names come from stored rows. */
function addRow(into: Record<string, CategoryStats>, row: LedgerRow): void {
  const stats = (into[row.category] ??= emptyStats());
  if (row.outcome === "received") {
    stats.received += row.quantity;
    stats.bytesReceived += row.bytes;
  } else if (row.outcome === "accepted") {
    stats.forwarded += row.quantity;
    stats.bytesForwarded += row.bytes;
  } else {
    const key = `${row.outcome}/${row.reason}`;
    stats.dropped[key] = (stats.dropped[key] ?? 0) + row.quantity;
  }
}

function categoryMap(): Record<string, CategoryStats> {
  return Object.create(null) as Record<string, CategoryStats>;
}

/** Rows (already bucketed at `resolution`) as a time series in bucket order plus totals over all of them. */
export function summarize(rows: readonly LedgerRow[], resolution: number): StatsAnswer {
  const buckets = new Map<number, Record<string, CategoryStats>>();
  const totals = categoryMap();
  for (const row of rows) {
    const t = bucketStart(row.t, resolution);
    let categories = buckets.get(t);
    if (!categories) buckets.set(t, (categories = categoryMap()));
    addRow(categories, row);
    addRow(totals, row);
  }
  const series = [...buckets.entries()].sort(([a], [b]) => a - b).map(([t, categories]) => ({ t: new Date(t).toISOString(), categories }));
  return { series, totals };
}
