import { brotliDecompressSync } from "node:zlib";
import { concatBytes } from "../bytes";
import { RelayError } from "../http/errors";

export interface BodyCaps {
  /** Bytes accepted on the wire. */
  maxCompressedBytes: number;
  /** Bytes after decompression: what stops a zip bomb. */
  maxDecompressedBytes: number;
}

export type BodyEncoding = "gzip" | "deflate" | "br";

export interface Body {
  bytes: Uint8Array;
  /** The body as it arrived, when it was compressed: the forwarder may reuse it. */
  compressed?: { encoding: BodyEncoding; bytes: Uint8Array };
}

/**
 * Reads a request body under both caps. Both are enforced while streaming, so
 * neither an endless chunked body nor a zip bomb is ever held whole in memory.
 */
export async function readBody(request: Request, caps: BodyCaps): Promise<Body> {
  const encoding = bodyEncoding(request.headers.get("content-encoding"));
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > caps.maxCompressedBytes) throw tooLarge(caps.maxCompressedBytes);

  const wire = await readCapped(request.body, caps.maxCompressedBytes, () => tooLarge(caps.maxCompressedBytes));
  if (encoding === "identity") {
    if (wire.byteLength > caps.maxDecompressedBytes) throw bombed(caps.maxDecompressedBytes);
    return { bytes: wire };
  }
  const bytes = await decompress(wire, encoding, caps.maxDecompressedBytes);
  return { bytes, compressed: { encoding, bytes: wire } };
}

/** Some SDKs send `utf-8` or an empty value as Content-Encoding: both mean identity. */
function bodyEncoding(header: string | null): BodyEncoding | "identity" {
  const value = (header ?? "").trim().toLowerCase();
  if (value === "" || value === "identity" || value === "utf-8" || value === "utf8") return "identity";
  if (value === "gzip" || value === "x-gzip") return "gzip";
  if (value === "deflate" || value === "br") return value;
  throw new RelayError(415, `unsupported content encoding: ${value}`);
}

async function decompress(wire: Uint8Array, encoding: BodyEncoding, cap: number): Promise<Uint8Array> {
  if (encoding === "br") return brotli(wire, cap);
  // Many clients send raw deflate under `deflate`; RFC 1950's two-byte header tells them apart.
  const format = encoding === "gzip" ? "gzip" : isZlibWrapped(wire) ? "deflate" : "deflate-raw";
  const stream = new Blob([wire]).stream().pipeThrough(new DecompressionStream(format));
  try {
    return await readCapped(stream, cap, () => bombed(cap));
  } catch (err) {
    if (err instanceof RelayError) throw err;
    throw new RelayError(400, `invalid ${encoding} body: ${(err as Error).message}`);
  }
}

function isZlibWrapped(bytes: Uint8Array): boolean {
  const [cmf, flg] = bytes;
  return cmf !== undefined && flg !== undefined && (cmf & 0x0f) === 8 && ((cmf << 8) | flg) % 31 === 0;
}

/**
 * workerd's DecompressionStream has no brotli; node:zlib does, and its
 * `maxOutputLength` stops inflating at the cap instead of after the fact.
 */
function brotli(wire: Uint8Array, cap: number): Uint8Array {
  try {
    return new Uint8Array(brotliDecompressSync(wire, { maxOutputLength: cap }));
  } catch (err) {
    const error = err as Error & { code?: string };
    if (error instanceof RangeError || error.code === "ERR_BUFFER_TOO_LARGE") throw bombed(cap);
    throw new RelayError(400, `invalid br body: ${error.message}`);
  }
}

async function readCapped(
  stream: ReadableStream<Uint8Array> | null,
  cap: number,
  overflow: () => RelayError,
): Promise<Uint8Array> {
  if (!stream) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > cap) {
      await reader.cancel().catch(() => undefined);
      throw overflow();
    }
    chunks.push(value);
  }
  return concatBytes(chunks);
}

const tooLarge = (cap: number) => new RelayError(413, `body exceeds ${cap} bytes`);
const bombed = (cap: number) => new RelayError(413, `decompressed body exceeds ${cap} bytes`);
