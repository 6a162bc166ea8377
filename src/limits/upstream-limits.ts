import { type RateLimit } from "./header";

/**
 * Limits an upstream announced (its 429s and X-Sentry-Rate-Limits), kept per
 * project in this isolate and enforced like our own, so the relay stops
 * sending what the upstream has said it will refuse.
 */
const byProject = new Map<string, RateLimit[]>();

export function rememberUpstreamLimits(projectId: string, limits: readonly RateLimit[], now: number): void {
  if (limits.length === 0) return;
  const kept = activeUpstreamLimits(projectId, now);
  byProject.set(projectId, [...kept, ...limits]);
}

export function activeUpstreamLimits(projectId: string, now: number): RateLimit[] {
  const limits = byProject.get(projectId);
  if (!limits) return [];
  const active = limits.filter((limit) => limit.until > now);
  if (active.length !== limits.length) byProject.set(projectId, active);
  return active;
}
