/** Consecutive failures that open the breaker for a host. */
export const FAILURES_TO_OPEN = 5;
/** How long an open breaker sends straight to the spool before letting one request try. */
export const OPEN_MS = 30_000;

interface State {
  failures: number;
  openUntil: number;
  probing: boolean;
}

/**
 * A circuit breaker per upstream host, per isolate: after repeated failures
 * the relay stops calling a dead upstream and spools instead; after a pause one
 * request probes it, and one success closes the breaker again.
 */
export class Breakers {
  private hosts = new Map<string, State>();

  /** May a request go to this host now? */
  allow(host: string, now: number): boolean {
    const state = this.hosts.get(host);
    if (!state || state.openUntil === 0) return true;
    if (now < state.openUntil || state.probing) return false;
    state.probing = true;
    return true;
  }

  success(host: string): void {
    this.hosts.delete(host);
  }

  failure(host: string, now: number): void {
    const state = this.hosts.get(host) ?? { failures: 0, openUntil: 0, probing: false };
    state.failures++;
    state.probing = false;
    if (state.failures >= FAILURES_TO_OPEN) state.openUntil = now + OPEN_MS;
    this.hosts.set(host, state);
  }

  isOpen(host: string, now: number): boolean {
    const state = this.hosts.get(host);
    return state !== undefined && state.openUntil > now;
  }
}

export const breakers = new Breakers();
