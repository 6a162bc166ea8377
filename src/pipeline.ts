import type { ProjectConfig, RelayConfig } from "./config/schema";
import type { Envelope } from "./envelope/types";
import type { Env } from "./env";
import { serializeEnvelope } from "./envelope/serialize";
import { recordOutcomes, reportIsDue, takeClientReport } from "./forward/client-reports";
import { breakerTiming } from "./forward/breaker";
import { deliver } from "./forward/deliver";
import { accepted, sendToUpstream, upstreamTarget } from "./forward/upstream";
import { deliveryVerdict, type Verdict } from "./forward/verdict";
import { errorHeaders } from "./http/errors";
import { validateItems } from "./ingest/validate";
import type { Outcome } from "./outcomes";
import { normalizeEventId } from "./envelope/event-id";
import { filterEnvelope } from "./filters/stage";
import { bookFor, counterFor, spikeBookFor, spikeCounterFor } from "./limits/books";
import { enforceLimits, type LimitContext } from "./limits/enforce";
import { formatRateLimits, parseRateLimits, retryAfterSeconds, type RateLimit } from "./limits/header";
import { effectiveQuotas } from "./limits/overrides";
import { activeUpstreamLimits, rememberUpstreamLimits } from "./limits/upstream-limits";
import { compileScrubber } from "./scrub/compile";
import { spikeAndSample, type SamplingConfig } from "./spike/stage";
import { recordPipelineStats, type Forwarded } from "./stats/record";
import { scrubEnvelope } from "./scrub/envelope";
import { eventItem, noteFingerprint } from "./stats/fingerprint-record";

export interface PipelineContext {
  config: RelayConfig;
  env: Env;
  projectId: string;
  project: ProjectConfig;
  /** The DSN public key the request came with, for key-scoped quotas. */
  publicKey: string;
  now: Date;
  clientIp?: string;
  userAgent?: string;
  /** The body as received, reusable by the forwarder while nothing changed. */
  original?: { bytes: Uint8Array; gzipped?: Uint8Array };
  /** Work that may finish after the answer (a standalone client report). */
  waitUntil?: (promise: Promise<unknown>) => void;
  /** Already counted against quotas with the rest of its batch (`limitContext`): stage 3 is not run again. */
  counted?: true;
}

export interface PipelineResult extends Verdict {
  outcomes: Outcome[];
}

/**
 * One envelope, one pass, in the order of the design notes. Authentication,
 * body caps and parsing (stage 1) happened in the endpoint that built the
 * envelope. Whatever the stages drop is reported upstream (7).
 */
export async function runPipeline(envelope: Envelope, ctx: PipelineContext): Promise<PipelineResult> {
  const { reported, forwarded, ...result } = await stages(envelope, ctx);
  recordPipelineStats(ctx, envelope, result.outcomes, forwarded);
  // 7. stats: outcomes of envelopes that were not forwarded wait for the next one, or go alone when due.
  if (!reported) {
    recordOutcomes(ctx.projectId, result.outcomes, ctx.now.getTime());
    if (ctx.project.upstream && ctx.waitUntil && reportIsDue(ctx.projectId, ctx.now.getTime())) {
      ctx.waitUntil(sendReportAlone(ctx));
    }
  }
  return result;
}

async function stages(envelope: Envelope, ctx: PipelineContext): Promise<PipelineResult & { reported?: boolean; forwarded?: Forwarded }> {
  // 1. ingest: items the upstream would refuse are dropped one by one.
  const { envelope: valid, outcomes } = validateItems(envelope, ctx.config.limits);
  if (valid.items.length === 0 && envelope.items.length > 0) {
    return { ...rejectedWhole(outcomes), outcomes };
  }
  if (valid.items.length === 0) {
    return { status: 200, body: {}, headers: {}, outcomes };
  }

  // 2. filter: inbound filters; filtered events are answered 200 and dropped, as Sentry does.
  const filtered = filterEnvelope(valid, ctx.project.filters);
  outcomes.push(...filtered.outcomes);
  if (filtered.envelope.items.length === 0) return { status: 200, body: eventIdBody(envelope), headers: {}, outcomes };

  // 3. limit: quotas and the upstream's own limits, item by item.
  const now = ctx.now.getTime();
  const limited = ctx.counted
    ? { envelope: filtered.envelope, outcomes: [], limits: [] }
    : await enforceLimits(filtered.envelope, await limitContext(ctx));
  outcomes.push(...limited.outcomes);
  if (limited.envelope.items.length === 0) {
    return { ...rateLimitedWhole(limited.limits, now), outcomes };
  }

  // 4. spike + sample: count every occurrence, keep a share, never hide a new fingerprint.
  const sampled = await spikeAndSample(limited.envelope, {
    spike: ctx.project.spike,
    sampling: samplingOf(ctx.project.sampling),
    book: spikeBookFor(ctx.projectId, ctx.config.limits.quotaLeases, ctx.config.limits.leaseBookKeys),
    counter: spikeCounterFor(ctx.env, ctx.projectId),
    projectBook: bookFor(ctx.projectId, ctx.config.limits.quotaLeases, ctx.config.limits.leaseBookKeys),
    projectCounter: counterFor(ctx.env, ctx.projectId),
    timeoutMs: ctx.config.limits.quotaTimeoutMs,
    now,
  });
  outcomes.push(...sampled.outcomes);
  // issue 12: the fingerprint store learns of each error event, dropped here or forwarded after stage 5.
  const fingerprinted = eventItem(limited.envelope);
  if (!eventItem(sampled.envelope)) noteFingerprint(ctx, sampled.fingerprint, fingerprinted, sampled.envelope, sampled.outcomes);
  if (sampled.envelope.items.length === 0) return { status: 200, body: eventIdBody(envelope), headers: {}, outcomes };

  // 5. scrub: nothing private is persisted or sent.
  const scrubbed = scrubEnvelope(sampled.envelope, compileScrubber(ctx.project.scrub));
  outcomes.push(...scrubbed.outcomes);
  if (eventItem(sampled.envelope)) noteFingerprint(ctx, sampled.fingerprint, fingerprinted, scrubbed.envelope, scrubbed.outcomes); // issue 12
  if (scrubbed.envelope.items.length === 0) return { status: 200, body: eventIdBody(envelope), headers: {}, outcomes };

  // 6. forward: upstream and/or archive, carrying what the edge dropped so far.
  recordOutcomes(ctx.projectId, outcomes, now);
  const report = ctx.project.upstream ? takeClientReport(ctx.projectId, now) : undefined;
  const outgoing = report ? { ...scrubbed.envelope, items: [...scrubbed.envelope.items, report.item] } : scrubbed.envelope;
  const delivery = await deliver(outgoing, {
    projectId: ctx.projectId,
    project: ctx.project,
    env: ctx.env,
    timeoutMs: ctx.config.upstreamTimeoutMs,
    now: ctx.now,
    // With IP scrubbing on, the upstream must not learn the address another way.
    clientIp: ctx.project.scrub.scrubIpAddresses ? undefined : ctx.clientIp,
    userAgent: ctx.userAgent,
    original: outgoing === envelope ? ctx.original : undefined,
    breaker: breakerTiming(ctx.config.delivery, ctx.config.upstreamTimeoutMs),
  });
  if (report && !accepted(delivery.upstream) && !delivery.spooled) report.restore();
  if (delivery.upstream?.kind === "response") {
    rememberUpstreamLimits(ctx.projectId, parseRateLimits(delivery.upstream.headers, delivery.upstream.status, now), now);
  }
  const forwarded = { items: scrubbed.envelope.items, delivery };
  return { ...withOurLimits(deliveryVerdict(delivery), limited.limits, now), outcomes, reported: true, forwarded };
}

