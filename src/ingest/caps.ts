import type { RelayConfig } from "../config/schema";
import type { EnvelopeItem, ItemHeader } from "../envelope/types";

export type Limits = RelayConfig["limits"];
type ByteLimit = {
  [K in keyof Limits]: K extends `max${string}Bytes` ? K : never;
}[keyof Limits];

/**
 * How an item's payload is read: `object` is one JSON object (an event, a
 * check-in, a session: what Relay reads into a struct), `json` any JSON,
 * both parsed (and required to parse) before any stage reads them; `opaque`
 * payloads (binary, text lines) are never parsed.
 */
export type PayloadKind = "object" | "json" | "opaque";

export interface ItemType {
  payload: PayloadKind;
  /** The limit on one item's length; for a container, on its entries' average length. */
  cap: ByteLimit;
  /**
   * Can be a container (`item_count` entries): its whole length is then held
   * to `maxContainerBytes`, and `cap` to the length divided by `item_count`,
   * as Relay checks containers before it parses them.
   */
  container?: true;
  /** A share of an envelope-wide budget (Relay's per-envelope totals for these classes). */
  budget?: "attachments" | "sessions";
}

/**
 * The one table of item types: how each payload is read and what caps it,
 * after Relay's `check_envelope_size_limits` (relay-server/src/utils/sizes.rs)
 * and `Limits` (relay-config). Every cap is checked on the item's `length`,
 * before anything parses it.
 *
 * Differences from Relay, each on purpose:
 * - `user_report` is capped like an event, not like an attachment: it is JSON
 *   this relay parses and scrubs.
 * - `nel`, `otel_log`, `otel_span` and `otel_traces_data` (gone from newer
 *   Relays, still sent to older ones) get the cap of what they become.
 * - Relay lets unknown types through with no cap but the envelope's; here
 *   they may be JSON that is parsed and scrubbed, so they get the largest
 *   parsed-item cap, `maxContainerBytes` (`UNKNOWN_TYPE`).
 * - Relay refuses the whole envelope (413) over any of these; here only the
 *   item over its cap is dropped, as `too_large`, and the rest go on.
 */
export const ITEM_TYPES: ReadonlyMap<string, ItemType> = new Map(
  Object.entries({
    event: { payload: "object", cap: "maxEventBytes" },
    transaction: { payload: "object", cap: "maxEventBytes" },
    security: { payload: "object", cap: "maxEventBytes" },
    raw_security: { payload: "object", cap: "maxEventBytes" },
    nel: { payload: "json", cap: "maxEventBytes" },
    feedback: { payload: "object", cap: "maxEventBytes" },
    user_report: { payload: "object", cap: "maxEventBytes" },
    replay_event: { payload: "json", cap: "maxEventBytes" },
    form_data: { payload: "opaque", cap: "maxEventBytes" },
    attachment: { payload: "opaque", cap: "maxAttachmentBytes", budget: "attachments" },
    unreal_report: { payload: "opaque", cap: "maxAttachmentBytes", budget: "attachments" },
    replay_recording: { payload: "opaque", cap: "maxReplayCompressedBytes" },
    replay_video: { payload: "opaque", cap: "maxReplayCompressedBytes" },
    session: { payload: "object", cap: "maxSessionsBytes", budget: "sessions" },
    sessions: { payload: "object", cap: "maxSessionsBytes", budget: "sessions" },
    client_report: { payload: "object", cap: "maxClientReportBytes" },
    profile: { payload: "json", cap: "maxProfileBytes" },
    profile_chunk: { payload: "json", cap: "maxProfileBytes" },
    profile_chunk_ui: { payload: "json", cap: "maxProfileBytes" },
    check_in: { payload: "object", cap: "maxCheckInBytes" },
    statsd: { payload: "opaque", cap: "maxStatsdBytes" },
    metric_buckets: { payload: "json", cap: "maxMetricBucketsBytes" },
    log: { payload: "json", cap: "maxLogBytes", container: true },
    otel_log: { payload: "json", cap: "maxLogBytes" },
    span: { payload: "json", cap: "maxSpanBytes", container: true },
    otel_span: { payload: "json", cap: "maxSpanBytes" },
    otel_traces_data: { payload: "json", cap: "maxContainerBytes" },
    trace_metric: { payload: "json", cap: "maxTraceMetricBytes", container: true },
  } satisfies Record<string, ItemType>),
);

/** A type this relay does not know: JSON or not is seen from its first byte (`looksLikeJson`). */
export const UNKNOWN_TYPE: Readonly<ItemType> = { payload: "opaque", cap: "maxContainerBytes" };

export function itemType(type: string): Readonly<ItemType> {
  return ITEM_TYPES.get(type) ?? UNKNOWN_TYPE;
}

/**
 * Whether one item, by its header and length alone, is over its type's cap:
 * the test validation applies, and the streaming reader too, to throw such a
 * payload away as it arrives.
 */
export function overCap(header: ItemHeader, length: number, limits: Limits): boolean {
  const rule = itemType(header.type);
  if (!rule.container || !isContainer(header)) return length > limits[rule.cap];
  if (length > limits.maxContainerBytes) return true;
  // As Relay: the entries must be within the per-entry cap on average; each is checked again once parsed upstream.
  const count = header.item_count;
  const entries = typeof count === "number" && Number.isSafeInteger(count) && count > 1 ? count : 1;
  return Math.floor(length / entries) > limits[rule.cap];
}

/** Relay's container content types (`application/vnd.sentry.items.log+json`, ...). */
function isContainer(header: ItemHeader): boolean {
  return typeof header.content_type === "string" && header.content_type.startsWith("application/vnd.sentry.items.");
}

/**
 * Envelope-wide budgets, spent item by item in envelope order: all
 * attachments together within `maxAttachmentsBytes`, at most
 * `maxSessionCount` session items. An item that does not fit is over its cap.
 */
export class EnvelopeBudget {
  private attachmentBytes = 0;
  private sessionItems = 0;

  constructor(private readonly limits: Limits) {}

  /** Takes the item's share; false (and nothing taken) when it does not fit. */
  take(type: string, length: number): boolean {
    const { budget } = itemType(type);
    if (budget === "attachments") {
      if (this.attachmentBytes + length > this.limits.maxAttachmentsBytes) return false;
      this.attachmentBytes += length;
    } else if (budget === "sessions") {
      if (this.sessionItems + 1 > this.limits.maxSessionCount) return false;
      this.sessionItems++;
    }
    return true;
  }
}

/**
 * Whether an opaque payload of an unknown type is JSON after all: an object
 * or array (after JSON whitespace). Such items are parsed and scrubbed; a
 * scalar or anything else is passed like an attachment.
 */
export function looksLikeJson(payload: Uint8Array): boolean {
  for (const byte of payload) {
    if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
    return byte === 0x7b || byte === 0x5b;
  }
  return false;
}

/**
 * Whether stages read the payload as JSON: known JSON types, and unknown
 * types whose payload opens like JSON. Validation requires these to parse
 * (bounded), and the scrubber scrubs them.
 */
export function parsedAsJson(item: EnvelopeItem): boolean {
  if (item.staged) return false;
  const type = item.header.type;
  return ITEM_TYPES.has(type) ? itemType(type).payload !== "opaque" : looksLikeJson(item.payload);
}
