import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { RelayError } from "../../src/http/errors";
import { readBody, type BodyCaps } from "../../src/ingest/body";
import { decodeStoreBody } from "../../src/ingest/store";

// Runs in workerd: DecompressionStream, Request bodies and node:zlib are the platform's own.

const MiB = 1024 * 1024;
const CAPS: BodyCaps = { maxCompressedBytes: 20 * MiB, maxDecompressedBytes: 50 * MiB };
const text = '{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\n{"type":"event"}\n' + '{"message":"héllo wörld"}'.repeat(500);
const plain = new TextEncoder().encode(text);

const u8 = (bytes: Uint8Array) => new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const fixtures = {
  gzip: u8(gzipSync(plain)),
  zlib: u8(deflateSync(plain)),
  raw: u8(deflateRawSync(plain)),
  br: u8(brotliCompressSync(plain)),
};

function post(body: BodyInit | null, headers: Record<string, string> = {}): Request {
  return new Request("http://relay.test/api/42/envelope/", { method: "POST", body, headers });
}

/** A chunked body as @sentry/node sends it: a stream, so no Content-Length. Counts what was pulled. */
function chunked(bytes: Uint8Array, chunkSize: number) {
  let offset = 0;
  const state = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      const chunk = bytes.slice(offset, offset + chunkSize);
      offset += chunk.byteLength;
      state.pulled += chunk.byteLength;
      controller.enqueue(chunk);
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

/** A body that never ends, counting what it gave. */
function endless(chunkSize = 64 * 1024) {
  const state = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      state.pulled += chunkSize;
      controller.enqueue(new Uint8Array(chunkSize).fill(0x61));
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

async function refusal(promise: Promise<unknown>): Promise<RelayError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(RelayError);
    return err as RelayError;
  }
  throw new Error("expected a RelayError");
}

describe("readBody: identity", () => {
  it.each([
    ["no Content-Encoding", undefined],
    ["an empty Content-Encoding (sentry-ruby)", ""],
    ["identity", "identity"],
    ["utf-8 (sentry-java android)", "utf-8"],
    ["UTF-8", "UTF-8"],
  ])("reads the body as is with %s", async (_name, encoding) => {
    const body = await readBody(post(plain, encoding === undefined ? {} : { "content-encoding": encoding }), CAPS);
    expect(body.bytes).toEqual(plain);
    expect(body.compressed).toBeUndefined();
  });

  it("reads a chunked stream body", async () => {
    const { stream } = chunked(plain, 1000);
    expect((await readBody(post(stream), CAPS)).bytes).toEqual(plain);
  });

  it("reads a missing body as empty", async () => {
    const body = await readBody(new Request("http://relay.test/", { method: "POST" }), CAPS);
    expect(body.bytes.byteLength).toBe(0);
  });
});

