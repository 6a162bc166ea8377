/**
 * In-memory form of a Sentry envelope. Items keep the exact bytes they arrived
 * with (`raw`) until a stage changes them, so anything the relay does not touch
 * is forwarded byte-for-byte.
 */
export interface EnvelopeHeader {
  event_id?: string;
  dsn?: string;
  sent_at?: string;
  sdk?: unknown;
  [key: string]: unknown;
}

export interface ItemHeader {
  type: string;
  length?: number;
  content_type?: string;
  filename?: string;
  attachment_type?: string;
  item_count?: number;
  [key: string]: unknown;
}

/**
 * A payload too large to hold in memory, written to R2 while the request was
 * read (`staging/…` in the ARCHIVE bucket) and streamed from there on the way out.
 */
export interface StagedPayload {
  key: string;
  length: number;
  /**
   * Read and thrown away instead (an event over `maxEventBytes`, which
   * validation drops by its length): there is nothing at `key`.
   */
  discarded?: true;
  /**
   * The bytes around the payload as received (whitespace and header line
   * before it, the newline after it), so an unchanged item leaves as it came.
   */
  frame?: { head: Uint8Array; tail: Uint8Array };
}

export interface EnvelopeItem {
  header: ItemHeader;
  /** Empty when the payload is `staged`. */
  payload: Uint8Array;
  staged?: StagedPayload;
  /**
   * The item exactly as received: header line, payload and the newline that
   * ended it, if one did. Absent for items built or changed by the relay.
   */
  raw?: Uint8Array;
}

export interface Envelope {
  header: EnvelopeHeader;
  /** The header line exactly as received, with its newline if it had one. */
  rawHeader?: Uint8Array;
  items: EnvelopeItem[];
}

/** Sentry's data categories (relay-base-schema DataCategory names). */
export type DataCategory =
  | "default"
  | "error"
  | "transaction"
  | "security"
  | "attachment"
  | "attachment_item"
  | "session"
  | "profile"
  | "profile_indexed"
  | "profile_chunk"
  | "replay"
  | "monitor"
  | "span"
  | "log_item"
  | "log_byte"
  | "user_report_v2"
  | "trace_metric"
  | "unknown";
