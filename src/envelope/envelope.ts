import { MAX_JSON_DEPTH, parseJsonBytes, type JsonProblem } from "../json/bounded";
import { EnvelopeError } from "./errors";
import type { Envelope, EnvelopeHeader, EnvelopeItem, ItemHeader } from "./types";

/**
 * Changes go through these helpers so a changed part loses its input bytes and
 * is re-encoded, while everything else is still forwarded byte-for-byte.
 * They return new objects and never mutate their input.
 */
export function createEnvelope(header: EnvelopeHeader, items: EnvelopeItem[]): Envelope {
  return { header, items };
}

/** A new item; any `length` in `header` is dropped, as the serializer writes the payload's own. */
export function newItem(header: ItemHeader, payload: Uint8Array | string): EnvelopeItem {
  const bytes = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const { length: _stale, ...rest } = header;
  return { header: rest as ItemHeader, payload: bytes };
}

export function setEnvelopeHeader(envelope: Envelope, header: EnvelopeHeader): Envelope {
  return { header, items: envelope.items };
}

export function setItemPayload(item: EnvelopeItem, payload: Uint8Array): EnvelopeItem {
  return newItem(item.header, payload);
}

export function setItemHeader(item: EnvelopeItem, header: ItemHeader): EnvelopeItem {
  const changed = newItem(header, item.payload);
  // A staged payload stays where it is; only its received framing no longer applies.
  return item.staged ? { ...changed, staged: { key: item.staged.key, length: item.staged.length } } : changed;
}

/** The payload's size in bytes, whether it is held in memory or staged in R2. */
export function payloadLength(item: EnvelopeItem): number {
  return item.staged ? item.staged.length : item.payload.byteLength;
}

const PROBLEMS: Record<JsonProblem, string> = {
  invalid_utf8: "is not valid UTF-8",
  too_deep: `nests deeper than ${MAX_JSON_DEPTH} levels`,
  invalid_json: "is not valid JSON",
};

/**
 * The payload as JSON, read as Relay reads it (strict UTF-8, at most
 * `MAX_JSON_DEPTH` levels), so every later walk over it is bounded; an
 * `EnvelopeError` naming the item type and the problem when it is not.
 */
export function itemJson(item: EnvelopeItem): unknown {
  const result = parseJsonBytes(item.payload);
  if (!result.ok) throw new EnvelopeError(`${item.header.type} item payload ${PROBLEMS[result.problem]}`);
  return result.value;
}

const parsed = new WeakMap<EnvelopeItem, unknown>();

/**
 * `item` with `value` as its new JSON payload. The value is remembered as the
 * item's parsed JSON, so later readers (the archive's metadata) do not decode
 * and parse what was just written. `value` must not be mutated afterwards.
 */
export function setItemJson(item: EnvelopeItem, value: unknown): EnvelopeItem {
  const changed = setItemPayload(item, new TextEncoder().encode(JSON.stringify(value)));
  parsed.set(changed, value);
  return changed;
}

/**
 * The payload as JSON (`itemJson`), parsed once per item however many stages
 * read it; undefined when it is not bounded, valid JSON. Callers must not
 * mutate the result.
 */
export function cachedItemJson(item: EnvelopeItem): unknown {
  if (parsed.has(item)) return parsed.get(item);
  const result = parseJsonBytes(item.payload);
  const value = result.ok ? result.value : undefined;
  parsed.set(item, value);
  return value;
}
