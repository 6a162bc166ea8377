import { newItem } from "../envelope/envelope";
import type { EnvelopeItem } from "../envelope/types";
import type { Outcome } from "../outcomes";

/** How long dropped counts may wait for an envelope to ride on before they are sent alone. */
export const CLIENT_REPORT_MAX_AGE_MS = 60_000;

type Field = "discarded_events" | "rate_limited_events" | "filtered_events" | "filtered_sampling_events";

/** Sentry's client-report field for each of our outcome reasons. */
const FIELD: Record<Outcome["reason"], Field> = {
  filtered: "filtered_events",
  rate_limited: "rate_limited_events",
  spike_protected: "rate_limited_events",
  sampled: "filtered_sampling_events",
  invalid: "discarded_events",
};

interface Pending {
  since: number;
  counts: Map<string, { outcome: Outcome["reason"]; field: Field; reason: string; category: Outcome["category"]; quantity: number }>;
}

/**
 * What the edge dropped, per project, waiting to be reported upstream as a
 * Sentry `client_report`, so the upstream's stats show what really happened.
 * Kept in the isolate: counts not yet sent are lost if the isolate is evicted.
 */
const pending = new Map<string, Pending>();

export function recordOutcomes(projectId: string, outcomes: readonly Outcome[], now: number): void {
  if (outcomes.length === 0) return;
  const entry = pending.get(projectId) ?? { since: now, counts: new Map() };
  for (const outcome of outcomes) {
    const field = FIELD[outcome.reason];
    const reason = outcome.detail ?? outcome.reason;
    const key = `${field}/${reason}/${outcome.category}`;
    const count = entry.counts.get(key) ?? { outcome: outcome.reason, field, reason, category: outcome.category, quantity: 0 };
    count.quantity += outcome.quantity;
    entry.counts.set(key, count);
  }
  pending.set(projectId, entry);
}

export interface TakenReport {
  item: EnvelopeItem;
  /** Puts the counts back, when the envelope carrying them did not get through. */
  restore(): void;
}

/** The project's pending counts as one `client_report` item, cleared from the pending set. */
export function takeClientReport(projectId: string, now: number): TakenReport | undefined {
  const entry = pending.get(projectId);
  if (!entry || entry.counts.size === 0) return undefined;
  pending.delete(projectId);
  const report: Record<string, unknown> = { timestamp: Math.floor(now / 1000) };
  for (const { field, reason, category, quantity } of entry.counts.values()) {
    ((report[field] ??= []) as unknown[]).push({ reason, category, quantity });
  }
  return {
    item: newItem({ type: "client_report" }, JSON.stringify(report)),
    restore: () => {
      recordOutcomes(projectId, [...entry.counts.values()].map((c) => ({ category: c.category, reason: c.outcome, quantity: c.quantity, detail: c.reason })), now);
    },
  };
}

/** Pending counts that have waited long enough to be sent on their own. */
export function reportIsDue(projectId: string, now: number): boolean {
  const entry = pending.get(projectId);
  return entry !== undefined && now - entry.since >= CLIENT_REPORT_MAX_AGE_MS;
}
