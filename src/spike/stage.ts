import { itemCategory } from "../envelope/categories";
import { dropEvent, EVENT_TYPES } from "../envelope/drop";
import type { DataCategory, Envelope } from "../envelope/types";
import { eventOf, type Event } from "../event";
import type { LeaseBook, LeaseCall } from "../limits/leases";
import type { Outcome } from "../outcomes";
import { fingerprint } from "./fingerprint";
import { withTimeout } from "../limits/timeout";
import { countProjectEvent } from "./project-spike";
import { keepBySample } from "./sample";

export interface SpikeConfig {
  perFingerprint: number;
  window: number;
  projectFactor?: number;
  projectMinimum?: number;
  projectSampleRate?: number;
}

export interface SamplingConfig {
  keepNewFingerprints: boolean;
  rates: Partial<Record<DataCategory, number>>;
}

export interface SpikeContext {
  spike?: SpikeConfig;
  sampling: SamplingConfig;
  book: LeaseBook;
  counter?: LeaseCall;
  /** The project's own counter and book, for project spike mode. */
  projectBook?: LeaseBook;
  projectCounter?: LeaseCall;
  timeoutMs: number;
  now: number;
}

/** Counting without a ceiling: newness per minute, for sampling alone. */
const COUNT_ONLY: SpikeConfig = { perFingerprint: Number.MAX_SAFE_INTEGER, window: 60 };

/**
 * Stage 4: per-fingerprint spike protection, then sampling. Beyond
 * `perFingerprint` events per `window` for one fingerprint the payload is
 * dropped and only counted (`spike_protected`); sampling keeps a share of the
 * rest by trace id (whole traces) or event id, and never drops the first
 * event of a fingerprint in a window when `keepNewFingerprints` is on. The
 * counter is the quota counter's, leased per fingerprint, so a hot
 * fingerprint costs no Durable Object call once it is known to be spiking.
 */
export async function spikeAndSample(envelope: Envelope, ctx: SpikeContext): Promise<{ envelope: Envelope; outcomes: Outcome[]; fingerprint?: string }> {
  const index = envelope.items.findIndex((item) => EVENT_TYPES.has(item.header.type));
  if (index < 0) return { envelope, outcomes: [] };
  const item = envelope.items[index]!;
  const event = eventOf(item);
  const category = itemCategory(item.header) ?? "error";

  let rate = ctx.sampling.rates[category] ?? 1;
  // Project spike mode: while the project runs far above its baseline, every rate tightens.
  let projectSpike = false;
  if (ctx.spike?.projectFactor !== undefined && ctx.projectBook) {
    const config = { projectFactor: ctx.spike.projectFactor, projectMinimum: ctx.spike.projectMinimum ?? 100 };
    projectSpike = await countProjectEvent(ctx.projectBook, ctx.projectCounter, config, ctx.now, ctx.timeoutMs);
    if (projectSpike) rate *= ctx.spike.projectSampleRate ?? 0.1;
  }
  // Fingerprints are counted for the spike guard, and to know a new one when sampling could drop it.
  const counting = ctx.spike ?? (rate < 1 && ctx.sampling.keepNewFingerprints ? COUNT_ONLY : undefined);
  let isNew = false;
  // issue 12: every error event's fingerprint is returned, for the fingerprint store (src/stats/fingerprint-*).
  const fp = item.header.type === "event" ? fingerprint(event ?? {}) : undefined;
  if (counting && fp !== undefined) {
    const key = `fp:${fp}`;
    const verdict = await spikeVerdict(key, counting, ctx);
    if (verdict === "spiking") return { ...dropEvent(envelope, "spike_protected", "spike_protection"), fingerprint: fp };
    isNew = verdict === "new";
  }

  if (rate < 1 && !(isNew && ctx.sampling.keepNewFingerprints)) {
    if (!keepBySample(samplingId(envelope, event), rate)) {
      return { ...dropEvent(envelope, "sampled", projectSpike ? "project_spike" : "edge_sampling"), fingerprint: fp };
    }
  }
  return { envelope, outcomes: [], fingerprint: fp };
}

async function spikeVerdict(key: string, spike: SpikeConfig, ctx: SpikeContext): Promise<"spiking" | "new" | "known"> {
  if (ctx.book.limitedFor(key, ctx.now) > 0) return "spiking";
  if (!ctx.counter) return "known";
  try {
    const quota = { key, limit: spike.perFingerprint, windowSeconds: spike.window };
    const results = await withTimeout(ctx.book.take([{ quota, amounts: [1] }], ctx.counter, ctx.now), ctx.timeoutMs);
    const take = results.get(key)![0]!;
    if (!take.ok) return "spiking";
    return take.first ? "new" : "known";
  } catch (err) {
    // Spike protection saves money; it never costs data. Without the counter, keep the event.
    console.error(`edge-relay: spike counter unavailable (${(err as Error).message}); keeping the event`);
    return "known";
  }
}

/** The trace id when there is one, so a trace is sampled whole; else the event id. */
function samplingId(envelope: Envelope, event: Event | undefined): string {
  const trace = event?.trace_id ?? (envelope.header.trace as Record<string, unknown> | undefined)?.trace_id;
  if (typeof trace === "string" && trace !== "") return trace;
  return String(event?.event_id ?? envelope.header.event_id ?? "");
}