describe("readBody: compressed", () => {
  it.each([
    ["gzip", fixtures.gzip, "gzip"],
    ["x-gzip", fixtures.gzip, "gzip"],
    ["GZIP", fixtures.gzip, "gzip"],
    ["deflate", fixtures.zlib, "deflate"],
    ["deflate", fixtures.raw, "deflate"],
    ["br", fixtures.br, "br"],
  ])("decodes Content-Encoding %s and hands back the wire bytes", async (header, wire, encoding) => {
    const body = await readBody(post(wire, { "content-encoding": header }), CAPS);
    expect(new TextDecoder().decode(body.bytes)).toBe(text);
    expect(body.compressed).toEqual({ encoding, bytes: wire });
  });

  it("decodes a body made by the platform's CompressionStream", async () => {
    const gz = new Uint8Array(await new Response(new Blob([plain]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
    expect((await readBody(post(gz, { "content-encoding": "gzip" }), CAPS)).bytes).toEqual(plain);
  });

  it("decodes a chunked gzip body, as @sentry/node sends above 32 KiB", async () => {
    const { stream } = chunked(fixtures.gzip, 97);
    const body = await readBody(post(stream, { "content-encoding": "gzip" }), CAPS);
    expect(body.bytes).toEqual(plain);
    expect(body.compressed?.bytes).toEqual(fixtures.gzip);
  });

  it("reads an empty compressed body as empty", async () => {
    const body = await readBody(post(new Uint8Array(0), { "content-encoding": "gzip" }), CAPS);
    expect(body).toEqual({ bytes: new Uint8Array(0) });
  });

  it.each(["zstd", "compress", "gzip, br", "bzip2"])("refuses Content-Encoding %s with 415, before reading", async (encoding) => {
    const { stream, state } = endless();
    const err = await refusal(readBody(post(stream, { "content-encoding": encoding }), CAPS));
    expect(err).toMatchObject({ status: 415, detail: `unsupported content encoding: ${encoding}` });
    expect(state.pulled).toBeLessThanOrEqual(64 * 1024);
  });
});

describe("readBody: the compressed cap", () => {
  const caps = { maxCompressedBytes: 1000, maxDecompressedBytes: MiB };

  it("accepts a body of exactly the cap", async () => {
    expect((await readBody(post(new Uint8Array(1000)), caps)).bytes.byteLength).toBe(1000);
  });

  it("refuses by Content-Length before reading a byte", async () => {
    // workerd sets no Content-Length header for a constructed body: give it as a client would.
    const { stream, state } = chunked(new Uint8Array(5000), 100);
    const err = await refusal(readBody(post(stream, { "content-length": "5000" }), caps));
    expect(err).toMatchObject({ status: 413, detail: "body exceeds 1000 bytes" });
    expect(state.pulled).toBeLessThanOrEqual(100);
  });

  it("refuses a chunked body without Content-Length as soon as it passes the cap", async () => {
    const { stream, state } = chunked(new Uint8Array(5000), 300);
    const err = await refusal(readBody(post(stream), caps));
    expect(err).toMatchObject({ status: 413, detail: "body exceeds 1000 bytes" });
    expect(state.cancelled).toBe(true);
    expect(state.pulled).toBeLessThan(5000);
  });

  it("stops an endless body", async () => {
    const { stream, state } = endless();
    const err = await refusal(readBody(post(stream), { maxCompressedBytes: MiB, maxDecompressedBytes: 50 * MiB }));
    expect(err).toMatchObject({ status: 413, detail: `body exceeds ${MiB} bytes` });
    expect(state.cancelled).toBe(true);
    expect(state.pulled).toBeLessThanOrEqual(MiB + 2 * 64 * 1024);
  });

  it("applies to the compressed size of a compressed body", async () => {
    const { stream } = chunked(fixtures.gzip, 200);
    const err = await refusal(readBody(post(stream, { "content-encoding": "gzip" }), { maxCompressedBytes: 100, maxDecompressedBytes: MiB }));
    expect(err).toMatchObject({ status: 413, detail: "body exceeds 100 bytes" });
  });

  it("holds an identity body to the smaller decompressed cap", async () => {
    const err = await refusal(readBody(post(new Uint8Array(2000)), { maxCompressedBytes: 10_000, maxDecompressedBytes: 1000 }));
    expect(err).toMatchObject({ status: 413, detail: "body exceeds 1000 bytes" });
  });
});

describe("readBody: the decompressed cap (zip bombs)", () => {
  const zeros = new Uint8Array(50 * MiB);
  const bombs = {
    gzip: u8(gzipSync(zeros)),
    deflate: u8(deflateSync(zeros)),
    "deflate (raw)": u8(deflateRawSync(zeros)),
    br: u8(brotliCompressSync(zeros)),
  };
  const caps = { maxCompressedBytes: MiB, maxDecompressedBytes: MiB };

  it.each(Object.entries(bombs))("refuses a %s bomb of 50 MiB of zeros against a 1 MiB cap, quickly", async (name, bomb) => {
    expect(bomb.byteLength).toBeLessThan(60 * 1024);
    const started = Date.now();
    const err = await refusal(readBody(post(bomb, { "content-encoding": name.split(" ")[0]! }), caps));
    expect(err).toMatchObject({ status: 413, detail: `decompressed body exceeds ${MiB} bytes` });
    // Inflating all 50 MiB takes seconds here; stopping at the cap takes tens of milliseconds.
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it.each([
    ["gzip", (b: Uint8Array) => u8(gzipSync(b))],
    ["br", (b: Uint8Array) => u8(brotliCompressSync(b))],
  ])("accepts %s output of exactly the cap and refuses one byte more", async (encoding, compress) => {
    const cap = { maxCompressedBytes: MiB, maxDecompressedBytes: 100_000 };
    const exact = await readBody(post(compress(new Uint8Array(100_000)), { "content-encoding": encoding }), cap);
    expect(exact.bytes.byteLength).toBe(100_000);
    const over = await refusal(readBody(post(compress(new Uint8Array(100_001)), { "content-encoding": encoding }), cap));
    expect(over).toMatchObject({ status: 413, detail: "decompressed body exceeds 100000 bytes" });
  });
});

describe("workerd's maxOutputLength refuses some outputs under it; the caps here stay exact", () => {
  // Measured: with maxOutputLength 100000, workerd refuses 81920..100000-byte outputs; with 65536, from 40960.
  const sizes = [40_960, 65_000, 81_920, 90_000, 99_999, 100_000];
  it.each(sizes)("br: a %d-byte body under a 100000-byte cap is accepted", async (size) => {
    const wire = u8(brotliCompressSync(new Uint8Array(size)));
    const body = await readBody(post(wire, { "content-encoding": "br" }), { maxCompressedBytes: MiB, maxDecompressedBytes: 100_000 });
    expect(body.bytes.byteLength).toBe(size);
  });

  it.each(sizes)("store: base64 zlib of a %d-byte event under a 100000-byte cap is accepted", (size) => {
    const json = JSON.stringify({ message: "x".repeat(size - 14) });
    expect(json.length).toBe(size);
    const body = new TextEncoder().encode(btoa(String.fromCharCode(...deflateSync(json))));
    expect(decodeStoreBody(body, 100_000)).toEqual({ message: "x".repeat(size - 14) });
  });

  it("store: one byte over the cap is 413", () => {
    const body = new TextEncoder().encode(btoa(String.fromCharCode(...deflateSync(JSON.stringify({ message: "x".repeat(100_001 - 14) })))));
    expect(() => decodeStoreBody(body, 100_000)).toThrowError(expect.objectContaining({ status: 413 }) as unknown as Error);
  });
});

describe("readBody: corrupt compressed bodies", () => {
  const garbage = new TextEncoder().encode("not compressed at all");
  it.each([
    ["gzip", garbage, "invalid gzip body: Decompression failed."],
    ["gzip", fixtures.gzip.slice(0, fixtures.gzip.byteLength - 12), "invalid gzip body: Called close() on a decompression stream with incomplete data"],
    ["gzip", new Uint8Array([...fixtures.gzip, 0x0a]), "invalid gzip body: Trailing bytes after end of compressed data"],
    ["deflate", garbage, "invalid deflate body: Decompression failed."],
    ["deflate", fixtures.zlib.slice(0, 40), "invalid deflate body: Called close() on a decompression stream with incomplete data"],
    ["br", garbage, "invalid br body: corrupt data"],
    ["br", fixtures.br.slice(0, 40), "invalid br body: Unexpected end of file"],
  ])("answers 400 for a broken %s body (%#)", async (encoding, wire, detail) => {
    const err = await refusal(readBody(post(wire, { "content-encoding": encoding }), CAPS));
    expect(err).toMatchObject({ status: 400, detail });
  });
});
