import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

export type FingerprintStatus = "new" | "ongoing" | "resolved" | "regressed";

/** What one isolate saw of one fingerprint since its last flush. Title and culprit arrive scrubbed. */
export interface FingerprintObservation {
  fingerprint: string;
  count: number;
  forwarded: number;
  /** Dropped occurrences by outcome reason (`spike_protected`, `sampled`, ...). */
  droppedBy: Record<string, number>;
  firstSeen: number;
  lastSeen: number;
  /** Releases of the batch's first and last occurrence. */
  firstRelease?: string;
  lastRelease?: string;
  title: string;
  culprit?: string;
  level?: string;
  /** The last forwarded occurrence's event id. */
  lastEventId?: string;
}

export interface FingerprintRow {
  fingerprint: string;
  status: FingerprintStatus;
  firstSeen: string;
  lastSeen: string;
  count: number;
  forwarded: number;
  dropped: number;
  droppedBy: Record<string, number>;
  firstRelease: string | null;
  lastRelease: string | null;
  title: string;
  culprit: string | null;
  level: string | null;
  lastEventId: string | null;
  resolvedAt: string | null;
  resolvedIn: string | null;
}

export interface ObserveResult {
  /** Fingerprints this call inserted: each is reported new by exactly one call, ever (until evicted). */
  new: string[];
  /** Fingerprints this call turned from resolved to regressed. */
  regressed: string[];
  evicted: number;
}

export type FingerprintSort = "last_seen" | "count" | "first_seen";

/** A fingerprint reads as `new` this long after it was first seen, then `ongoing`. */
export const NEW_FOR_MS = 24 * 3600 * 1000;
/** Longest title, culprit or release kept (the caller truncates first; this only bounds storage). */
const TEXT_MAX = 256;

type Stored = {
  fingerprint: string;
  status: FingerprintStatus;
  first_seen: number;
  last_seen: number;
  count: number;
  forwarded: number;
  dropped_by: string;
  first_release: string | null;
  last_release: string | null;
  title: string;
  culprit: string | null;
  level: string | null;
  last_event_id: string | null;
  resolved_at: number | null;
  resolved_in: string | null;
  resolved_from: string | null;
};

const SORT_COLUMNS: Record<FingerprintSort, string> = {
  last_seen: "last_seen DESC",
  count: "count DESC, last_seen DESC",
  first_seen: "first_seen DESC",
};

/**
 * One project's fingerprints: when each was first and last seen, how often,
 * what became of its occurrences, and its status. "New" is decided here and
 * only here: a call's statements run without interleaving, so of many
 * isolates flushing the same fingerprint the one whose insert lands first
 * learns it is new. Rows are bounded by the caller's cap; the least recently
 * seen go first.
 */
