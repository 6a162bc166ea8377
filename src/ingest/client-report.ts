import { z } from "zod";
import { DATA_CATEGORIES } from "../envelope/categories";
import { newItem } from "../envelope/envelope";
import type { Envelope } from "../envelope/types";
import { RelayError } from "../http/errors";
import { parseJsonBytes } from "../json/bounded";

/**
 * The most a sender without a key may post: one envelope of client reports,
 * whole, after decompression. A browser's report is a few hundred bytes
 * (`@sentry/core` sends one entry per reason and category pair it saw).
 */
export const ANONYMOUS_REPORT_MAX_BYTES = 8 * 1024;

/** Largest count one entry may claim; SDKs flush their counts every minute or on page hide. */
export const MAX_REPORTED_QUANTITY = 100_000;

/** Entries per list: far more than the reason × category pairs any SDK sends at once. */
const MAX_ENTRIES = 100;

/**
 * Categories as SDKs name them: this relay's, plus `internal` (what
 * `@sentry/core` files its own client reports under) and `feedback` (its
 * name for `user_report_v2`), which Relay also reads.
 */
const CATEGORIES: [string, ...string[]] = ["internal", "feedback", ...DATA_CATEGORIES];

/**
 * SDK discard reasons: the develop docs' list (client reports spec) and
 * `@sentry/core`'s `EventDropReason` (v11 adds `ignored`, `invalid`,
 * `callback_error`, `no_parent_span`).
 */
export const SDK_DISCARD_REASONS = [
  "queue_overflow", "cache_overflow", "buffer_overflow", "ratelimit_backoff", "network_error", "sample_rate",
  "before_send", "event_processor", "send_error", "internal_sdk_error", "insufficient_data", "backpressure",
  "ignored", "invalid", "callback_error", "no_parent_span",
] as const;

/** Relay's inbound-filter names (`FilterStatKey`), which it reports under `filtered_events`. */
const FILTER_REASONS = [
  "ip-address", "release-version", "error-message", "browser-extensions", "legacy-browsers", "localhost",
  "web-crawlers", "invalid-csp", "health-check", "filtered-transaction", "discarded-hash", "crash-report-limit",
] as const;

/** Reason codes of Sentry's own quotas, which a relay reports under `rate_limited_events`. */
const RATE_LIMIT_REASONS = ["quota_exceeded", "ratelimit_backoff"] as const;

const entry = <R extends z.ZodType<string>>(reason: R) =>
  z.strictObject({
    reason,
    category: z.enum(CATEGORIES),
    quantity: z.number().int().min(1).max(MAX_REPORTED_QUANTITY),
  });
const list = <R extends z.ZodType<string>>(reason: R) => z.array(entry(reason)).max(MAX_ENTRIES).optional();

/**
 * Sentry's `client_report` payload, every field known: unknown fields, data
 * categories and reasons are refused, not passed along. `timestamp` is Unix
 * seconds or an RFC 3339 string, as Relay reads it.
 */
export const clientReportSchema = z.strictObject({
  timestamp: z.union([z.number().min(0).max(1e10), z.iso.datetime({ offset: true })]).optional(),
  discarded_events: list(z.enum(SDK_DISCARD_REASONS)),
  rate_limited_events: list(z.enum(RATE_LIMIT_REASONS)),
  filtered_events: list(z.enum(FILTER_REASONS)),
  // Relay names dynamic-sampling drops by the matching rule ids: `Sampled:1,2`.
  filtered_sampling_events: list(z.string().regex(/^Sampled:[0-9,]{1,64}$/)),
});

export type ClientReport = z.infer<typeof clientReportSchema>;

/**
 * An envelope from a sender without a key, rebuilt from what validates: a
 * bare header and one `client_report` item per report, each re-serialized
 * from its checked value, so none of the sender's bytes go on. Anything else
 * is refused whole: 401 when it is not only client reports, 400 when a report
 * does not match the schema.
 */
export function anonymousClientReports(envelope: Envelope): Envelope {
  if (envelope.items.length === 0 || envelope.items.some((item) => item.header.type !== "client_report")) {
    throw missingKey();
  }
  const items = envelope.items.map((item, index) => {
    const json = item.staged ? undefined : parseJsonBytes(item.payload);
    if (!json) throw missingKey();
    if (!json.ok) throw new RelayError(400, `invalid client report ${index}: ${json.problem}`);
    const parsed = clientReportSchema.safeParse(json.value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new RelayError(400, `invalid client report ${index}: ${issue.path.join(".") || "(root)"}: ${issue.code}`);
    }
    return newItem({ type: "client_report" }, JSON.stringify(parsed.data));
  });
  return { header: {}, items };
}

export const missingKey = () =>
  new RelayError(401, `missing authorization information: without a key or a dsn only client reports of at most ${ANONYMOUS_REPORT_MAX_BYTES} bytes are accepted`);
