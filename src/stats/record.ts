import type { Envelope, EnvelopeItem } from "../envelope/types";
import type { Env } from "../env";
import type { Delivery } from "../forward/deliver";
import { accepted } from "../forward/upstream";
import type { Outcome } from "../outcomes";
import { addToBatch, flushIfDue, itemRows, outcomeRows } from "./recorder";

/** What stage 6 handed on, and what became of it. */
export interface Forwarded {
  items: readonly EnvelopeItem[];
  delivery: Delivery;
}

/**
 * Books one envelope's pass through the pipeline in the project's ledger:
 * every counted item as received (with its bytes), each drop as its outcome,
 * and what was handed on as accepted (with its bytes after scrubbing), or as
 * `invalid/upstream_rejected` (a 4xx) or `invalid/delivery_failed` when no
 * destination kept it.
 */
export function recordPipelineStats(
  ctx: { env: Env; projectId: string; now: Date; waitUntil?: (promise: Promise<unknown>) => void },
  received: Envelope,
  outcomes: readonly Outcome[],
  forwarded: Forwarded | undefined,
): void {
  // Without the binding nothing is recorded (and no flush is queued).
  if (!ctx.env.LEDGER) return;
  const now = ctx.now.getTime();
  const rows = [...itemRows(received.items, "received", "", now), ...outcomeRows(outcomes, now)];
  if (forwarded) {
    const lostTo = lostReason(forwarded.delivery);
    rows.push(...(lostTo ? itemRows(forwarded.items, "invalid", lostTo, now).map((row) => ({ ...row, bytes: 0 })) : itemRows(forwarded.items, "accepted", "", now)));
  }
  addToBatch(ctx.projectId, rows, now);
  if (ctx.waitUntil) flushIfDue(ctx.env, ctx.projectId, now, ctx.waitUntil);
}

/**
 * Undefined when some destination kept the envelope: the upstream took it, it
 * waits in the spool for a retry, or it is in the archive (a project with
 * neither upstream nor archive keeps what it accepts by definition); else why not.
 */
export function lostReason(delivery: Delivery): "upstream_rejected" | "delivery_failed" | undefined {
  if (delivery.spooled || delivery.archive?.ok) return undefined;
  if (!delivery.upstream) return delivery.archive === undefined ? undefined : "delivery_failed";
  if (accepted(delivery.upstream)) return undefined;
  return delivery.upstream.kind === "response" && delivery.upstream.status < 500 ? "upstream_rejected" : "delivery_failed";
}
