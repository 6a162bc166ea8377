import { newEventId } from "../envelope/event-id";
import { readEvent, type SecurityReportKind } from "../event";
import { quoted, RelayError } from "../http/errors";

type Json = Record<string, unknown>;
type Pair = [string, string];

export type { SecurityReportKind };

export interface SecurityContext {
  userAgent?: string;
  environment?: string;
  release?: string;
  now: Date;
}

/** What one report contributes before the common fields are added. */
interface Draft {
  kind: SecurityReportKind;
  report: Json;
  message: string;
  culprit?: string;
  tags: Pair[];
  request: { url?: string; headers: Pair[] };
}

/**
 * Browser security reports → Sentry events, shaped as Relay shapes them
 * (relay-event-schema `security_report.rs`, then `normalize_security_report`):
 * the `csp` / `hpkp` / `expectct` / `expectstaple` interface with snake_case
 * fields, `logentry.formatted`, culprit, tags, `request`, logger `csp`.
 * Accepts the `report-uri` bodies and the Reporting API's batches
 * (`application/reports+json`), of which only `csp-violation` is a security
 * report; other types in a batch are skipped, as Relay drops them.
 */
export function securityReportsToEvents(body: unknown, ctx: SecurityContext): Json[] {
  return securityReportBatch(body, ctx, Infinity).events;
}

export interface SecurityBatch {
  events: Json[];
  /** csp-violation reports after the first `maxReports`: dropped unread. */
  overCap: number;
}

/** Names of skipped report types an error repeats. */
const NAMED_SKIPPED = 3;

/**
 * `securityReportsToEvents` for at most `maxReports` reports: those after
 * the first `maxReports` csp-violations of a Reporting API batch are counted,
 * not converted, so a request's work and the upstream requests it causes stay
 * bounded however many reports it carries.
 */
export function securityReportBatch(body: unknown, ctx: SecurityContext, maxReports: number): SecurityBatch {
  if (!Array.isArray(body)) {
    if (!isObject(body)) throw invalid("expected a JSON object or a Reporting API array");
    return { events: [finish(singleReport(body, ""), ctx)], overCap: 0 };
  }
  if (body.length === 0) throw invalid("empty report list");
  const skipped: string[] = [];
  const drafts: Draft[] = [];
  let overCap = 0;
  body.forEach((report, index) => {
    if (!isObject(report)) throw invalid(`report ${index} is not an object`);
    if (report.type !== "csp-violation") {
      if (skipped.length < NAMED_SKIPPED && !skipped.includes(String(report.type))) skipped.push(String(report.type));
    } else if (drafts.length < maxReports) {
      drafts.push(singleReport(report, `report ${index}: `));
    } else {
      overCap++;
    }
  });
  if (drafts.length === 0) throw invalid(`no csp-violation report in the list (got ${skipped.map((type) => quoted(type)).join(", ")})`);
  return { events: drafts.map((draft) => finish(draft, ctx)), overCap };
}

/** The kind of a security event, read from its interface as Relay infers the event type. */
export function securityReportKind(event: Json): SecurityReportKind | undefined {
  return readEvent(event).security_report;
}

/** Relay's detection order: csp-report, csp-violation, known-pins, expect-staple-report, expect-ct-report. */
function singleReport(report: Json, where: string): Draft {
  if ("csp-report" in report) return cspDraft(objectField(report, "csp-report", where), undefined, where);
  if (report.type === "csp-violation") {
    // Reporting API: camelCase body; the document's URL also sits on the report itself.
    return cspDraft(objectField(report, "body", where), typeof report.url === "string" ? report.url : undefined, where);
  }
  if ("known-pins" in report) return hpkpDraft(report, where);
  if ("expect-staple-report" in report) return expectStapleDraft(objectField(report, "expect-staple-report", where), where);
  if ("expect-ct-report" in report) return expectCtDraft(objectField(report, "expect-ct-report", where), where);
  if (typeof report.type === "string") throw invalid(`${where}unsupported report type ${quoted(report.type)}`);
  throw invalid(`${where}expected csp-report, expect-ct-report, expect-staple-report or an HPKP report`);
}

// ---------------------------------------------------------------- CSP

/** Relay's `CspRaw`: snake_case names, also read in kebab-case and the Reporting API's camelCase. */
const CSP_FIELDS: Field[] = [
  ["effective_directive", "string", "effectiveDirective"],
  ["blocked_uri", "string", "blockedURL"],
  ["document_uri", "string", "documentURL"],
  ["original_policy", "string", "originalPolicy"],
  ["referrer", "string"],
  ["status_code", "uint", "statusCode"],
  ["violated_directive", "string", "violatedDirective"],
  ["source_file", "string", "sourceFile"],
  ["line_number", "uint", "lineNumber"],
  ["column_number", "uint", "columnNumber"],
  ["script_sample", "string", "scriptSample", "sample"],
  ["disposition", "string"],
];

