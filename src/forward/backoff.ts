/** Retry timing for spooled envelopes (defaults of the config's `delivery`). */
export const BASE_DELAY_SECONDS = 2;
export const MAX_DELAY_SECONDS = 15 * 60;

export interface Backoff {
  baseSeconds: number;
  maxSeconds: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseSeconds: BASE_DELAY_SECONDS, maxSeconds: MAX_DELAY_SECONDS };

/** The backoff a config asks for. */
export function backoffOf(delivery: { retryBaseSeconds: number; retryMaxSeconds: number }): Backoff {
  return { baseSeconds: delivery.retryBaseSeconds, maxSeconds: delivery.retryMaxSeconds };
}

/**
 * Exponential backoff with full jitter (a uniform draw up to 2^attempt × base,
 * capped), so a recovering upstream is not met by every spooled envelope at
 * once; an upstream's `Retry-After` is a floor, never shortened (below the cap).
 */
export function retryDelaySeconds(attempt: number, retryAfter: number | undefined, random: () => number = Math.random, backoff: Backoff = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(backoff.maxSeconds, backoff.baseSeconds * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.max(1, Math.round(ceiling * random()));
  return Math.min(backoff.maxSeconds, Math.max(jittered, Math.ceil(retryAfter ?? 0)));
}

/** `Retry-After` as seconds (delta or HTTP date), or undefined. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now) / 1000);
}
