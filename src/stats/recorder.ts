import { itemCategory, itemQuantity } from "../envelope/categories";
import { payloadLength } from "../envelope/envelope";
import type { EnvelopeItem } from "../envelope/types";
import type { Env } from "../env";
import type { Outcome } from "../outcomes";
import { bucketStart, MINUTE_MS, type LedgerOutcome, type LedgerRow } from "./buckets";

/** A project's batch goes to its ledger at most this often from one isolate. */
export const FLUSH_INTERVAL_MS = 1_000;
/**
 * Distinct counters one project's batch holds. Every part of a key comes from
 * the config or a fixed vocabulary, so this is never reached in practice;
 * past it new reasons fold into `other`, and past the slack they are lost
 * (and counted in `lostCounts`).
 */
export const MAX_BATCH_KEYS = 512;
const OVERFLOW_SLACK = 64;
/** Projects with a batch in this isolate; projects come from the config, this only caps a mistake. */
const MAX_PROJECTS = 10_000;

interface Batch {
  rows: Map<string, LedgerRow>;
  lastFlush: number;
  inFlight?: Promise<void>;
}

/** Counts waiting in this isolate for their project's ledger. Lost with the isolate: at most one flush interval's worth. */
const batches = new Map<string, Batch>();
let lost = 0;

/** Counts this isolate had to throw away because a batch was full. */
export function lostCounts(): number {
  return lost;
}

/** Ledger rows for the pipeline's drops, one per outcome, in the minute of `now`. */
export function outcomeRows(outcomes: readonly Outcome[], now: number): LedgerRow[] {
  return outcomes.map((o) => ({ t: now, category: o.category, outcome: o.reason, reason: o.detail ?? o.reason, quantity: o.quantity, bytes: 0 }));
}

/**
 * Ledger rows for items under one outcome: counted as the pipeline counts
 * them (category and quantity of categories.ts), with their payload bytes.
 * Items of no category (client reports, unknown types) are not counted, as
 * no outcome names them either.
 */
export function itemRows(items: readonly EnvelopeItem[], outcome: LedgerOutcome, reason: string, now: number): LedgerRow[] {
  const rows: LedgerRow[] = [];
  for (const item of items) {
    const category = itemCategory(item.header);
    if (category) rows.push({ t: now, category, outcome, reason, quantity: itemQuantity(item), bytes: payloadLength(item) });
  }
  return rows;
}

/** Adds rows to the project's batch in this isolate. */
export function addToBatch(projectId: string, rows: readonly LedgerRow[], now: number): void {
  if (rows.length === 0) return;
  let batch = batches.get(projectId);
  if (!batch) {
    if (batches.size >= MAX_PROJECTS) {
      lost += rows.reduce((n, row) => n + row.quantity, 0);
      return;
    }
    // A new batch may flush at once: the first counts of a project wait for nothing.
    batch = { rows: new Map(), lastFlush: now - FLUSH_INTERVAL_MS };
    batches.set(projectId, batch);
  }
  for (const row of rows) merge(batch.rows, row);
}

function merge(rows: Map<string, LedgerRow>, row: LedgerRow): void {
  const t = bucketStart(row.t, MINUTE_MS);
  let key = `${t}\u0000${row.category}\u0000${row.outcome}\u0000${row.reason}`;
  let reason = row.reason;
  if (!rows.has(key) && rows.size >= MAX_BATCH_KEYS) {
    reason = "other";
    key = `${t}\u0000${row.category}\u0000${row.outcome}\u0000${reason}`;
    if (!rows.has(key) && rows.size >= MAX_BATCH_KEYS + OVERFLOW_SLACK) {
      lost += row.quantity;
      return;
    }
  }
  const existing = rows.get(key);
  if (existing) {
    existing.quantity += row.quantity;
    existing.bytes += row.bytes;
  } else {
    rows.set(key, { ...row, t, reason });
  }
}

/**
 * Sends the project's batch to its ledger through `waitUntil` when the last
 * flush from this isolate is at least FLUSH_INTERVAL_MS old and none is under
 * way; otherwise the counts wait for a later request.
 */
export function flushIfDue(env: Env, projectId: string, now: number, waitUntil: (promise: Promise<unknown>) => void): void {
  const batch = batches.get(projectId);
  if (!batch || batch.rows.size === 0 || batch.inFlight || now - batch.lastFlush < FLUSH_INTERVAL_MS) return;
  waitUntil(flush(env, projectId, batch, now));
}

/** Sends whatever this isolate holds for the project now (the stats API does, before it reads). */
export async function flushNow(env: Env, projectId: string): Promise<void> {
  const batch = batches.get(projectId);
  if (!batch) return;
  await batch.inFlight;
  if (batch.rows.size > 0) await flush(env, projectId, batch, Date.now());
}

function flush(env: Env, projectId: string, batch: Batch, now: number): Promise<void> {
  const rows = [...batch.rows.values()];
  batch.rows = new Map();
  batch.lastFlush = now;
  const sending = send(env, projectId, rows)
    .catch(() => {
      // The ledger did not take them: they go back, bounded like any other counts, for the next flush.
      for (const row of rows) merge(batch.rows, row);
    })
    .finally(() => {
      batch.inFlight = undefined;
    });
  batch.inFlight = sending;
  return sending;
}

async function send(env: Env, projectId: string, rows: LedgerRow[]): Promise<void> {
  const ledger = env.LEDGER;
  if (!ledger) return;
  await ledger.get(ledger.idFromName(projectId)).record(rows);
}
