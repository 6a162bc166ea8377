import { brotliDecompressSync } from "node:zlib";
import { concatBytes } from "../bytes";
import type { ChunkSource } from "../envelope/stream-read";
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
 * Reads a request body whole, under both caps: `readBodyStream` drained, so
 * neither an endless chunked body nor a zip bomb is ever inflated past its cap.
 */
export async function readBody(request: Request, caps: BodyCaps): Promise<Body> {
  const body = await readBodyStream(request, { ...caps, maxBufferedBytes: Infinity, keepCopyBytes: Infinity });
  const chunks: Uint8Array[] = [];
  for (let chunk = await body.source.read(); chunk; chunk = await body.source.read()) chunks.push(chunk);
  const compressed = body.compressed();
  return { bytes: concatBytes(chunks), ...(compressed ? { compressed } : {}) };
}

/**
 * The body's encoding and the cap on its wire bytes; a declared length over
 * that cap is refused before anything is read.
 */
async function wireCapFor(request: Request, encoding: BodyEncoding | "identity", caps: BodyCaps): Promise<number> {
  // An identity body is its own decompressed form, so the smaller cap holds on the wire.
  const wireCap = encoding === "identity" ? Math.min(caps.maxCompressedBytes, caps.maxDecompressedBytes) : caps.maxCompressedBytes;
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > wireCap) {
    await request.body?.cancel().catch(() => undefined);
    throw tooLarge(wireCap);
  }
  return wireCap;
}

/**
 * Relay drops an empty Content-Encoding (sentry-ruby 5) and `utf-8`
 * (sentry-java android 2): both mean identity. Anything unknown is 415, as
 * tower-http's RequestDecompressionLayer answers behind Relay.
 */
function bodyEncoding(header: string | null): BodyEncoding | "identity" {
  const value = (header ?? "").trim().toLowerCase();
  if (value === "" || value === "identity" || value === "utf-8" || value === "utf8") return "identity";
  if (value === "gzip" || value === "x-gzip") return "gzip";
  if (value === "deflate" || value === "br") return value;
  throw new RelayError(415, `unsupported content encoding: ${value}`);
}

/** RFC 1950: CM = 8 (deflate), CINFO ≤ 7, and the two header bytes a multiple of 31. */
function isZlibWrapped(bytes: Uint8Array): boolean {
  const [cmf, flg] = bytes;
  return cmf !== undefined && flg !== undefined && (cmf & 0x0f) === 8 && cmf >> 4 <= 7 && ((cmf << 8) | flg) % 31 === 0;
}

/** workerd's DecompressionStream has no brotli; node:zlib (nodejs_compat) has. */
function brotli(wire: Uint8Array, cap: number): Uint8Array {
  let bytes: Uint8Array | undefined;
  try {
    bytes = zlibSyncCapped(brotliDecompressSync, wire, cap);
  } catch (err) {
    // workerd words every brotli decoding error "Compression failed".
    const message = (err as Error).message;
    throw new RelayError(400, `invalid br body: ${message === "Compression failed" ? "corrupt data" : message}`);
  }
  if (!bytes) throw bombed(cap);
  return bytes;
}

/** More than any output workerd's `maxOutputLength` was seen to refuse below the limit (36 KiB). */
const ZLIB_HEADROOM = 64 * 1024;

/**
 * Runs a node:zlib sync decoder that stops inflating soon after `cap` instead
 * of after the whole bomb is out, and applies `cap` exactly: undefined when the
 * output is larger. Throws the decoder's own error for corrupt input.
 *
 * Why not `maxOutputLength: cap`: workerd's refuses some outputs that fit (for
 * a 100000-byte limit, outputs of 81920..100000 bytes; for 65536, from 40960),
 * depending on sizes, for brotli, inflate and gunzip alike; Node's is exact.
 */
