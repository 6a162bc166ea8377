import { gzipSync } from "node:zlib";
import type { OutgoingBody } from "./upstream";

/** Below this size gzip costs more CPU than it saves on the wire. */
const MIN_GZIP_BYTES = 1024;

/**
 * zlib's level for what the relay gzips. CompressionStream has no level and
 * runs zlib's default, 6. Level 3 costs a third less CPU on a 13 KB event and
 * over half less on 1 MB, for 2–5% more bytes: levels 1–3 are zlib's fast
 * strategy, 4–9 its lazy one, and on envelopes of a few KB levels 1–3 cost
 * the same while 3 packs best. Measured by `npm run bench:cpu`.
 */
export const GZIP_LEVEL = 3;

/** Bytes already gzipped, by the bytes they came from: the upstream and the archive share one gzip. */
const gzipped = new WeakMap<Uint8Array, Uint8Array>();

/** gzip in one synchronous call (node:zlib, which workerd provides with nodejs_compat). */
export function gzipBytes(bytes: Uint8Array): Uint8Array {
  let out = gzipped.get(bytes);
  if (!out) {
    const buffer = gzipSync(bytes, { level: GZIP_LEVEL });
    out = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    gzipped.set(bytes, out);
  }
  return out;
}

export async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  return gzipBytes(bytes);
}

/**
 * A body as it goes on the wire: bytes gzipped when worth it, a stream (an
 * envelope with staged or R2-held parts) always gzipped as it is sent.
 */
export async function gzipForWire(body: Uint8Array | { stream(): ReadableStream<Uint8Array> }): Promise<OutgoingBody> {
  if (body instanceof Uint8Array) return body.byteLength < MIN_GZIP_BYTES ? { bytes: body } : { bytes: gzipBytes(body), encoding: "gzip" };
  return { stream: body.stream().pipeThrough(new CompressionStream("gzip")), encoding: "gzip" };
}

export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
