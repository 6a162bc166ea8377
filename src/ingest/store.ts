import { inflateRawSync, inflateSync } from "node:zlib";
import { RelayError } from "../http/errors";
import { normalizeEventId } from "../envelope/event-id";
import type { Envelope } from "../envelope/types";

const encoder = new TextEncoder();

/**
 * A legacy `store` body: JSON, or (raven-era SDKs) base64 of zlib-deflated
 * JSON. Inflation stops at `maxBytes`, like every other decompression here.
 */
export function decodeStoreBody(bytes: Uint8Array, maxBytes: number): Record<string, unknown> {
  const text = new TextDecoder().decode(bytes).trim();
  if (text.startsWith("{")) return eventObject(text);
  if (text === "") throw new RelayError(400, "store body is empty");

  const decoded = fromBase64(text);
  if (decoded[0] === 0x7b /* { */) return eventObject(new TextDecoder().decode(decoded));
  return eventObject(new TextDecoder().decode(inflate(decoded, maxBytes)));
}

function fromBase64(text: string): Uint8Array {
  const standard = text.replace(/\s+/g, "").replace(/-/g, "+").replace(/_/g, "/");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(standard)) throw new RelayError(400, "store body is neither JSON nor base64");
  try {
    const binary = atob(standard.padEnd(Math.ceil(standard.length / 4) * 4, "="));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    throw new RelayError(400, "invalid base64 store body");
  }
}

function inflate(bytes: Uint8Array, maxBytes: number): Uint8Array {
  for (const fn of [inflateSync, inflateRawSync]) {
    try {
      return new Uint8Array(fn(bytes, { maxOutputLength: maxBytes }));
    } catch (err) {
      const error = err as Error & { code?: string };
      if (error instanceof RangeError || error.code === "ERR_BUFFER_TOO_LARGE") {
        throw new RelayError(413, `decompressed body exceeds ${maxBytes} bytes`);
      }
    }
  }
  throw new RelayError(400, "store body is base64 but not zlib-deflated JSON");
}

function eventObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RelayError(400, "store body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new RelayError(400, "store body is not a JSON object");
  }
  return value as Record<string, unknown>;
}

/**
 * Wraps one event the way an SDK would have: header with the event id, one
 * `event` item (or `transaction`, by the event's own type).
 */
export function eventToEnvelope(event: Record<string, unknown>, now: Date): Envelope {
  const eventId = normalizeEventId(event.event_id) ?? crypto.randomUUID().replace(/-/g, "");
  const payload = encoder.encode(JSON.stringify({ ...event, event_id: eventId }));
  const type = event.type === "transaction" ? "transaction" : "event";
  return {
    header: { event_id: eventId, sent_at: now.toISOString() },
    items: [{ header: { type, length: payload.byteLength }, payload }],
  };
}
