import { cors } from "hono/cors";
import { quoted, RelayError } from "../http/errors";

/** Headers browser SDKs send and read, as Relay allows and exposes them. */
const ALLOW_HEADERS = [
  "x-sentry-auth", "x-requested-with", "x-forwarded-for", "origin", "referer", "accept",
  "content-type", "authentication", "authorization", "content-encoding", "transfer-encoding",
  "sentry-trace", "baggage",
];
const EXPOSE_HEADERS = ["x-sentry-error", "x-sentry-rate-limits", "retry-after"];

/**
 * CORS for the ingest endpoints. Like Relay, preflights are answered for any
 * origin; the project's `allowedOrigins` are enforced on the POST itself
 * (`checkOrigin`), where the project is known, so a refusal is a readable 403.
 */
export const ingestCors = cors({
  origin: (origin) => origin || "*",
  allowMethods: ["GET", "POST", "OPTIONS"],
  allowHeaders: ALLOW_HEADERS,
  exposeHeaders: EXPOSE_HEADERS,
  maxAge: 3600,
});

/** The browser origin of a request: `Origin`, else the origin of `Referer`. */
export function requestOrigin(headers: Headers): string | undefined {
  const origin = headers.get("origin");
  if (origin) return origin;
  const referer = headers.get("referer");
  if (!referer) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}

/**
 * Sentry's allowed-domains semantics: `*` allows all; `https://app.example.com`
 * matches that scheme, host and port; `*.example.com` (with or without a
 * scheme) matches example.com and every subdomain.
 */
export function originAllowed(origin: string, allowed: readonly string[]): boolean {
  if (allowed.includes("*")) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return allowed.some((pattern) => {
    const scheme = /^(https?):\/\//.exec(pattern)?.[1];
    if (scheme && `${scheme}:` !== url.protocol) return false;
    const hostPattern = pattern.replace(/^https?:\/\//, "");
    if (hostPattern.startsWith("*.")) {
      const apex = hostPattern.slice(2);
      return url.hostname === apex || url.hostname.endsWith(`.${apex}`);
    }
    return url.host === hostPattern;
  });
}

export function checkOrigin(headers: Headers, allowed: readonly string[], projectId: string): void {
  const origin = requestOrigin(headers);
  if (origin !== undefined && !originAllowed(origin, allowed)) {
    throw new RelayError(403, `origin ${quoted(origin)} is not allowed for project ${projectId}`);
  }
}