/** Relay's `CspDirective`: a directive outside this list makes the report invalid. */
const DIRECTIVES = new Set([
  "base-uri", "child-src", "connect-src", "default-src", "fenced-frame-src", "font-src", "form-action",
  "frame-ancestors", "frame-src", "img-src", "manifest-src", "media-src", "object-src", "plugin-types",
  "prefetch-src", "referrer", "script-src", "script-src-attr", "script-src-elem", "style-src", "style-src-elem",
  "style-src-attr", "upgrade-insecure-requests", "worker-src", "sandbox", "navigate-to", "report-uri", "report-to",
  "block-all-mixed-content", "require-sri-for", "require-trusted-types-for", "trusted-types",
]);

function cspDraft(raw: Json, reportUrl: string | undefined, where: string): Draft {
  const csp = readFields(raw, CSP_FIELDS, true);
  // Relay's defaults: a missing blocked-uri means the document itself; Firefox sends no effective-directive.
  const blocked = (csp.blocked_uri as string | undefined) ?? "self";
  const violated = (csp.violated_directive as string | undefined) ?? "";
  const directive = knownDirective(csp.effective_directive) ?? knownDirective(violated);
  if (!directive) throw invalid(`${where}no known CSP directive in effective-directive or violated-directive`);
  const documentUri = (csp.document_uri as string | undefined) ?? reportUrl;
  // Read again so the settled values keep Relay's field order.
  const report = readFields({ ...csp, effective_directive: directive, blocked_uri: blocked, violated_directive: violated, document_uri: documentUri }, CSP_FIELDS, true);

  const tags: Pair[] = [["effective-directive", directive], ["blocked-uri", withoutStripeSecrets(blocked)]];
  const blockedUrl = parseUrl(blocked);
  if (blockedUrl && /^https?:$/.test(blockedUrl.protocol) && blockedUrl.hostname) tags.push(["blocked-host", blockedUrl.hostname]);
  const referrer = report.referrer;
  return {
    kind: "csp",
    report,
    message: cspMessage(directive, blocked),
    // Relay leaves the culprit empty without a violated-directive (Reporting API bodies have none); the directive says more.
    culprit: cspCulprit(violated, documentUri) || directive,
    tags,
    request: { url: documentUri, headers: typeof referrer === "string" && referrer !== "" ? [["Referer", referrer]] : [] },
  };
}

/** CSP2 may append the policy's sources to a directive: only the first word names it. */
function knownDirective(value: unknown): string | undefined {
  const name = typeof value === "string" ? value.split(" ")[0] : undefined;
  return name !== undefined && DIRECTIVES.has(name) ? name : undefined;
}

const isLocal = (uri: string) => uri === "" || uri === "self" || uri === "'self'";

/**
 * Relay's wording, quirks included (its `script-src-attr` and `script-src-elem`
 * local messages read swapped): the message is what Sentry groups and titles
 * these events by, so the same report must read the same through either relay.
 */
function cspMessage(directive: string, blocked: string): string {
  // CSP3 names inline and eval script violations with these exact markers.
  if (directive === "script-src" && blocked === "inline") return "Blocked unsafe inline 'script'";
  if (directive === "script-src" && blocked === "eval") return "Blocked unsafe eval() 'script'";
  if (isLocal(blocked)) {
    const local: Record<string, string> = {
      "child-src": "Blocked inline 'child'",
      "connect-src": "Blocked inline 'connect'",
      "font-src": "Blocked inline 'font'",
      "img-src": "Blocked inline 'image'",
      "manifest-src": "Blocked inline 'manifest'",
      "media-src": "Blocked inline 'media'",
      "object-src": "Blocked inline 'object'",
      "script-src-attr": "Blocked unsafe 'script' element",
      "script-src-elem": "Blocked inline script attribute",
      "style-src": "Blocked inline 'style'",
      "style-src-elem": "Blocked 'style' or 'link' element",
      "style-src-attr": "Blocked style attribute",
      "script-src": "Blocked unsafe (eval() or inline) 'script'",
    };
    return local[directive] ?? `Blocked inline '${directive}'`;
  }
  const uri = normalizeUri(blocked);
  const nouns: Record<string, string> = {
    "child-src": "child", "connect-src": "connect", "font-src": "font", "img-src": "image",
    "manifest-src": "manifest", "media-src": "media", "object-src": "object", "script-src": "script",
    "script-src-elem": "script", "style-src": "style", "style-src-elem": "style",
  };
  if (directive === "form-action") return `Blocked 'form' action to '${uri}'`;
  if (directive === "script-src-attr") return `Blocked inline script attribute from '${uri}'`;
  if (directive === "style-src-attr") return `Blocked style attribute from '${uri}'`;
  return `Blocked '${nouns[directive] ?? directive}' from '${uri}'`;
}

