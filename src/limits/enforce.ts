import { itemCategory, itemQuantity } from "../envelope/categories";
import { EVENT_TYPES, TIED_TO_EVENT } from "../envelope/drop";
import type { DataCategory, Envelope, EnvelopeItem } from "../envelope/types";
import type { QuotaConfig } from "../config/schema";
import type { Outcome } from "../outcomes";
import { limitCovers, type RateLimit } from "./header";
import { withTimeout } from "./timeout";
import { recordCounterFailure } from "./failures";
import type { LeaseBook, LeaseCall, Quota } from "./leases";

export interface LimitContext {
  projectId: string;
  publicKey: string;
  quotas: readonly QuotaConfig[];
  upstreamLimits: readonly RateLimit[];
  book: LeaseBook;
  /** Absent when no counter is bound: quotas then fail as configured. */
  counter?: LeaseCall;
  failure: "open" | "closed";
  timeoutMs: number;
  now: number;
}

export interface Limited {
  envelope: Envelope;
  outcomes: Outcome[];
  /** What to tell the SDK in X-Sentry-Rate-Limits: one entry per limit that bit. */
  limits: RateLimit[];
  /** The counter failed and the project fails open: these units went through uncounted. */
  failedOpen: boolean;
}


/**
 * Stage 3: per-project and per-key quotas, and the upstream's own limits.
 * Decides item by item, so what is within quota goes on while the rest is
 * dropped with a `rate_limited` outcome.
 */
export async function enforceLimits(envelope: Envelope, ctx: LimitContext): Promise<Limited> {
  const items = envelope.items.map((item) => ({ item, category: itemCategory(item.header), quantity: itemQuantity(item) }));
  const refused = new Map<number, RateLimit>();
  const demands = new Map<string, { quota: Quota; config: QuotaConfig; indices: number[] }>();

  items.forEach(({ category }, index) => {
    if (!category) return;
    const upstream = ctx.upstreamLimits.find((limit) => limitCovers(limit, category));
    if (upstream) return void refused.set(index, upstream);
    for (const quota of ctx.quotas) {
      if (quota.categories.length > 0 && !quota.categories.includes(category)) continue;
      const key = quota.scope === "key" ? `${quota.id}:${ctx.publicKey}` : quota.id;
      if (quota.limit === 0) return void refused.set(index, quotaLimit(quota, ctx.now + quota.window * 1000));
      const known = ctx.book.limitedFor(key, ctx.now);
      if (known > 0) return void refused.set(index, quotaLimit(quota, ctx.now + known * 1000));
      const demand = demands.get(key) ?? { quota: { key, limit: quota.limit, windowSeconds: quota.window }, config: quota, indices: [] };
      demand.indices.push(index);
      demands.set(key, demand);
    }
  });

  let failedOpen = false;
  // Items a later quota refused outright need nothing from the earlier ones.
  const pending = [...demands.values()]
    .map((d) => {
      const indices = d.indices.filter((i) => !refused.has(i));
      return { ...d, indices, amounts: indices.map((i) => items[i]!.quantity) };
    })
    .filter((d) => d.indices.length > 0);
  if (pending.length > 0) {
    try {
      if (!ctx.counter) throw new Error("no QUOTAS binding");
      const results = await withTimeout(ctx.book.take(pending, ctx.counter, ctx.now), ctx.timeoutMs);
      for (const demand of pending) {
        results.get(demand.quota.key)!.forEach((take, n) => {
          const index = demand.indices[n]!;
          if (!take.ok && !refused.has(index)) refused.set(index, quotaLimit(demand.config, ctx.now + take.retryAfter * 1000));
        });
      }
    } catch (err) {
      const message = (err as Error).message;
      console.error(`edge-relay: quota counter unavailable for project ${ctx.projectId} (${message}); failing ${ctx.failure}`);
      const units = pending.reduce((n, d) => n + d.amounts.reduce((a, b) => a + b, 0), 0);
      recordCounterFailure(ctx.projectId, ctx.failure, units, message, ctx.now);
      if (ctx.failure === "open") {
        failedOpen = true;
      } else {
        for (const demand of pending) {
          for (const index of demand.indices) {
            if (!refused.has(index)) refused.set(index, { ...quotaLimit(demand.config, ctx.now + 1000), reasonCode: "quota_unavailable" });
          }
        }
      }
    }
  }

  // An event that is refused takes its attachments and user report with it.
  const eventRefused = [...refused.keys()].find((i) => EVENT_TYPES.has(items[i]!.item.header.type));
  if (eventRefused !== undefined) {
    items.forEach(({ item }, index) => {
      if (TIED_TO_EVENT.has(item.header.type) && !refused.has(index)) refused.set(index, refused.get(eventRefused)!);
    });
  }
  if (refused.size === 0) return { envelope, outcomes: [], limits: [], failedOpen };

  const kept: EnvelopeItem[] = [];
  const outcomes: Outcome[] = [];
  items.forEach(({ item, category, quantity }, index) => {
    const limit = refused.get(index);
    if (!limit) return void kept.push(item);
    outcomes.push({ category: category as DataCategory, reason: "rate_limited", quantity, ...(limit.reasonCode ? { detail: limit.reasonCode } : {}) });
  });
  return { envelope: { ...envelope, items: kept }, outcomes, limits: distinct([...refused.values()]), failedOpen };
}

function quotaLimit(quota: QuotaConfig, until: number): RateLimit {
  return { categories: quota.categories, until, scope: quota.scope, reasonCode: quota.reasonCode };
}

function distinct(limits: RateLimit[]): RateLimit[] {
  const seen = new Map<string, RateLimit>();
  for (const limit of limits) {
    const key = `${limit.categories.join(";")}:${limit.scope}:${limit.reasonCode ?? ""}`;
    const known = seen.get(key);
    if (!known || known.until < limit.until) seen.set(key, limit);
  }
  return [...seen.values()];
}