export class FingerprintStore extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS fingerprints (
      fingerprint TEXT PRIMARY KEY, status TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
      count INTEGER NOT NULL, forwarded INTEGER NOT NULL, dropped_by TEXT NOT NULL,
      first_release TEXT, last_release TEXT, title TEXT NOT NULL, culprit TEXT, level TEXT, last_event_id TEXT,
      resolved_at INTEGER, resolved_in TEXT, resolved_from TEXT)`);
    sql.exec("CREATE INDEX IF NOT EXISTS fingerprints_last_seen ON fingerprints (last_seen)");
  }

  observe(observations: FingerprintObservation[], maxFingerprints: number): ObserveResult {
    const sql = this.ctx.storage.sql;
    const result: ObserveResult = { new: [], regressed: [], evicted: 0 };
    for (const o of observations) {
      const row = sql.exec<Stored>("SELECT * FROM fingerprints WHERE fingerprint = ?", o.fingerprint).toArray()[0];
      if (!row) {
        sql.exec(
          `INSERT INTO fingerprints (fingerprint, status, first_seen, last_seen, count, forwarded, dropped_by,
            first_release, last_release, title, culprit, level, last_event_id) VALUES (?, 'new', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          o.fingerprint, o.firstSeen, o.lastSeen, o.count, o.forwarded, JSON.stringify(o.droppedBy),
          cut(o.firstRelease), cut(o.lastRelease), cut(o.title) ?? "", cut(o.culprit), cut(o.level), o.lastEventId ?? null,
        );
        result.new.push(o.fingerprint);
        continue;
      }
      const regressed = row.status === "resolved" && regresses(row, o);
      if (regressed) result.regressed.push(o.fingerprint);
      const later = o.lastSeen >= row.last_seen;
      sql.exec(
        `UPDATE fingerprints SET status = ?, first_seen = ?, last_seen = ?, count = count + ?, forwarded = forwarded + ?,
          dropped_by = ?, first_release = ?, last_release = ?, title = ?, culprit = ?, level = ?, last_event_id = ?
          WHERE fingerprint = ?`,
        regressed ? "regressed" : row.status,
        Math.min(row.first_seen, o.firstSeen),
        Math.max(row.last_seen, o.lastSeen),
        o.count, o.forwarded,
        JSON.stringify(addCounts(JSON.parse(row.dropped_by) as Record<string, number>, o.droppedBy)),
        o.firstSeen < row.first_seen ? cut(o.firstRelease) : row.first_release,
        later ? cut(o.lastRelease) ?? row.last_release : row.last_release,
        later ? cut(o.title) ?? row.title : row.title,
        later ? cut(o.culprit) ?? row.culprit : row.culprit,
        later ? cut(o.level) ?? row.level : row.level,
        later && o.lastEventId ? o.lastEventId : row.last_event_id,
        o.fingerprint,
      );
    }
    if (result.new.length > 0) result.evicted = this.evict(maxFingerprints, result.new);
    return result;
  }

  /** Least recently seen first, never one this call just reported new (its caller is about to act on it). */
  private evict(maxFingerprints: number, fresh: readonly string[]): number {
    const sql = this.ctx.storage.sql;
    const total = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM fingerprints").one().n;
    const excess = total - Math.max(1, maxFingerprints);
    if (excess <= 0) return 0;
    const keep = new Set(fresh);
    const victims = sql
      .exec<{ fingerprint: string }>("SELECT fingerprint FROM fingerprints ORDER BY last_seen ASC LIMIT ?", excess + keep.size)
      .toArray()
      .filter((r) => !keep.has(r.fingerprint))
      .slice(0, excess);
    for (const v of victims) sql.exec("DELETE FROM fingerprints WHERE fingerprint = ?", v.fingerprint);
    return victims.length;
  }

  list(options: { sort: FingerprintSort; status?: FingerprintStatus; limit: number; now: number }): FingerprintRow[] {
    const status = `CASE WHEN status = 'new' AND first_seen < ? THEN 'ongoing' ELSE status END`;
    const newSince = options.now - NEW_FOR_MS;
    const where = options.status ? `WHERE ${status} = ?` : "";
    const params: unknown[] = [newSince];
    if (options.status) params.push(newSince, options.status);
    params.push(options.limit);
    return this.ctx.storage.sql
      .exec<Stored>(`SELECT *, ${status} AS status FROM fingerprints ${where} ORDER BY ${SORT_COLUMNS[options.sort]} LIMIT ?`, ...params)
      .toArray()
      .map(rowOut);
  }

  /**
   * Marks a fingerprint resolved, optionally in a release; null when unknown.
   * Remembers the last release it was seen in, so that the old release still
   * running is not taken for a regression (see `regresses`).
   */
  resolve(fingerprint: string, release: string | undefined, now: number): FingerprintRow | null {
    const sql = this.ctx.storage.sql;
    const rows = sql.exec<Stored>(
      `UPDATE fingerprints SET status = 'resolved', resolved_at = ?, resolved_in = ?, resolved_from = last_release
        WHERE fingerprint = ? RETURNING *`,
      now, cut(release), fingerprint,
    ).toArray();
    return rows[0] ? rowOut(rows[0]) : null;
  }
}

/**
 * Whether an occurrence after resolution is a regression. Resolved without a
 * release: any occurrence seen after the resolution. Resolved in release R:
 * an occurrence whose release is known and is not the one the fingerprint was
 * last seen in before resolving (so R itself, or any release after it, but
 * not the old deploy still draining); occurrences without a release do not
 * regress it. Versions are not ordered: releases are opaque strings.
 */
function regresses(row: Stored, o: FingerprintObservation): boolean {
  if (row.resolved_at === null || o.lastSeen <= row.resolved_at) return false;
  if (row.resolved_in === null) return true;
  const release = o.lastRelease ?? o.firstRelease;
  return release !== undefined && release !== row.resolved_from;
}

function addCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

function cut(text: string | undefined): string | null {
  return text === undefined ? null : text.slice(0, TEXT_MAX);
}

function rowOut(r: Stored): FingerprintRow {
  const droppedBy = JSON.parse(r.dropped_by) as Record<string, number>;
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    fingerprint: r.fingerprint,
    status: r.status,
    firstSeen: iso(r.first_seen)!,
    lastSeen: iso(r.last_seen)!,
    count: r.count,
    forwarded: r.forwarded,
    dropped: Object.values(droppedBy).reduce((s, n) => s + n, 0),
    droppedBy,
    firstRelease: r.first_release,
    lastRelease: r.last_release,
    title: r.title,
    culprit: r.culprit,
    level: r.level,
    lastEventId: r.last_event_id,
    resolvedAt: iso(r.resolved_at),
    resolvedIn: r.resolved_in,
  };
}