/** `https://cdn.example.com:8443/x.js` → `cdn.example.com:8443`; bare schemes (`data`) → `data:`. */
function normalizeUri(value: string): string {
  if (isLocal(value)) return "'self'";
  if (!value.includes(":")) return unsplit(value, "");
  const url = parseUrl(value);
  if (!url) return value;
  const scheme = url.protocol.slice(0, -1);
  const base = scheme === "http" || scheme === "https" ? url.hostname : unsplit(scheme, url.hostname);
  return url.port ? `${base}:${url.port}` : base;
}

/** Python's urlunsplit, which Relay mimics: these schemes get `//` even without a host. */
const HOST_SCHEMES = new Set([
  "ftp", "http", "gopher", "nntp", "telnet", "imap", "wais", "file", "mms", "https", "shttp", "snews", "prospero",
  "rtsp", "rtspu", "rsync", "svn", "svn+ssh", "sftp", "nfs", "git", "git+ssh", "ws", "wss",
]);

function unsplit(scheme: string, host: string): string {
  if (host !== "" || HOST_SCHEMES.has(scheme)) return `${scheme}://${host}`;
  return scheme === "" ? "" : `${scheme}:${host}`;
}

/** The violated directive with each source normalized; sources naming the document become `'self'`. */
function cspCulprit(violated: string, documentUri: string | undefined): string {
  const [name, ...sources] = violated.split(/\s+/).filter(Boolean);
  if (name === undefined) return "";
  const document = normalizeUri(documentUri ?? "");
  const documentScheme = documentUri?.includes(":") ? documentUri.split(":")[0] : undefined;
  const normalized = sources.map((source) => {
    if (["'none'", "'self'", "'unsafe-inline'", "'unsafe-eval'"].includes(source)) return source;
    if (/^(data|mediastream|blob|filesystem|https?|file):/.test(source)) return normalizeUri(source) === document ? "'self'" : source;
    if (source === document) return "'self'";
    // A source without a scheme takes the document's; the common ones are left implied.
    return documentScheme === undefined || documentScheme === "http" || documentScheme === "https"
      ? source
      : unsplit(documentScheme, source);
  });
  return [name, ...normalized].join(" ");
}