export function zlibSyncCapped(
  decode: (input: Uint8Array, options: { maxOutputLength: number }) => Uint8Array,
  input: Uint8Array,
  cap: number,
): Uint8Array | undefined {
  let out: Uint8Array;
  try {
    out = decode(input, { maxOutputLength: cap + ZLIB_HEADROOM });
  } catch (err) {
    // workerd throws a RangeError past maxOutputLength, Node an ERR_BUFFER_TOO_LARGE (also a RangeError).
    if (err instanceof RangeError || (err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") return undefined;
    throw err;
  }
  return out.byteLength > cap ? undefined : new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

export interface BodyStream {
  source: ChunkSource;
  /** The body as it arrived, when it was compressed and small enough to keep a copy of (see `readBodyStream`). */
  compressed(): { encoding: BodyEncoding; bytes: Uint8Array } | undefined;
}

/**
 * The body as a stream of decompressed chunks, both caps enforced as it is
 * read, so it is never held whole (`readBody` drains it). Errors (413 over a cap,
 * 400 for corrupt compression) surface from `source.read()` as RelayErrors.
 * A copy of the compressed bytes is kept while they stay under `keepCopyBytes`,
 * so a small unchanged envelope can still be forwarded as the SDK gzipped it.
 * Brotli has no streaming decoder in workerd, so a br body is inflated whole,
 * under `maxBufferedBytes` on both sides.
 */
export async function readBodyStream(
  request: Request,
  caps: BodyCaps & { maxBufferedBytes: number; keepCopyBytes: number },
): Promise<BodyStream> {
  const encoding = bodyEncoding(request.headers.get("content-encoding"));
  if (encoding === "br") {
    const held = {
      maxCompressedBytes: Math.min(caps.maxCompressedBytes, caps.maxBufferedBytes),
      maxDecompressedBytes: Math.min(caps.maxDecompressedBytes, caps.maxBufferedBytes),
    };
    const cap = await wireCapFor(request, encoding, held);
    // @sentry/node sends chunked bodies without Content-Length: the count while reading is the real cap.
    const wire = await new WireSource(request.body, cap, 0).readAtLeast(Infinity);
    // An empty body has nothing to decode, whatever its header says; the parser names the problem.
    if (wire.byteLength === 0) return { source: onceSource(wire), compressed: () => undefined };
    const bytes = brotli(wire, held.maxDecompressedBytes);
    return { source: onceSource(bytes), compressed: () => ({ encoding, bytes: wire }) };
  }
  const wireCap = await wireCapFor(request, encoding, caps);

  const wire = new WireSource(request.body, wireCap, encoding === "identity" ? 0 : caps.keepCopyBytes);
  if (encoding === "identity") return { source: wire, compressed: () => undefined };
  // The first bytes tell zlib-wrapped from raw deflate; an empty body has nothing to decode.
  const first = await wire.readAtLeast(2);
  if (first.byteLength === 0) return { source: onceSource(first), compressed: () => undefined };
  const format = encoding === "gzip" ? "gzip" : isZlibWrapped(first) ? "deflate" : "deflate-raw";
  return {
    source: new InflatingSource(wire, first, format, encoding, caps.maxDecompressedBytes),
    compressed: () => {
      const bytes = wire.copy();
      return bytes ? { encoding, bytes } : undefined;
    },
  };
}

/** The request body, counted against the wire cap, with a copy kept while it is small. */
class WireSource implements ChunkSource {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private size = 0;
  private kept: Uint8Array[] | undefined = [];
  private done = false;

  constructor(
    body: ReadableStream<Uint8Array> | null,
    private readonly cap: number,
    private readonly keepCopyBytes: number,
  ) {
    this.reader = body?.getReader();
  }

  async read(): Promise<Uint8Array | undefined> {
    if (!this.reader || this.done) return undefined;
    const { done, value } = await this.reader.read();
    if (done) {
      this.done = true;
      return undefined;
    }
    this.size += value.byteLength;
    if (this.size > this.cap) {
      await this.reader.cancel().catch(() => undefined);
      throw tooLarge(this.cap);
    }
    if (this.kept && this.size <= this.keepCopyBytes) this.kept.push(value);
    else this.kept = undefined;
    return value;
  }

  /** At least `n` bytes, or all there is when the body is shorter. */
  async readAtLeast(n: number): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    let size = 0;
    while (size < n) {
      const chunk = await this.read();
      if (!chunk) break;
      chunks.push(chunk);
      size += chunk.byteLength;
    }
    return concatBytes(chunks);
  }

  /** The whole wire body, if it ended and was small enough to keep. */
  copy(): Uint8Array | undefined {
    return this.done && this.kept ? concatBytes(this.kept) : undefined;
  }

  async cancel(): Promise<void> {
    await this.reader?.cancel().catch(() => undefined);
  }
}

/**
 * Decompressed chunks, counted against the decompressed cap: a zip bomb is
 * stopped after the cap, not inflated whole. The wire is pumped into the
 * decompressor as the decompressor's output is read.
 */
class InflatingSource implements ChunkSource {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private wireError: unknown;
  private size = 0;

  constructor(
    private readonly wire: WireSource,
    first: Uint8Array,
    format: "gzip" | "deflate" | "deflate-raw",
    private readonly encoding: BodyEncoding,
    private readonly cap: number,
  ) {
    const inflate = new DecompressionStream(format);
    this.reader = inflate.readable.getReader();
    void this.pump(inflate.writable.getWriter(), first);
  }

  private async pump(writer: WritableStreamDefaultWriter<Uint8Array>, first: Uint8Array): Promise<void> {
    try {
      await writer.write(first);
      for (let chunk = await this.wire.read(); chunk; chunk = await this.wire.read()) await writer.write(chunk);
      await writer.close();
    } catch (err) {
      // A wire problem (over the cap) is the answer; the decompressor's own error is reported by read().
      if (err instanceof RelayError) this.wireError = err;
      await writer.abort(err).catch(() => undefined);
    }
  }

  async read(): Promise<Uint8Array | undefined> {
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      result = await this.reader.read();
    } catch (err) {
      if (this.wireError) throw this.wireError;
      // workerd reports corrupt, truncated and trailing data as TypeErrors with a readable message.
      throw new RelayError(400, `invalid ${this.encoding} body: ${(err as Error).message}`);
    }
    if (this.wireError) throw this.wireError;
    if (result.done) return undefined;
    this.size += result.value.byteLength;
    if (this.size > this.cap) {
      await this.reader.cancel().catch(() => undefined);
      await this.wire.cancel();
      throw bombed(this.cap);
    }
    return result.value;
  }

  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => undefined);
    await this.wire.cancel();
  }
}

function onceSource(bytes: Uint8Array): ChunkSource {
  let given = bytes.byteLength === 0;
  return {
    read: async () => {
      if (given) return undefined;
      given = true;
      return bytes;
    },
  };
}

const tooLarge = (cap: number) => new RelayError(413, `body exceeds ${cap} bytes`);
const bombed = (cap: number) => new RelayError(413, `decompressed body exceeds ${cap} bytes`);
