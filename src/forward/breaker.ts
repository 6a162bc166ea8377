import type { UpstreamResult } from "./upstream";

/** Consecutive failures that open the breaker for a host. */
export const FAILURES_TO_OPEN = 5;
/** How long an open breaker sends straight to the spool before letting one request try. */
export const OPEN_MS = 30_000;
/** A probe may outlive its own request timeout by this much before another may go. */
export const PROBE_GRACE_MS = 5_000;

export interface BreakerTiming {
  /** Failures in a row that open the breaker. */
  failuresToOpen: number;
  /** How long it stays open before a probe. */
  openMs: number;
  /** How long a probe holds the host before it is presumed lost (its request's timeout and some grace). */
  probeMs: number;
}

export const DEFAULT_TIMING: BreakerTiming = { failuresToOpen: FAILURES_TO_OPEN, openMs: OPEN_MS, probeMs: 30_000 + PROBE_GRACE_MS };

interface State {
  failures: number;
  openUntil: number;
  /** A probe is out until then (ms); 0 when none is. */
  probeUntil: number;
}

/**
 * A circuit breaker per upstream host, per isolate: after repeated failures
 * the relay stops calling a dead upstream and spools instead; after a pause one
 * request probes it. The rule for what the upstream says: any answer below 500
 * (2xx, but also 429, 400, 413...) proves the host is up and closes the
 * breaker; a 5xx, a timeout or a network error is a failure. A probe holds the
 * host for `probeMs` at most, so one that never reports back (its invocation
 * cancelled, an exception on the way) cannot keep the breaker half-open.
 * Keyed by upstream host, which comes from the config, never from a request.
 */
export class Breakers {
  private hosts = new Map<string, State>();

  /** May a request go to this host now? When the breaker is open and the pause is over, this one is the probe. */
  allow(host: string, now: number, timing: BreakerTiming = DEFAULT_TIMING): boolean {
    const state = this.hosts.get(host);
    if (!state || state.openUntil === 0) return true;
    if (now < state.openUntil || now < state.probeUntil) return false;
    state.probeUntil = now + timing.probeMs;
    return true;
  }

  /** What came back from the host: an answer below 500 closes the breaker, anything else is a failure. */
  record(host: string, result: UpstreamResult, now: number, timing: BreakerTiming = DEFAULT_TIMING): void {
    if (hostAnswered(result)) this.success(host);
    else this.failure(host, now, timing);
  }

  success(host: string): void {
    this.hosts.delete(host);
  }

  failure(host: string, now: number, timing: BreakerTiming = DEFAULT_TIMING): void {
    const state = this.hosts.get(host) ?? { failures: 0, openUntil: 0, probeUntil: 0 };
    state.failures++;
    state.probeUntil = 0;
    if (state.failures >= timing.failuresToOpen) state.openUntil = now + timing.openMs;
    this.hosts.set(host, state);
  }

  /**
   * The request ended without the host's word (an exception in the relay):
   * nothing is learnt, and a probe it held is released for the next request.
   * Not a failure: content that makes the relay throw must not open the breaker.
   */
  abandon(host: string): void {
    const state = this.hosts.get(host);
    if (state) state.probeUntil = 0;
  }

  isOpen(host: string, now: number): boolean {
    const state = this.hosts.get(host);
    return state !== undefined && state.openUntil > now;
  }

  /** Whether a probe is out for this host (for tests and the admin view). */
  probing(host: string, now: number): boolean {
    const state = this.hosts.get(host);
    return state !== undefined && state.probeUntil > now;
  }
}

/** The upstream host gave an answer of its own: it is up, whatever it thought of the envelope. */
export function hostAnswered(result: UpstreamResult): boolean {
  return result.kind === "response" && result.status < 500;
}

/**
 * One request to `host` under its breaker: not sent while the breaker is
 * open; what it returns (or throws) is recorded, so no path can leave a probe
 * out.
 */
export async function throughBreaker(
  breakers: Breakers,
  host: string,
  now: number,
  timing: BreakerTiming,
  send: () => Promise<UpstreamResult>,
): Promise<UpstreamResult | { kind: "breaker-open" }> {
  if (!breakers.allow(host, now, timing)) return { kind: "breaker-open" };
  let result: UpstreamResult;
  try {
    result = await send();
  } catch (err) {
    breakers.abandon(host);
    throw err;
  }
  breakers.record(host, result, now, timing);
  return result;
}

/** The timing for a config: its breaker settings, and probes that last the upstream timeout and some grace. */
export function breakerTiming(delivery: { breakerFailures: number; breakerOpenMs: number }, upstreamTimeoutMs: number): BreakerTiming {
  return { failuresToOpen: delivery.breakerFailures, openMs: delivery.breakerOpenMs, probeMs: upstreamTimeoutMs + PROBE_GRACE_MS };
}

export const breakers = new Breakers();
