import { parseDsn, type Dsn } from "../ingest/auth";
import { RELAY_CLIENT } from "../version";

/** Where and as whom an envelope is sent upstream, derived from the project's DSN. */
export interface UpstreamTarget {
  url: string;
  dsn: string;
  publicKey: string;
}

export function upstreamTarget(dsnText: string): UpstreamTarget {
  const dsn: Dsn | undefined = parseDsn(dsnText);
  // The config schema already validated the DSN; reaching this is a bug.
  if (!dsn) throw new Error(`invalid upstream DSN ${dsnText}`);
  const url = new URL(dsnText);
  url.password = "";
  return {
    url: `${dsn.base}/api/${dsn.projectId}/envelope/`,
    dsn: url.toString(),
    publicKey: dsn.publicKey,
  };
}

/** Bytes in memory, or a stream for envelopes with staged payloads (sent chunked). */
export type OutgoingBody = ({ bytes: Uint8Array } | { stream: ReadableStream<Uint8Array> }) & {
  /** Set when the body is already compressed with this encoding. */
  encoding?: "gzip";
};

export type UpstreamResult =
  | { kind: "response"; status: number; headers: Headers; body: string }
  | { kind: "timeout" }
  | { kind: "network"; message: string };

/** The upstream took the envelope (2xx). */
export function accepted(result: { kind: string; status?: number } | undefined): boolean {
  return result?.kind === "response" && result.status !== undefined && result.status >= 200 && result.status < 300;
}

/**
 * One POST of one envelope. Failures come back as values, not exceptions, so
 * the caller decides per kind what the SDK is told.
 */
export async function sendToUpstream(
  target: UpstreamTarget,
  body: OutgoingBody,
  options: { timeoutMs: number; clientIp?: string; userAgent?: string },
): Promise<UpstreamResult> {
  const headers: Record<string, string> = {
    "content-type": "application/x-sentry-envelope",
    "x-sentry-auth": `Sentry sentry_version=7, sentry_key=${target.publicKey}, sentry_client=${RELAY_CLIENT}`,
    "user-agent": options.userAgent ?? RELAY_CLIENT,
  };
  if (body.encoding) headers["content-encoding"] = body.encoding;
  // Relay passes the client's address on, so the upstream's `{{auto}}` IP inference still works.
  if (options.clientIp) headers["x-forwarded-for"] = options.clientIp;

  try {
    const response = await fetch(target.url, {
      method: "POST",
      headers,
      body: "bytes" in body ? body.bytes : body.stream,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    // Read the body so the connection is released and errors can be reported.
    const text = await response.text();
    return { kind: "response", status: response.status, headers: response.headers, body: text };
  } catch (err) {
    const error = err as Error;
    if (error.name === "TimeoutError" || error.name === "AbortError") return { kind: "timeout" };
    return { kind: "network", message: error.message };
  }
}
