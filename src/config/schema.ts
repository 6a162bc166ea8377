import { z } from "zod";
import { DATA_CATEGORIES } from "../envelope/categories";
import type { DataCategory } from "../envelope/types";
import { BUILTIN_NAMES, builtinRule } from "../scrub/builtins";
import { parseSelector } from "../scrub/selector";
import { DEFAULT_BOOK_KEYS } from "../limits/leases";
import { userPatternProblem } from "../scrub/user-pattern";

const publicKey = z
  .string()
  .regex(/^[0-9a-f]{32}$/, "a DSN public key is 32 lowercase hex characters");

/** `https://publickey@host[:port]/[path/]projectId`, the form Sentry shows as a DSN. */
export const dsn = z.string().superRefine((value, ctx) => {
  const problem = dsnProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

function dsnProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "not a URL";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "a DSN uses http or https";
  if (!url.username) return "a DSN names its public key before the @";
  if (!/\/\d+$/.test(url.pathname)) return "a DSN ends with a numeric project id";
  return undefined;
}

const origin = z
  .string()
  .refine((o) => o === "*" || /^https?:\/\/[^/]+$|^\*\.[^/]+$|^https?:\/\/\*\.[^/]+$/.test(o), {
    message: 'an origin is "*", "https://host[:port]", "https://*.example.com" or "*.example.com"',
  });

const scrubRule = z
  .object({
    /** Where the rule applies: a Relay-style selector such as `$string`, `extra.foo`, `$http.headers`. */
    selector: z.string(),
    /** A built-in rule, e.g. `@email`, `@ip:hash`, `@creditcard:mask`, `@anything:remove`. */
    rule: z.string().optional(),
    /** A regular expression over string contents, in RE2 syntax (linear-time matching; no backreferences or lookaround). */
    pattern: z.string().optional(),
    /** An RE2 regular expression over keys, case-insensitive: matching keys have their whole value redacted. */
    keyPattern: z.string().optional(),
    method: z.enum(["replace", "mask", "remove", "hash"]).optional(),
    /** Replacement text for `replace`; default `[Filtered]`. */
    text: z.string().optional(),
    /** With `pattern`: only these capture groups are redacted. */
    replaceGroups: z.array(z.number().int().min(0)).optional(),
    id: z.string().optional(),
  })
  .superRefine((rule, ctx) => {
    const problem = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    try {
      parseSelector(rule.selector);
    } catch (err) {
      problem("selector", (err as Error).message);
    }
    const kinds = [rule.rule, rule.pattern, rule.keyPattern].filter((x) => x !== undefined).length;
    if (kinds > 1) problem("rule", 'give one of "rule", "pattern" or "keyPattern"');
    if (rule.rule !== undefined && !builtinRule(rule.rule)) {
      problem("rule", `unknown built-in rule ${rule.rule} (known: ${BUILTIN_NAMES.map((n) => `@${n}`).join(", ")}, each with :replace, :mask, :remove, :hash or :filter)`);
    }
    for (const field of ["pattern", "keyPattern"] as const) {
      const source = rule[field];
      if (source === undefined) continue;
      // Compiled on RE2, as the scrubber runs it: what RE2 cannot run in linear time is refused here.
      const why = userPatternProblem(source);
      if (why !== undefined) problem(field, why);
    }
  });

const scrub = z
  .object({
    /** Sentry's default data scrubbing: sensitive keys, credentials, cards, keys, tokens, emails. */
    defaults: z.boolean().default(true),
    /** Remove the user's IP address and replace IPs inside strings. */
    scrubIpAddresses: z.boolean().default(true),
    /** More key names whose values are filtered (matched as case-insensitive substrings). */
    sensitiveFields: z.array(z.string()).default([]),
    /** Key names the default scrubbing leaves alone. */
    safeFields: z.array(z.string()).default([]),
    /** Attachments are binary: pass them unscrubbed, or drop them (outcome `filtered`). */
    attachments: z.enum(["pass", "drop"]).default("pass"),
    /**
     * The address a user typed so the team can answer (a feedback's
     * `contexts.feedback.contact_email`, a user report's `email`): kept by
     * the default e-mail rule, or scrubbed like any other address.
     */
    feedbackEmail: z.enum(["keep", "scrub"]).default("keep"),
    /** Key for the `hash` method; set it, or hashes are guessable for small inputs. */
    hashKey: z.string().min(1).optional(),
    rules: z.array(scrubRule).default([]),
  })
  .prefault({});

/** One quota: at most `limit` units of `categories` per sliding `window` seconds. */
export const quotaSchema = z.object({
  id: z.string().regex(/^[\w.-]{1,64}$/, "a quota id is 1-64 letters, digits, _ . or -"),
  /** Data categories counted; empty means every category. */
  categories: z.array(z.enum(DATA_CATEGORIES as [DataCategory, ...DataCategory[]])).default([]),
  /** `project`: one counter for the project; `key`: one per DSN public key. */
  scope: z.enum(["project", "key"]).default("project"),
  window: z.number().int().min(1).max(31 * 86400),
  /** 0 rejects everything in these categories. */
  limit: z.number().int().min(0),
  /** Sent to SDKs in X-Sentry-Rate-Limits. */
  reasonCode: z.string().regex(/^[\w.-]+$/).default("quota_exceeded"),
});

export const quotaListSchema = z.array(quotaSchema).superRefine((quotas, ctx) => {
  const seen = new Set<string>();
  quotas.forEach((quota, index) => {
    if (seen.has(quota.id)) ctx.addIssue({ code: "custom", path: [index, "id"], message: `duplicate quota id ${quota.id}` });
    seen.add(quota.id);
  });
});

/** Inbound filters, Relay's names; defaults as Sentry sets them for a new project. */
const filters = z
  .object({
    localhost: z.boolean().default(false),
    browserExtensions: z.boolean().default(true),
    webCrawlers: z.boolean().default(true),
    legacyBrowsers: z.boolean().default(false),
    healthChecks: z.boolean().default(false),
    /** Globs over `Type: value` of each exception and the message. */
    errorMessages: z.array(z.string()).default([]),
    /** Globs over the event's release. */
    releases: z.array(z.string()).default([]),
  })
  .prefault({});

/** Beyond `perFingerprint` events per `window` seconds, one fingerprint's payloads are counted, not kept. */
const spike = z.object({
  perFingerprint: z.number().int().min(1),
  window: z.number().int().min(1).max(86400).default(60),
  /** Project spike mode: events in the last minute above this many times the last hour's per-minute average... */
  projectFactor: z.number().min(1).default(10),
  /** ...and above this many per minute at least (so a quiet project's first burst is not a spike)... */
  projectMinimum: z.number().int().min(1).default(100),
  /** ...multiply every sampling rate by this while it lasts. */
  projectSampleRate: z.number().min(0).max(1).default(0.1),
});

/** Share of each data category kept (1 = all), and whether a fingerprint's first event per window is always kept. */
const sampling = z
  .object({ keepNewFingerprints: z.boolean().default(true) })
  .catchall(z.number().min(0).max(1))
  .superRefine((value, ctx) => {
    for (const key of Object.keys(value)) {
      if (key !== "keepNewFingerprints" && !(DATA_CATEGORIES as readonly string[]).includes(key)) {
        ctx.addIssue({ code: "custom", path: [key], message: `unknown data category ${key}` });
      }
    }
  })
  .prefault({});

const project = z
  .object({
    keys: z.array(publicKey).min(1, "a project needs at least one public key"),
    /** Sentry-compatible DSN events are forwarded to. */
    upstream: dsn.optional(),
    /** Keep every accepted envelope in the ARCHIVE R2 bucket. */
    archive: z.boolean().default(false),
    /** Origins allowed to send from browsers; Sentry's default is any. */
    allowedOrigins: z.array(origin).default(["*"]),
    scrub,
    filters,
    spike: spike.optional(),
    sampling,
    quotas: quotaListSchema.default([]),
    /** When the quota counter cannot be reached in time: accept and count ("open"), or refuse ("closed"). */
    quotaFailure: z.enum(["open", "closed"]).default("open"),
  })
  .refine((p) => p.upstream !== undefined || p.archive, {
    message: 'a project needs a destination: "upstream", "archive": true, or both',
  });

const KiB = 1024;
const MiB = 1024 * KiB;
const bytes = (fallback: number) => z.number().int().positive().default(fallback);

const limits = z
  .object({
    /** Bytes accepted on the wire, before decompression (Relay's `max_envelope_size`). */
    maxCompressedBytes: z.number().int().positive().default(100 * 1024 * 1024),
    /** Bytes after decompression, streamed payloads included: the zip-bomb guard. */
    maxDecompressedBytes: z.number().int().positive().default(100 * 1024 * 1024),
    /**
     * Most of one request held in memory: everything but streamed payloads
     * (plus up to 1 MiB of a compressed body as it came), and the whole body
     * of a store/security request.
     */
    maxBufferedBytes: z.number().int().positive().default(16 * 1024 * 1024),
    /** Attachments and replay recordings at least this large are streamed through R2, never held. */
    streamItemBytes: z.number().int().positive().default(256 * 1024),
    // Per item type, Relay's `limits` and defaults (relay-config Limits); the
    // table of which type each applies to is src/ingest/caps.ts.
    /** One event-like item: event, transaction, security reports, feedback, replay event (`max_event_size`). */
    maxEventBytes: bytes(MiB),
    /** One attachment (`max_attachment_size`). */
    maxAttachmentBytes: bytes(200 * MiB),
    /** All attachments of one envelope together (`max_attachments_size`). */
    maxAttachmentsBytes: bytes(200 * MiB),
    /** One client report (`max_client_reports_size`). */
    maxClientReportBytes: bytes(100 * KiB),
    /** One monitor check-in (`max_check_in_size`). */
    maxCheckInBytes: bytes(100 * KiB),
    /** One session or session-aggregates item (`max_sessions_size`). */
    maxSessionsBytes: bytes(10 * MiB),
    /** Session items in one envelope (`max_session_count`). */
    maxSessionCount: z.number().int().positive().default(100),
    /** One profile or profile chunk (`max_profile_size`). */
    maxProfileBytes: bytes(50 * MiB),
    /** One log, or a log container's entries on average (`max_log_size`). */
    maxLogBytes: bytes(2 * MiB),
    /** One span, or a span container's entries on average (`max_span_size`). */
    maxSpanBytes: bytes(10 * MiB),
    /** One trace metric, or a container's entries on average (`max_trace_metric_size`). */
    maxTraceMetricBytes: bytes(MiB),
    /** One whole container item (logs, spans, trace metrics) and any item type the relay does not know (`max_container_size`). */
    maxContainerBytes: bytes(12 * MiB),
    /** One statsd item (`max_statsd_size`). */
    maxStatsdBytes: bytes(MiB),
    /** One metric buckets item (`max_metric_buckets_size`). */
    maxMetricBucketsBytes: bytes(MiB),
    /** One replay recording or replay video, as sent (`max_replay_compressed_size`). */
    maxReplayCompressedBytes: bytes(10 * MiB),
    /** How long to wait for the quota counter before failing open or closed. */
    quotaTimeoutMs: z.number().int().positive().default(1000),
    /** Lease quota in batches (the default); false asks the counter for every item, for comparison. */
    quotaLeases: z.boolean().default(true),
    /**
     * Client reports a project takes per minute from senders without a key
     * (the tunnel's dsn-less reports), counted in its quota counter apart
     * from its own quotas; 0 refuses them all.
     */
    anonymousReportsPerMinute: z.number().int().min(0).default(60),
    /**
     * Reports one security request may carry (a Reporting API batch): the
     * rest are dropped with an `invalid` outcome. Chromium queues at most 100
     * reports, so no browser sends more in one upload; each kept report is
     * one upstream request, so on the Workers Free plan (50 subrequests per
     * request) keep it below that.
     */
    maxSecurityReports: z.number().int().min(1).default(100),
    /**
     * Fingerprints the spike books of all projects keep in one isolate (and
     * the most keys any quota book keeps), least recently used forgotten
     * first: the cap on memory keyed by request content, about 215 B a key,
     * so under 3 MiB by default.
     */
    leaseBookKeys: z.number().int().min(100).default(DEFAULT_BOOK_KEYS),
    /**
     * Fingerprints the fingerprint store keeps per project (src/stats/fingerprint-do.ts);
     * past it the least recently seen is forgotten (and is new again if it comes back).
     */
    maxFingerprints: z.number().int().min(1).max(1_000_000).default(10_000),
  })
  .prefault({});

/** The circuit breaker per upstream host, and how the spool backs off. */
const delivery = z
  .object({
    /** Upstream failures (5xx, timeout, network) in a row that open the breaker. */
    breakerFailures: z.number().int().min(1).default(5),
    /** How long an open breaker sends everything to the spool before one request probes the upstream. */
    breakerOpenMs: z.number().int().min(100).default(30_000),
    /** A spooled envelope's n-th retry waits up to base × 2^(n-1) seconds (full jitter)... */
    retryBaseSeconds: z.number().int().min(1).max(60).default(2),
    /** ...and never longer than this (an upstream's Retry-After counts up to it too). */
    retryMaxSeconds: z.number().int().min(1).max(12 * 3600).default(15 * 60),
  })
  .prefault({});

export const relayConfigSchema = z.object({
  projects: z.record(z.string().regex(/^\d+$/, "project ids are numeric"), project),
  /** Path of the browser SDK `tunnel` endpoint. */
  tunnelPath: z
    .string()
    .regex(/^\/[A-Za-z0-9._~\-/]*$/, "tunnelPath is an absolute URL path")
    .default("/tunnel"),
  limits,
  upstreamTimeoutMs: z.number().int().positive().default(30_000),
  delivery,
});

export type RelayConfig = z.infer<typeof relayConfigSchema>;
export type ProjectConfig = z.infer<typeof project>;
export type ScrubConfig = z.infer<typeof scrub>;
export type QuotaConfig = z.infer<typeof quotaSchema>;
