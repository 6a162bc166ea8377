/**
 * Sliding-window arithmetic for quotas. A window of W seconds is cut into at
 * most 60 buckets; usage is the sum of every bucket that overlaps the last W
 * seconds, the oldest counted whole. So no stretch of W seconds ever admits
 * more than the limit (nothing to game at a boundary, unlike fixed windows),
 * and a client waits at most one bucket longer than a perfect log would make
 * it. GCRA would be cheaper still, but with a burst of L it lets 2L - 1
 * through in one window.
 */
/** The longest quota or spike window the config allows (31 days). */
export const MAX_WINDOW_SECONDS = 31 * 86400;

export interface WindowShape {
  bucketMs: number;
  buckets: number;
}

export function windowShape(windowSeconds: number): WindowShape {
  const buckets = Math.max(1, Math.min(60, windowSeconds));
  return { bucketMs: (windowSeconds * 1000) / buckets, buckets };
}

export function bucketAt(shape: WindowShape, nowMs: number): number {
  return Math.floor(nowMs / shape.bucketMs);
}

/** The oldest bucket that still counts at `nowMs`. */
export function oldestCounted(shape: WindowShape, nowMs: number): number {
  return bucketAt(shape, nowMs) - shape.buckets + 1;
}

/** Seconds until `bucket` stops counting: when its units are free again. */
export function secondsUntilExpiry(shape: WindowShape, bucket: number, nowMs: number): number {
  const leavesAt = (bucket + shape.buckets) * shape.bucketMs;
  return Math.max(1, Math.ceil((leavesAt - nowMs) / 1000));
}

/** When `bucket` stops counting (ms): its row may be deleted from then on. */
export function bucketExpiry(shape: WindowShape, bucket: number): number {
  return (bucket + shape.buckets) * shape.bucketMs;
}
