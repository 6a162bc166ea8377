import type { Env } from "../env";
import type { FingerprintObservation, ObserveResult } from "./fingerprint-do";

/** Fingerprints one isolate holds per project between flushes; past it, new ones wait for the next flush. */
export const PENDING_MAX = 1000;
/** An isolate flushes a project's observations at most this often. */
let flushIntervalMs = 1000;

/** For tests: flush on every occurrence (0) or restore the default. */
export function setFlushDelay(ms: number): void {
  flushIntervalMs = ms;
}

export interface Occurrence {
  fingerprint: string;
  at: number;
  /** `forwarded`, or the outcome reason it was dropped with. */
  fate: "forwarded" | { dropped: string };
  release?: string;
  /** Scrubbed. */
  title: string;
  culprit?: string;
  level?: string;
  eventId?: string;
}

interface Pending {
  observations: Map<string, FingerprintObservation>;
  /** Occurrences of fingerprints not held because the map was full: counted, not lost silently. */
  overflow: number;
}

/** When each project was last flushed by this isolate (bounded by the configuration, as `pending`). */
const lastFlush = new Map<string, number>();

/** Per project; project ids come from the configuration, so this map is bounded by it. */
const pending = new Map<string, Pending>();

/** Adds one occurrence to this isolate's batch; no I/O. */
export function addOccurrence(projectId: string, o: Occurrence): void {
  let p = pending.get(projectId);
  if (!p) pending.set(projectId, (p = { observations: new Map(), overflow: 0 }));
  let obs = p.observations.get(o.fingerprint);
  if (!obs) {
    if (p.observations.size >= PENDING_MAX) {
      p.overflow++;
      return;
    }
    obs = {
      fingerprint: o.fingerprint, count: 0, forwarded: 0, droppedBy: {}, firstSeen: o.at, lastSeen: o.at,
      firstRelease: o.release, title: o.title,
    };
    p.observations.set(o.fingerprint, obs);
  }
  obs.count++;
  if (o.fate === "forwarded") obs.forwarded++;
  else obs.droppedBy[o.fate.dropped] = (obs.droppedBy[o.fate.dropped] ?? 0) + 1;
  if (o.at < obs.firstSeen) {
    obs.firstSeen = o.at;
    obs.firstRelease = o.release;
  }
  if (o.at >= obs.lastSeen) {
    obs.lastSeen = o.at;
    obs.lastRelease = o.release;
    obs.title = o.title;
    obs.culprit = o.culprit;
    obs.level = o.level;
  }
  if (o.fate === "forwarded" && o.eventId) obs.lastEventId = o.eventId;
}

/**
 * Takes the project's batch and sends it in one call. The answer says which
 * fingerprints were new (decided by the store, once for all isolates) and
 * which regressed: what an alert step acts on.
 */
export async function flushProject(env: Env, projectId: string, maxFingerprints: number): Promise<ObserveResult & { overflow: number }> {
  const p = pending.get(projectId);
  const empty = { new: [], regressed: [], evicted: 0, overflow: 0 };
  if (!p) return empty;
  pending.delete(projectId);
  if (p.observations.size === 0 || !env.FINGERPRINTS) return { ...empty, overflow: p.overflow };
  const store = env.FINGERPRINTS.get(env.FINGERPRINTS.idFromName(projectId));
  const result = await store.observe([...p.observations.values()], maxFingerprints);
  return { new: result.new, regressed: result.regressed, evicted: result.evicted, overflow: p.overflow };
}

/**
 * Records one occurrence and, when this isolate last flushed the project at
 * least `flushIntervalMs` ago, flushes its batch through `waitUntil`: the hot
 * path never waits for the store, and each isolate calls it at most about
 * once a second per project. No timer: a quiet project's last observations
 * wait for its next event. A failed flush is logged and its batch lost:
 * these are statistics, never a reason to fail an event.
 */
export function recordOccurrence(
  env: Env, projectId: string, o: Occurrence, maxFingerprints: number, waitUntil: ((p: Promise<unknown>) => void) | undefined,
  now: number = Date.now(),
): void {
  if (!env.FINGERPRINTS) return;
  addOccurrence(projectId, o);
  if (!waitUntil || now - (lastFlush.get(projectId) ?? -Infinity) < flushIntervalMs) return;
  lastFlush.set(projectId, now);
  waitUntil(flushProject(env, projectId, maxFingerprints).catch((err: Error) => console.error(`edge-relay: fingerprint flush failed (${err.message})`)));
}
