import type { EnvelopeHeader } from "../envelope/types";
import type { UpstreamTarget } from "./upstream";

/**
 * The envelope header names the relay in two places the upstream checks: `dsn`
 * (must agree with X-Sentry-Auth) and the dynamic sampling context's
 * `trace.public_key` (how the upstream finds the trace's root project). Both
 * are pointed at the upstream project; returns the same object when neither
 * needs it, so an untouched envelope stays byte-for-byte.
 */
export function headerForUpstream(
  header: EnvelopeHeader,
  target: UpstreamTarget,
  relayKeys: readonly string[],
): EnvelopeHeader {
  let next = header;
  if (typeof header.dsn === "string" && header.dsn !== target.dsn) {
    next = { ...next, dsn: target.dsn };
  }
  const trace = header.trace;
  if (isObject(trace) && typeof trace.public_key === "string" && relayKeys.includes(trace.public_key.toLowerCase())) {
    next = { ...next, trace: { ...trace, public_key: target.publicKey } };
  }
  return next;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
