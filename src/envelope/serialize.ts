import { concatBytes } from "../bytes";
import type { Envelope, EnvelopeItem } from "./types";

const encoder = new TextEncoder();
const NEWLINE = 0x0a;
const NEWLINE_BYTES = Uint8Array.of(NEWLINE);

/**
 * Writes an envelope back to bytes. Parts that still carry their input bytes
 * (`rawHeader`, item `raw`) are copied as they were, so `serializeEnvelope(parseEnvelope(x))`
 * is `x`; changed or new parts are written with an explicit `length`, so binary
 * payloads and payloads containing newlines are safe.
 */
export function serializeEnvelope(envelope: Envelope): Uint8Array {
  const parts: Uint8Array[] = [envelope.rawHeader ?? encoder.encode(`${JSON.stringify(envelope.header)}\n`)];
  for (const item of envelope.items) {
    // Only the input's last segment may lack its newline; anything written after it must not merge into it.
    const previous = parts[parts.length - 1]!;
    if (previous.byteLength > 0 && previous[previous.byteLength - 1] !== NEWLINE) parts.push(NEWLINE_BYTES);
    parts.push(...itemParts(item));
  }
  return concatBytes(parts);
}

function itemParts(item: EnvelopeItem): Uint8Array[] {
  if (item.raw) return [item.raw];
  const header = encoder.encode(`${JSON.stringify({ ...item.header, length: item.payload.byteLength })}\n`);
  return [header, item.payload, NEWLINE_BYTES];
}
