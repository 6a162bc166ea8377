import { errorHeaders } from "../http/errors";
import type { Delivery } from "./deliver";

/** What the SDK is told about one envelope, in Sentry's response shapes. */
export interface Verdict {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

const PASSED_HEADERS = ["retry-after", "x-sentry-rate-limits"];

/**
 * 200 only when the envelope is safe: the upstream took it, it waits in the
 * spool for a retry, or it sits in the archive. Anything else is an error the
 * SDK can see, never a silent loss.
 */
export function deliveryVerdict(delivery: Delivery): Verdict {
  const ok: Verdict = { status: 200, body: delivery.eventId ? { id: delivery.eventId } : {}, headers: {} };
  const archived = delivery.archive?.ok === true;
  const kept = archived || delivery.spooled === true;
  const upstream = delivery.upstream;

  if (delivery.archive && !delivery.archive.ok) {
    console.error(`edge-relay: archive write failed: ${delivery.archive.error}`);
  }
  if (!upstream) {
    return archived ? ok : failure(503, `archive unavailable: ${delivery.archive?.ok === false ? delivery.archive.error : "no destination"}`);
  }
  if (upstream.kind !== "response") {
    const what = upstream.kind === "timeout" ? "timed out" : upstream.kind === "breaker-open" ? "skipped (circuit breaker open)" : `failed (${upstream.message})`;
    console.error(`edge-relay: upstream request ${what}${delivery.spooled ? "; spooled for retry" : ""}`);
    return kept ? ok : failure(503, `upstream unavailable: request ${what}`);
  }

  const passed: Record<string, string> = {};
  for (const name of PASSED_HEADERS) {
    const value = upstream.headers.get(name);
    if (value) passed[name] = value;
  }
  if (upstream.status >= 200 && upstream.status < 300) return { ...ok, headers: passed };
  if (upstream.status === 429) {
    const detail = "upstream rate limit reached";
    return { status: 429, body: { detail }, headers: errorHeaders(detail, passed) };
  }
  if (upstream.status >= 500) {
    console.error(`edge-relay: upstream answered ${upstream.status}: ${upstream.body.slice(0, 200)}${delivery.spooled ? "; spooled for retry" : ""}`);
    return kept ? ok : failure(503, `upstream unavailable: it answered ${upstream.status}`);
  }
  console.error(`edge-relay: upstream refused the envelope with ${upstream.status}: ${upstream.body.slice(0, 200)}`);
  // 400 and 413 are about the envelope and mean the same from us; 401, 403 and
  // 404 are about the relay's own upstream credentials, not the SDK's.
  const status = upstream.status === 400 || upstream.status === 413 ? upstream.status : 502;
  return failure(status, `upstream refused the envelope with ${upstream.status}: ${upstreamDetail(upstream.body)}`);
}

function failure(status: number, detail: string): Verdict {
  return { status, body: { detail }, headers: errorHeaders(detail) };
}

function upstreamDetail(body: string): string {
  try {
    const parsed = JSON.parse(body) as { detail?: unknown };
    if (typeof parsed.detail === "string") return parsed.detail;
  } catch {
    // Not JSON: show the start of the text.
  }
  return body.slice(0, 200) || "(empty body)";
}