/** Stripe puts card data in query strings; Relay cuts it from the tag (the interface is the scrubber's job). */
function withoutStripeSecrets(uri: string): string {
  if (!uri.startsWith("https://api.stripe.com/")) return uri;
  const cut = uri.search(/[?#]/);
  return cut === -1 ? uri : uri.slice(0, cut);
}

// ---------------------------------------------- Expect-CT, Expect-Staple, HPKP

const EXPECT_CT_FIELDS: Field[] = [
  ["date_time", "string"], ["hostname", "string"], ["port", "int"], ["scheme", "string"],
  ["effective_expiration_date", "string"], ["served_certificate_chain", "strings"],
  ["validated_certificate_chain", "strings"], ["scts", "scts"], ["failure_mode", "string"], ["test_report", "bool"],
];

const EXPECT_STAPLE_FIELDS: Field[] = [
  ["date_time", "string"], ["hostname", "string"], ["port", "int"], ["effective_expiration_date", "string"],
  ["response_status", "string"], ["ocsp_response", "any"], ["cert_status", "string"],
  ["served_certificate_chain", "strings"], ["validated_certificate_chain", "strings"],
];

const HPKP_FIELDS: Field[] = [
  ["date_time", "string"], ["hostname", "string"], ["port", "uint"], ["effective_expiration_date", "string"],
  ["include_subdomains", "bool"], ["noted_hostname", "string"], ["served_certificate_chain", "strings"],
  ["validated_certificate_chain", "strings"], ["known_pins", "strings"],
];

function expectCtDraft(raw: Json, where: string): Draft {
  // Relay always emits both chains, empty when the browser sent none.
  const report = { served_certificate_chain: [], validated_certificate_chain: [], ...readFields(raw, EXPECT_CT_FIELDS, false) };
  const hostname = requireHostname(report, "expect-ct-report", where);
  return hostDraft("expectct", report, hostname, `Expect-CT failed for '${hostname}'`, hostname, []);
}

function expectStapleDraft(raw: Json, where: string): Draft {
  const report = readFields(raw, EXPECT_STAPLE_FIELDS, false);
  const hostname = requireHostname(report, "expect-staple-report", where);
  const extra: Pair[] = [];
  if (typeof report.response_status === "string") extra.push(["response_status", report.response_status]);
  if (typeof report.cert_status === "string") extra.push(["cert_status", report.cert_status]);
  return hostDraft("expectstaple", report, hostname, `Expect-Staple failed for '${hostname}'`, hostname, extra);
}

function hpkpDraft(raw: Json, where: string): Draft {
  const report = readFields(raw, HPKP_FIELDS, true);
  const hostname = requireHostname(report, "HPKP report", where);
  if (!Array.isArray(report.known_pins)) throw invalid(`${where}known-pins is not a list of strings`);
  const extra: Pair[] = typeof report.include_subdomains === "boolean" ? [["include-subdomains", String(report.include_subdomains)]] : [];
  // Relay gives HPKP events no culprit.
  return hostDraft("hpkp", report, hostname, `Public key pinning validation failed for '${hostname}'`, undefined, extra);
}

/** The certificate reports share one shape: hostname and port tags, the hostname as request URL (as Relay). */
function hostDraft(kind: SecurityReportKind, report: Json, hostname: string, message: string, culprit: string | undefined, extra: Pair[]): Draft {
  const tags: Pair[] = [["hostname", hostname]];
  if (typeof report.port === "number") tags.push(["port", String(report.port)]);
  return { kind, report, message, culprit, tags: [...tags, ...extra], request: { url: hostname, headers: [] } };
}

function requireHostname(report: Json, what: string, where: string): string {
  if (typeof report.hostname !== "string" || report.hostname === "") throw invalid(`${where}${what} has no hostname`);
  return report.hostname;
}

// ------------------------------------------------------------- common

function finish(draft: Draft, ctx: SecurityContext): Json {
  const headers = [...draft.request.headers];
  // Relay's normalize_security_report: the browser that sent the report is the one that saw it.
  if (ctx.userAgent) headers.push(["User-Agent", ctx.userAgent]);
  const request: Json = {};
  if (draft.request.url !== undefined) request.url = draft.request.url;
  if (headers.length > 0) request.headers = headers;
  return {
    event_id: newEventId(),
    type: draft.kind,
    timestamp: ctx.now.getTime() / 1000,
    level: "error",
    logger: "csp",
    logentry: { formatted: draft.message },
    ...(draft.culprit !== undefined ? { culprit: draft.culprit } : {}),
    ...(ctx.environment ? { environment: ctx.environment } : {}),
    ...(ctx.release ? { release: ctx.release } : {}),
    tags: draft.tags,
    ...(Object.keys(request).length > 0 ? { request } : {}),
    [draft.kind]: draft.report,
  };
}

/** [snake_case name, kind, other accepted spellings]; the kebab-case spelling is always accepted. */
type Field = [name: string, kind: "string" | "uint" | "int" | "bool" | "strings" | "scts" | "any", ...aliases: string[]];

/**
 * Picks the known fields of a raw report under their snake_case names, in the
 * table's order. Unlike Relay, a value of the wrong type is dropped rather than
 * failing the report: a relay should not lose a report over one odd field.
 * With `keepOthers`, unknown fields are kept verbatim (Relay's `other`).
 */
function readFields(raw: Json, fields: Field[], keepOthers: boolean): Json {
  const out: Json = {};
  const byKey = new Map<string, Field>();
  for (const field of fields) {
    for (const key of [field[0], field[0].replace(/_/g, "-"), ...field.slice(2)]) byKey.set(key as string, field);
  }
  // Keys are the sender's: without a prototype, `__proto__` is kept as a plain field.
  const others: Json = Object.create(null);
  for (const [key, value] of Object.entries(raw)) {
    const field = byKey.get(key);
    if (!field) {
      if (keepOthers && value !== null && value !== undefined) others[key] = value;
      continue;
    }
    const coerced = coerce(value, field[1]);
    if (coerced !== undefined) out[field[0]] = coerced;
  }
  const ordered: Json = {};
  for (const [name] of fields) if (name in out) ordered[name] = out[name];
  return { ...ordered, ...others };
}

function coerce(value: unknown, kind: Field[1]): unknown {
  switch (kind) {
    case "string":
      return typeof value === "string" ? value : undefined;
    case "bool":
      return typeof value === "boolean" ? value : undefined;
    case "uint":
    case "int": {
      // Browsers send status and line numbers as numbers or numeric strings (Relay's de_opt_num_or_str).
      const number = typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
      if (typeof number !== "number" || !Number.isInteger(number)) return undefined;
      return kind === "uint" && number < 0 ? undefined : number;
    }
    case "strings":
      return Array.isArray(value) && value.every((v) => typeof v === "string") ? value : undefined;
    case "scts":
      return Array.isArray(value)
        ? value.filter(isObject).map((sct) => readFields(sct, [["version", "int"], ["status", "string"], ["source", "string"], ["serialized_sct", "string"]], false))
        : undefined;
    case "any":
      return value ?? undefined;
  }
}

function objectField(report: Json, key: string, where: string): Json {
  const value = report[key];
  if (!isObject(value)) throw invalid(`${where}${key} is not an object`);
  return value;
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

const invalid = (problem: string) => new RelayError(400, `invalid security report: ${problem}`);

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
