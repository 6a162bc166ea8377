import type { Envelope, EnvelopeItem } from "../envelope/types";
import { filterEnvelope } from "../filters/stage";
import { recordOutcomes } from "../forward/client-reports";
import { errorHeaders } from "../http/errors";
import type { Verdict } from "../forward/verdict";
import { enforceLimits, type LimitContext, type Limited } from "../limits/enforce";
import { formatRateLimits, retryAfterSeconds } from "../limits/header";
import type { Outcome } from "../outcomes";
import { limitContext, runPipeline, type PipelineContext, type PipelineResult } from "../pipeline";
import { validateItems } from "./validate";

/**
 * Upstream requests a batch has in flight at once: Workers run at most six
 * outgoing connections per request, later ones wait for a free one anyway.
 */
export const BATCH_CONCURRENCY = 6;

export interface BatchAnswer extends Verdict {
  /** Envelopes the pipeline answered 200 (forwarded, or dropped by a filter or sampling as Sentry answers them). */
  accepted: number;
  /** Envelopes quotas refused. */
  rateLimited: number;
}

/**
 * Stage 3 over every item of the batch. The counter hands one caller at most
 * a share of what is left of a quota (so one isolate cannot starve the
 * others), which can refuse part of a batch while units remain: the refused
 * are asked for again until a pass admits none, so the batch gets exactly
 * what the quota holds. Each pass admits at least one item, or is the last.
 */
async function countAll(items: EnvelopeItem[], ctx: LimitContext): Promise<Limited> {
  const admitted: EnvelopeItem[] = [];
  for (let pending = items; ;) {
    const pass = await enforceLimits({ header: {}, items: pending }, ctx);
    admitted.push(...pass.envelope.items);
    if (pass.envelope.items.length === 0 || pass.envelope.items.length === pending.length) {
      return { ...pass, envelope: { header: {}, items: admitted } };
    }
    const kept = new Set(pass.envelope.items);
    pending = pending.filter((item) => !kept.has(item));
  }
}

/**
 * Envelopes that came in one request and may not share an envelope (the
 * protocol allows one event per envelope: Relay refuses a second `event` or
 * `security` item as a duplicate), passed through the pipeline as one batch:
 *
 * 1. all of them are counted against the project's quotas in a single limit
 *    pass, before any is forwarded (those inbound filters drop are not
 *    counted, as in the pipeline);
 * 2. the rest go through the pipeline, stage 3 skipped, at most
 *    `BATCH_CONCURRENCY` at a time;
 * 3. the answer is 429 when quotas refused every one, else the first failure
 *    when any was lost, else 200; `X-Sentry-Rate-Limits` names the limits
 *    that bit either way.
 *
 * `dropped` are outcomes the caller already decided (reports over its cap):
 * recorded with the batch's own, so they reach the upstream's client report.
 */
export async function runBatch(envelopes: readonly Envelope[], ctx: PipelineContext, dropped: Outcome[] = []): Promise<BatchAnswer> {
  const now = ctx.now.getTime();
  // What stages 1 and 2 keep, exactly as the pipeline will run them again (both are pure).
  const counted = envelopes.map((envelope) =>
    filterEnvelope(validateItems(envelope, ctx.config.limits).envelope, ctx.project.filters).envelope.items);
  const limited = await countAll(counted.flat(), await limitContext(ctx));
  const kept = new Set(limited.envelope.items);
  const toRun = envelopes.filter((_, index) => counted[index]!.every((item) => kept.has(item)));
  recordOutcomes(ctx.projectId, [...dropped, ...limited.outcomes], now);

  const results: PipelineResult[] = [];
  const queue = [...toRun];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) results.push(await runPipeline(next, { ...ctx, counted: true }));
  };
  await Promise.all(Array.from({ length: Math.min(BATCH_CONCURRENCY, queue.length) }, worker));

  const counts = { accepted: results.filter((r) => r.status === 200).length, rateLimited: envelopes.length - toRun.length };
  const headers: Record<string, string> = {};
  if (limited.limits.length > 0) headers["x-sentry-rate-limits"] = formatRateLimits(limited.limits, now);
  if (toRun.length === 0 && limited.limits.length > 0) {
    headers["retry-after"] = String(Math.max(...limited.limits.map((limit) => retryAfterSeconds(limit, now))));
    const detail = "event submission rejected with_reason: rate limited";
    return { status: 429, body: { detail }, headers: errorHeaders(detail, headers), ...counts };
  }
  const failed = results.find((r) => r.status !== 200);
  if (failed) {
    const theirs = failed.headers["x-sentry-rate-limits"];
    const ours = headers["x-sentry-rate-limits"];
    const merged: Record<string, string> = { ...failed.headers, ...headers };
    if (ours && theirs) merged["x-sentry-rate-limits"] = `${ours}, ${theirs}`;
    return { status: failed.status, body: failed.body, headers: merged, ...counts };
  }
  return { status: 200, body: {}, headers, ...counts };
}
