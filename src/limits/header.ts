import type { DataCategory } from "../envelope/types";

/** One entry of `X-Sentry-Rate-Limits`: `retry_after:categories:scope:reason_code`. */
export interface RateLimit {
  /** Empty: every category. */
  categories: readonly string[];
  /** Unix ms until which the limit holds. */
  until: number;
  scope: string;
  reasonCode?: string;
}

/**
 * Sentry's format: `60:transaction;error:project:quota_exceeded, 2700::organization`.
 * Retry times are whole seconds from `now`, at least 1.
 */
export function formatRateLimits(limits: readonly RateLimit[], now: number): string {
  return limits
    .map((limit) => {
      const parts = [String(retryAfterSeconds(limit, now)), limit.categories.join(";"), limit.scope];
      if (limit.reasonCode) parts.push(limit.reasonCode);
      return parts.join(":");
    })
    .join(", ");
}

export function retryAfterSeconds(limit: RateLimit, now: number): number {
  return Math.max(1, Math.ceil((limit.until - now) / 1000));
}

/**
 * An upstream's answer, read as SDKs read it: `X-Sentry-Rate-Limits` when
 * present, else `Retry-After` alone (on a 429) meaning every category.
 */
export function parseRateLimits(headers: Headers, status: number, now: number): RateLimit[] {
  const header = headers.get("x-sentry-rate-limits");
  if (header) {
    return header.split(",").flatMap((entry) => {
      const [retry, categories = "", scope = "organization", reasonCode] = entry.trim().split(":");
      const seconds = Number(retry);
      if (!Number.isFinite(seconds) || seconds <= 0) return [];
      return [{
        categories: categories.split(";").map((c) => c.trim()).filter(Boolean),
        until: now + seconds * 1000,
        scope: scope || "organization",
        ...(reasonCode ? { reasonCode } : {}),
      }];
    });
  }
  if (status === 429) {
    const retry = Number(headers.get("retry-after") ?? "60");
    return [{ categories: [], until: now + (Number.isFinite(retry) && retry > 0 ? retry : 60) * 1000, scope: "organization" }];
  }
  return [];
}

/** Does `limit` cover this category? Sentry's limits name categories; none means all. */
export function limitCovers(limit: RateLimit, category: DataCategory): boolean {
  return limit.categories.length === 0 || limit.categories.includes(category);
}
