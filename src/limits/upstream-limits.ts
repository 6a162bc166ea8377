import { type RateLimit } from "./header";

/** Distinct limits kept per project; an upstream names a few (one per category set and scope). */
export const MAX_UPSTREAM_LIMITS = 64;

/**
 * Limits an upstream announced (its 429s and X-Sentry-Rate-Limits), kept per
 * project in this isolate and enforced like our own, so the relay stops
 * sending what the upstream has said it will refuse. Keyed by configured
 * project ids; per project, one entry per distinct limit (the latest end
 * wins), so an upstream repeating its header on every answer does not grow
 * the list with the request rate, and at most MAX_UPSTREAM_LIMITS of them
 * (those lasting longest).
 */
const byProject = new Map<string, RateLimit[]>();

const shape = (limit: RateLimit) => `${limit.categories.join(";")}:${limit.scope}:${limit.reasonCode ?? ""}`;

export function rememberUpstreamLimits(projectId: string, limits: readonly RateLimit[], now: number): void {
  if (limits.length === 0) return;
  const merged = new Map<string, RateLimit>();
  for (const limit of [...activeUpstreamLimits(projectId, now), ...limits]) {
    const key = shape(limit);
    const known = merged.get(key);
    if (!known || limit.until > known.until) merged.set(key, limit);
  }
  const kept = [...merged.values()];
  if (kept.length > MAX_UPSTREAM_LIMITS) kept.sort((a, b) => b.until - a.until).length = MAX_UPSTREAM_LIMITS;
  byProject.set(projectId, kept);
}

export function activeUpstreamLimits(projectId: string, now: number): RateLimit[] {
  const limits = byProject.get(projectId);
  if (!limits) return [];
  const active = limits.filter((limit) => limit.until > now);
  if (active.length !== limits.length) byProject.set(projectId, active);
  return active;
}
