import { inflateRawSync, inflateSync } from "node:zlib";
import { normalizeEventId, newEventId } from "../envelope/event-id";
import type { Envelope } from "../envelope/types";
import { readEvent } from "../event";
import { RelayError } from "../http/errors";
import { MAX_JSON_DEPTH, parseJsonBytes, type JsonProblem } from "../json/bounded";
import { zlibSyncCapped } from "./body";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Relay's default `max_event_size`: what one legacy event may inflate to unless the caller says otherwise. */
const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;

/**
 * A legacy `store` body: JSON, or (raven-era SDKs) base64 of zlib-deflated
 * JSON, or base64 of plain JSON — Relay's `decode_bytes` order. We are more
 * lenient than Relay's strict base64: url-safe alphabet, missing padding and
 * line breaks are accepted, and raw deflate too. Inflation stops at `maxBytes`.
 */
export function decodeStoreBody(bytes: Uint8Array, maxBytes = DEFAULT_MAX_EVENT_BYTES): Record<string, unknown> {
  // Decoded leniently only to tell the forms apart; the JSON itself is read from the bytes.
  const text = decoder.decode(bytes).trim();
  if (text === "") throw new RelayError(400, "store body is empty");
  if (text.startsWith("{")) return eventObject(bytes);

  const binary = base64(text);
  if (!binary) return eventObject(bytes); // not base64: JSON of the wrong shape, or garbage; say which
  if (binary[0] === 0x7b /* { */) return eventObject(binary);
  return eventObject(inflate(binary, maxBytes));
}

/** Base64 (standard or url-safe, padding optional, whitespace ignored), or undefined when the text is not. */
function base64(text: string): Uint8Array | undefined {
  let compact = text.replace(/\s+/g, "").replace(/-/g, "+").replace(/_/g, "/");
  // Padding trimmed by a loop: `/=+$/` retries from every `=` of a body made of them (quadratic).
  let end = compact.length;
  while (end > 0 && compact.charCodeAt(end - 1) === 61 /* = */) end--;
  compact = compact.slice(0, end);
  if (!/^[A-Za-z0-9+/]+$/.test(compact)) return undefined;
  if (compact.length % 4 === 1) throw new RelayError(400, "invalid base64 store body: truncated");
  let binary: string;
  try {
    binary = atob(compact.padEnd(Math.ceil(compact.length / 4) * 4, "="));
  } catch {
    throw new RelayError(400, "invalid base64 store body");
  }
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function inflate(bytes: Uint8Array, maxBytes: number): Uint8Array {
  // Raven SDKs use zlib (RFC 1950); raw deflate is tried second for homemade clients.
  for (const inflater of [inflateSync, inflateRawSync]) {
    let out: Uint8Array | undefined;
    try {
      out = zlibSyncCapped(inflater, bytes, maxBytes);
    } catch {
      continue; // not this format
    }
    if (!out) throw new RelayError(413, `decompressed body exceeds ${maxBytes} bytes`);
    return out;
  }
  throw new RelayError(400, "store body is base64 but neither JSON nor zlib-deflated JSON");
}

const JSON_PROBLEMS: Record<JsonProblem, string> = {
  invalid_utf8: "store body is not valid UTF-8",
  too_deep: `store body nests deeper than ${MAX_JSON_DEPTH} levels`,
  invalid_json: "store body is not valid JSON",
};

/** Read as Relay reads an event (strict UTF-8, bounded depth), so re-serializing it later is bounded too. */
function eventObject(bytes: Uint8Array): Record<string, unknown> {
  const result = parseJsonBytes(bytes);
  if (!result.ok) throw new RelayError(400, JSON_PROBLEMS[result.problem]);
  const value = result.value;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new RelayError(400, "store body is not an object");
  }
  return value as Record<string, unknown>;
}

/**
 * Wraps one event the way an SDK would have: header `{event_id, sent_at}` and
 * one item, typed by the event's own `type` as Relay's
 * `ItemType::from_event_type` does (`transaction`, `feedback`, else `event`).
 *
 * Security reports (`csp`, `hpkp`, `expectct`, `expectstaple`) stay `event`
 * items here although Relay makes them `security` items: the scrubber only
 * reads `event` items, and upstream Relay infers the type from the interface.
 *
 * A missing or malformed event_id is replaced (the payload gets the same id),
 * where Relay would refuse the body: a relay should not lose the event.
 */
export function storeEventToEnvelope(event: Record<string, unknown>, now: Date): Envelope {
  const read = readEvent(event);
  const eventId = normalizeEventId(read.event_id) ?? newEventId();
  const payload = encoder.encode(JSON.stringify({ ...event, event_id: eventId }));
  const type = read.type === "transaction" ? "transaction" : read.type === "feedback" ? "feedback" : "event";
  return {
    header: { event_id: eventId, sent_at: now.toISOString() },
    items: [{ header: { type, length: payload.byteLength }, payload }],
  };
}

/** The name the endpoints already use; the security endpoint wraps its events with it too. */
export const eventToEnvelope = storeEventToEnvelope;
