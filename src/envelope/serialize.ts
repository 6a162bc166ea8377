import { concatBytes } from "../bytes";
import type { Envelope } from "./types";

const encoder = new TextEncoder();
const NEWLINE = 0x0a;

/**
 * Writes an envelope back to bytes. Parts that still carry their `raw` input
 * bytes are copied as they were; changed or new parts are written with an
 * explicit `length`, so binary payloads are safe.
 */
export function serializeEnvelope(envelope: Envelope): Uint8Array {
  const parts: Uint8Array[] = [envelope.rawHeader ?? encoder.encode(`${JSON.stringify(envelope.header)}\n`)];
  for (const item of envelope.items) {
    const previous = parts[parts.length - 1]!;
    // A raw segment may end without a newline (the input's last item); one more item must not merge into it.
    if (previous.byteLength > 0 && previous[previous.byteLength - 1] !== NEWLINE) parts.push(encoder.encode("\n"));
    if (item.raw) {
      parts.push(item.raw);
    } else {
      parts.push(encoder.encode(`${JSON.stringify({ ...item.header, length: item.payload.byteLength })}\n`), item.payload, encoder.encode("\n"));
    }
  }
  return concatBytes(parts);
}
