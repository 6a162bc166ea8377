import type { OutgoingBody } from "./upstream";

/** Below this size gzip costs more CPU than it saves on the wire. */
const MIN_GZIP_BYTES = 1024;

export async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * A body as it goes on the wire: bytes gzipped when worth it, a stream (an
 * envelope with staged or R2-held parts) always gzipped as it is sent.
 */
export async function gzipForWire(body: Uint8Array | { stream(): ReadableStream<Uint8Array> }): Promise<OutgoingBody> {
  if (body instanceof Uint8Array) return body.byteLength < MIN_GZIP_BYTES ? { bytes: body } : { bytes: await gzip(body), encoding: "gzip" };
  return { stream: body.stream().pipeThrough(new CompressionStream("gzip")), encoding: "gzip" };
}

export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