/** What stage 3 needs to count a project's envelopes against its quotas. */
export async function limitContext(ctx: PipelineContext): Promise<LimitContext> {
  const now = ctx.now.getTime();
  return {
    projectId: ctx.projectId,
    publicKey: ctx.publicKey,
    quotas: await effectiveQuotas(ctx.env, ctx.projectId, ctx.project.quotas, now, ctx.config.limits.quotaTimeoutMs),
    upstreamLimits: activeUpstreamLimits(ctx.projectId, now),
    book: bookFor(ctx.projectId, ctx.config.limits.quotaLeases, ctx.config.limits.leaseBookKeys),
    counter: counterFor(ctx.env, ctx.projectId),
    failure: ctx.project.quotaFailure,
    timeoutMs: ctx.config.limits.quotaTimeoutMs,
    now,
  };
}

/** A client report on its own, for a project whose events have all been dropped for a while. */
async function sendReportAlone(ctx: PipelineContext): Promise<void> {
  const report = takeClientReport(ctx.projectId, ctx.now.getTime());
  if (!report || !ctx.project.upstream) return;
  const body = serializeEnvelope({ header: { sent_at: ctx.now.toISOString() }, items: [report.item] });
  const result = await sendToUpstream(upstreamTarget(ctx.project.upstream), { bytes: body }, { timeoutMs: ctx.config.upstreamTimeoutMs });
  if (!accepted(result)) report.restore();
}

function samplingOf(config: ProjectConfig["sampling"]): SamplingConfig {
  const { keepNewFingerprints, ...rates } = config;
  return { keepNewFingerprints, rates: rates as SamplingConfig["rates"] };
}

function eventIdBody(envelope: Envelope): Record<string, unknown> {
  const id = normalizeEventId(envelope.header.event_id);
  return id ? { id } : {};
}

/** Every item was over a limit: 429 as Sentry answers, so SDKs back off. */
function rateLimitedWhole(limits: RateLimit[], now: number): Verdict {
  const retryAfter = Math.max(...limits.map((limit) => retryAfterSeconds(limit, now)));
  const detail = "event submission rejected with_reason: rate limited";
  return {
    status: 429,
    body: { detail },
    headers: errorHeaders(detail, { "retry-after": String(retryAfter), "x-sentry-rate-limits": formatRateLimits(limits, now) }),
  };
}

/** Some items were limited and the rest went on: the answer still names the limits. */
function withOurLimits(verdict: Verdict, limits: RateLimit[], now: number): Verdict {
  if (limits.length === 0) return verdict;
  const ours = formatRateLimits(limits, now);
  const theirs = verdict.headers["x-sentry-rate-limits"];
  return { ...verdict, headers: { ...verdict.headers, "x-sentry-rate-limits": theirs ? `${ours}, ${theirs}` : ours } };
}

/** Every item was invalid: say why, as Relay would for a single bad event. */
function rejectedWhole(outcomes: Outcome[]): Verdict {
  const tooLarge = outcomes.some((o) => o.detail === "too_large");
  const reasons = [...new Set(outcomes.map((o) => o.detail))].join(", ");
  const detail = `every item in the envelope was invalid (${reasons})`;
  return { status: tooLarge ? 413 : 400, body: { detail }, headers: errorHeaders(detail) };
}
