import { RelayError } from "../http/errors";

type Json = Record<string, unknown>;

export interface SecurityContext {
  userAgent?: string;
  environment?: string;
  release?: string;
  now: Date;
}

/**
 * Browser security reports → Sentry events, shaped as Relay normalizes them:
 * the `csp` / `expectct` / `hpkp` / `expectstaple` interface with snake_case
 * fields, a readable message, culprit and tags. Accepts the `report-uri` forms
 * and the Reporting API's batches (`application/reports+json`).
 */
export function securityReportsToEvents(body: unknown, ctx: SecurityContext): Json[] {
  const reports = Array.isArray(body) ? body : [body];
  const events = reports.flatMap((report) => {
    const event = reportToEvent(report);
    return event ? [finish(event, ctx)] : [];
  });
  if (events.length === 0) {
    throw new RelayError(400, "invalid security report: expected csp-report, expect-ct-report, expect-staple-report, an HPKP report or Reporting API csp-violation reports");
  }
  return events;
}

function reportToEvent(report: unknown): Json | undefined {
  if (!isObject(report)) return undefined;
  if (isObject(report["csp-report"])) return cspEvent(snakeCase(report["csp-report"]));
  // Reporting API: camelCase body, document URL on the report itself.
  if (report.type === "csp-violation" && isObject(report.body)) {
    const body = snakeCase(report.body);
    return cspEvent({
      ...body,
      document_uri: body.document_url ?? report.url,
      blocked_uri: body.blocked_url,
      script_sample: body.sample,
      document_url: undefined,
      blocked_url: undefined,
      sample: undefined,
    });
  }
  if (isObject(report["expect-ct-report"])) {
    const expectct = snakeCase(report["expect-ct-report"]);
    return { expectct, message: `Expect-CT failed for '${expectct.hostname}'`, culprit: expectct.hostname, tags: hostTags(expectct) };
  }
  if (isObject(report["expect-staple-report"])) {
    const expectstaple = snakeCase(report["expect-staple-report"]);
    return { expectstaple, message: `Expect-Staple failed for '${expectstaple.hostname}'`, culprit: expectstaple.hostname, tags: hostTags(expectstaple) };
  }
  if (typeof report["hostname"] === "string" && "known-pins" in report) {
    const hpkp = snakeCase(report);
    return { hpkp, message: `Public key pinning validation failed for '${hpkp.hostname}'`, culprit: hpkp.hostname, tags: hostTags(hpkp) };
  }
  return undefined;
}

/** What a directive blocks, for the message (after Relay's CSP naming). */
const DIRECTIVE_NOUNS: Record<string, string> = {
  "child-src": "child", "connect-src": "connect", "font-src": "font", "form-action": "form-action",
  "frame-src": "frame", "frame-ancestors": "frame-ancestor", "img-src": "image", "manifest-src": "manifest",
  "media-src": "media", "object-src": "object", "script-src": "script", "script-src-elem": "script",
  "script-src-attr": "script", "style-src": "style", "style-src-elem": "style", "style-src-attr": "style",
  "worker-src": "worker", "default-src": "resource", "base-uri": "base-uri",
};

function cspEvent(raw: Json): Json | undefined {
  const csp = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v !== ""));
  const violated = typeof csp.violated_directive === "string" ? csp.violated_directive : undefined;
  const effective = typeof csp.effective_directive === "string" ? csp.effective_directive : violated?.split(" ")[0];
  if (!effective) return undefined;
  csp.effective_directive = effective;
  const noun = DIRECTIVE_NOUNS[effective] ?? effective;
  const blocked = typeof csp.blocked_uri === "string" ? csp.blocked_uri : "";
  let message: string;
  if (blocked === "inline") message = `Blocked unsafe inline '${noun}'`;
  else if (blocked === "eval") message = `Blocked unsafe eval() '${noun}'`;
  else if (blocked === "") message = `Blocked '${noun}'`;
  else message = `Blocked '${noun}' from '${hostOf(blocked)}'`;
  return {
    csp,
    message,
    culprit: violated ?? effective,
    request: typeof csp.document_uri === "string" ? { url: csp.document_uri } : undefined,
    tags: [["effective-directive", effective], ...(blocked ? [["blocked-uri", blocked]] : [])],
  };
}

function finish(event: Json, ctx: SecurityContext): Json {
  const request = (event.request as Json | undefined) ?? {};
  const { message, ...rest } = event;
  return {
    ...rest,
    event_id: crypto.randomUUID().replace(/-/g, ""),
    timestamp: ctx.now.getTime() / 1000,
    level: "error",
    logger: "csp",
    logentry: { formatted: message },
    ...(ctx.environment ? { environment: ctx.environment } : {}),
    ...(ctx.release ? { release: ctx.release } : {}),
    request: ctx.userAgent ? { ...request, headers: [["User-Agent", ctx.userAgent]] } : request,
  };
}

function hostTags(report: Json): string[][] {
  return typeof report.hostname === "string" ? [["hostname", report.hostname]] : [];
}

function hostOf(uri: string): string {
  try {
    return new URL(uri).host || uri;
  } catch {
    return uri;
  }
}

/** `blocked-uri` and `blockedURL` both become `blocked_uri` / `blocked_url`. */
function snakeCase(object: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(object)) {
    const snake = key.replace(/-/g, "_").replace(/([a-z0-9])([A-Z]+)/g, "$1_$2").toLowerCase();
    out[snake] = value;
  }
  return out;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
