import type { QuotaConfig } from "../config/schema";
import type { Env } from "../env";
import { withTimeout } from "./timeout";

/** How long an isolate trusts what it knows of a project's override: changes take effect within this. */
export const OVERRIDE_TTL_MS = 5000;

const known = new Map<string, { quotas: QuotaConfig[] | null; fetchedAt: number }>();

/**
 * The quotas in force for a project: an admin override if one is set, else
 * the configured ones. Asks the project's Durable Object at most once per
 * TTL per isolate; if it cannot answer in time, the last known answer (or the
 * configuration) stands.
 */
export async function effectiveQuotas(
  env: Env,
  projectId: string,
  configured: QuotaConfig[],
  now: number,
  timeoutMs: number,
): Promise<QuotaConfig[]> {
  const cached = known.get(projectId);
  if (cached && now - cached.fetchedAt < OVERRIDE_TTL_MS) return cached.quotas ?? configured;
  const namespace = env.QUOTAS;
  if (!namespace) return configured;
  try {
    const stub = namespace.get(namespace.idFromName(projectId));
    const quotas = await withTimeout(stub.getOverride(), timeoutMs);
    remember(projectId, quotas, now);
    return quotas ?? configured;
  } catch (err) {
    console.error(`edge-relay: quota overrides for project ${projectId} unavailable (${(err as Error).message})`);
    // Try again on a later request rather than on every one.
    known.set(projectId, { quotas: cached?.quotas ?? null, fetchedAt: now });
    return cached?.quotas ?? configured;
  }
}

/** After an admin change, this isolate knows at once; others within the TTL. */
export function remember(projectId: string, quotas: QuotaConfig[] | null, now: number): void {
  known.set(projectId, { quotas, fetchedAt: now });
}
