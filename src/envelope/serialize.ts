import { concatBytes } from "../bytes";
import type { Envelope, EnvelopeItem, StagedPayload } from "./types";

const encoder = new TextEncoder();
const NEWLINE = 0x0a;
const NEWLINE_BYTES = Uint8Array.of(NEWLINE);

/** A piece of a serialized envelope: bytes in memory, or a payload staged in R2. */
export type EnvelopePart = Uint8Array | StagedPayload;

/**
 * Writes an envelope back to bytes. Parts that still carry their input bytes
 * (`rawHeader`, item `raw`) are copied as they were, so `serializeEnvelope(parseEnvelope(x))`
 * is `x`; changed or new parts are written with an explicit `length`, so binary
 * payloads and payloads containing newlines are safe. An envelope with staged
 * payloads has no in-memory form: it is streamed from `envelopeParts`.
 */
export function serializeEnvelope(envelope: Envelope): Uint8Array {
  const parts = envelopeParts(envelope);
  if (parts.some((part) => !(part instanceof Uint8Array))) {
    throw new Error("serializeEnvelope: the envelope has payloads staged in R2; stream it instead");
  }
  return concatBytes(parts as Uint8Array[]);
}

/** The envelope's serialized form as an ordered list of parts; staged payloads stay references. */
export function envelopeParts(envelope: Envelope): EnvelopePart[] {
  const parts: EnvelopePart[] = [envelope.rawHeader ?? encoder.encode(`${JSON.stringify(envelope.header)}\n`)];
  for (const item of envelope.items) {
    // Only the input's last segment may lack its newline; anything written after it must not merge into it.
    const previous = parts[parts.length - 1]!;
    const unterminated = previous instanceof Uint8Array ? previous.byteLength > 0 && previous[previous.byteLength - 1] !== NEWLINE : true;
    if (unterminated) parts.push(NEWLINE_BYTES);
    parts.push(...itemParts(item));
  }
  return parts;
}

/** Bytes `envelopeParts` adds up to: what R2 needs before it takes a stream. */
export function serializedLength(parts: readonly EnvelopePart[]): number {
  return parts.reduce((sum, part) => sum + (part instanceof Uint8Array ? part.byteLength : part.length), 0);
}

function itemParts(item: EnvelopeItem): EnvelopePart[] {
  if (item.raw) return [item.raw];
  if (item.staged?.frame) {
    const { frame, ...staged } = item.staged;
    // A staged payload that ended the input without a newline ends its parts too.
    return frame.tail.byteLength > 0 ? [frame.head, staged, frame.tail] : [frame.head, staged];
  }
  const length = item.staged ? item.staged.length : item.payload.byteLength;
  const header = encoder.encode(`${JSON.stringify({ ...item.header, length })}\n`);
  return [header, item.staged ?? item.payload, NEWLINE_BYTES];
}
