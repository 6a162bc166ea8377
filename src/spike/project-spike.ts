import type { LeaseBook, LeaseCall } from "../limits/leases";
import { withTimeout } from "../limits/timeout";

/** Counter keys for the project's own event rate, in the project's quota Durable Object. */
const MINUTE = { key: "project-events:60", limit: Number.MAX_SAFE_INTEGER, windowSeconds: 60 };
const HOUR = { key: "project-events:3600", limit: Number.MAX_SAFE_INTEGER, windowSeconds: 3600 };

export interface ProjectSpikeConfig {
  projectFactor: number;
  projectMinimum: number;
}

/**
 * Sentry-style project spike detection: the last minute against the last
 * hour's per-minute average (the minute itself left out), with a floor so a
 * quiet project's first burst does not count. Pure.
 */
export function isProjectSpike(minute: number, hour: number, config: ProjectSpikeConfig): boolean {
  const baseline = Math.max(0, hour - minute) / 59;
  return minute > config.projectMinimum && minute > config.projectFactor * baseline;
}

/**
 * Counts one event against the project's minute and hour windows (leased, so
 * not a Durable Object call per event) and says whether the project is in a
 * spike. Never blocks an event: without the counter it answers "no".
 */
export async function countProjectEvent(book: LeaseBook, counter: LeaseCall | undefined, config: ProjectSpikeConfig, now: number, timeoutMs: number): Promise<boolean> {
  if (!counter) return false;
  try {
    await withTimeout(book.take([{ quota: MINUTE, amounts: [1] }, { quota: HOUR, amounts: [1] }], counter, now), timeoutMs);
  } catch (err) {
    console.error(`edge-relay: project rate counter unavailable (${(err as Error).message})`);
    return false;
  }
  return isProjectSpike(book.usedAsOfLastGrant(MINUTE.key), book.usedAsOfLastGrant(HOUR.key), config);
}
