import type { DataCategory } from "./envelope/types";

/**
 * What happened to something the relay did not pass on. Every dropped item
 * yields exactly one outcome; stats and client reports both read these.
 * `reason` is Sentry's outcome name; `detail` its finer reason code
 * (Relay's `DiscardReason`, e.g. `too_large`).
 */
export interface Outcome {
  category: DataCategory;
  reason: "filtered" | "rate_limited" | "sampled" | "spike_protected" | "invalid";
  quantity: number;
  detail?: string;
}
