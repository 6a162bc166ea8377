/** Below this size gzip costs more CPU than it saves on the wire. */
const MIN_GZIP_BYTES = 1024;

export async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export async function gzipIfWorthIt(bytes: Uint8Array): Promise<{ bytes: Uint8Array; encoding?: "gzip" }> {
  if (bytes.byteLength < MIN_GZIP_BYTES) return { bytes };
  return { bytes: await gzip(bytes), encoding: "gzip" };
}

export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
