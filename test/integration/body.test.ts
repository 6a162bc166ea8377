import * as zlib from "node:zlib";
import { it } from "vitest";

async function drain(s: ReadableStream<Uint8Array>) {
  const r = s.getReader(); let n = 0;
  for (;;) { const { done, value } = await r.read(); if (done) break; n += value.byteLength; }
  return n;
}
const tryit = async (name: string, f: () => Promise<unknown> | unknown) => {
  const t = Date.now();
  try { console.log(name, "OK", await f(), Date.now() - t, "ms"); }
  catch (e) { const err = e as Error & { code?: string }; console.log(name, "ERR", err?.constructor?.name, err.code, String(err.message).slice(0, 200), Date.now() - t, "ms"); }
};

it("probe", async () => {
  const json = new TextEncoder().encode('{"a":1}'.repeat(100));
  const gz = new Uint8Array(zlib.gzipSync(json));
  await tryit("gzip ok", () => drain(new Blob([gz]).stream().pipeThrough(new DecompressionStream("gzip"))));
  await tryit("gzip truncated", () => drain(new Blob([gz.slice(0, gz.length - 10)]).stream().pipeThrough(new DecompressionStream("gzip"))));
  await tryit("gzip trailing garbage", () => drain(new Blob([gz, new Uint8Array([1,2,3])]).stream().pipeThrough(new DecompressionStream("gzip"))));
  await tryit("gzip two members", () => drain(new Blob([gz, gz]).stream().pipeThrough(new DecompressionStream("gzip"))));
  await tryit("gzip garbage", () => drain(new Blob([new TextEncoder().encode("not gzip at all")]).stream().pipeThrough(new DecompressionStream("gzip"))));
  await tryit("gzip empty", () => drain(new Blob([]).stream().pipeThrough(new DecompressionStream("gzip"))));
  await tryit("deflate-raw of zlib", () => drain(new Blob([zlib.deflateSync(json)]).stream().pipeThrough(new DecompressionStream("deflate-raw"))));
  const zeros = new Uint8Array(50 * 1024 * 1024);
  const bombGz = new Uint8Array(zlib.gzipSync(zeros));
  const bombBr = new Uint8Array(zlib.brotliCompressSync(zeros));
  console.log("bomb sizes", bombGz.length, bombBr.length);
  await tryit("br maxOutputLength", () => zlib.brotliDecompressSync(bombBr, { maxOutputLength: 1024 * 1024 }).length);
  await tryit("br no cap", () => zlib.brotliDecompressSync(bombBr).length);
  await tryit("br corrupt", () => zlib.brotliDecompressSync(new TextEncoder().encode("not brotli")).length);
  await tryit("br truncated", () => zlib.brotliDecompressSync(bombBr.slice(0, 20)).length);
  await tryit("br empty", () => zlib.brotliDecompressSync(new Uint8Array(0)).length);
  await tryit("inflate maxOutputLength", () => zlib.inflateSync(zlib.deflateSync(zeros), { maxOutputLength: 1024 * 1024 }).length);
  await tryit("streaming br", () => new Promise((res, rej) => {
    const d = zlib.createBrotliDecompress(); let n = 0;
    d.on("data", (c: Buffer) => { n += c.length; if (n > 1024 * 1024) { d.destroy(); res("stopped at " + n); } });
    d.on("error", rej); d.on("end", () => res(n));
    d.end(bombBr);
  }));
  await tryit("gzip bomb cancel", async () => {
    const r = new Blob([bombGz]).stream().pipeThrough(new DecompressionStream("gzip")).getReader();
    let n = 0, chunks = 0;
    for (;;) { const { done, value } = await r.read(); if (done) break; n += value.byteLength; chunks++; if (n > 1024 * 1024) { await r.cancel(); return `cancelled at ${n} after ${chunks} chunks`; } }
    return n;
  });
  await tryit("Request chunked cancel", async () => {
    let pulls = 0;
    const s = new ReadableStream<Uint8Array>({ pull(c) { pulls++; c.enqueue(new Uint8Array(1000)); }, cancel(r) { console.log("source cancelled", r); } });
    const req = new Request("http://x/", { method: "POST", body: s, duplex: "half" } as RequestInit);
    console.log("content-length", req.headers.get("content-length"));
    const r = req.body!.getReader(); let n = 0;
    for (;;) { const { value } = await r.read(); n += value!.byteLength; if (n > 5000) { await r.cancel(); break; } }
    return `read ${n}, pulls ${pulls}`;
  });
  await tryit("Request from Uint8Array content-length", () => new Request("http://x/", { method: "POST", body: new Uint8Array(10) }).headers.get("content-length"));
  await tryit("CompressionStream deflate-raw", async () => drain(new Blob([json]).stream().pipeThrough(new CompressionStream("deflate-raw"))));
});
