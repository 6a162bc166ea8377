import { brotliCompressSync, deflateRawSync, deflateSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { compress, errorEnvelope, fakeUpstream, post, relay, sentryAuth, testConfig } from "./support/harness";

let upstream: ReturnType<typeof fakeUpstream>;
beforeEach(() => {
  upstream = fakeUpstream();
});
afterEach(() => upstream.restore());

const encoder = new TextEncoder();

describe("request bodies on the envelope endpoint", () => {
  const body = errorEnvelope({ message: "compressed ".repeat(200) });

  it.each([
    ["gzip", async () => compress(body, "gzip")],
    ["x-gzip", async () => compress(body, "gzip")],
    ["deflate", async () => new Uint8Array(deflateSync(body))],
    ["deflate (raw, as some clients send it)", async () => new Uint8Array(deflateRawSync(body))],
    ["br", async () => new Uint8Array(brotliCompressSync(body))],
    ["identity", async () => encoder.encode(body)],
    ["utf-8", async () => encoder.encode(body)],
    ["", async () => encoder.encode(body)],
  ])("decodes Content-Encoding %s", async (encoding, make) => {
    const headers: Record<string, string> = { ...sentryAuth() };
    const name = encoding.split(" ")[0]!;
    if (name) headers["content-encoding"] = name;
    const res = await relay(post("/api/42/envelope/", await make(), headers));
    expect(res.status).toBe(200);
    expect(upstream.calls[0]!.text).toBe(body);
  });

  it("forwards an unchanged gzipped body as the same compressed bytes", async () => {
    const gz = await compress(body, "gzip");
    const res = await relay(post("/api/42/envelope/", gz, { ...sentryAuth(), "content-encoding": "gzip" }));
    expect(res.status).toBe(200);
    expect(upstream.calls[0]!.headers.get("content-encoding")).toBe("gzip");
    expect([...upstream.calls[0]!.wire]).toEqual([...gz]);
  });

  it("gzips a large identity body on the way upstream", async () => {
    const res = await relay(post("/api/42/envelope/", body, sentryAuth()));
    expect(res.status).toBe(200);
    expect(upstream.calls[0]!.headers.get("content-encoding")).toBe("gzip");
    expect(upstream.calls[0]!.wire.byteLength).toBeLessThan(body.length / 4);
  });

  it("answers 415 for an encoding it cannot decode", async () => {
    const res = await relay(post("/api/42/envelope/", body, { ...sentryAuth(), "content-encoding": "zstd" }));
    expect(res.status).toBe(415);
    expect(((await res.json()) as { detail: string }).detail).toContain("zstd");
  });

  it("answers 400 naming the encoding for a corrupt gzip body", async () => {
    const res = await relay(post("/api/42/envelope/", encoder.encode("not gzip at all"), { ...sentryAuth(), "content-encoding": "gzip" }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toContain("gzip");
  });

  it("answers 413 for a body over the compressed cap, with or without Content-Length", async () => {
    const config = testConfig({ limits: { maxCompressedBytes: 1000 } });
    const big = errorEnvelope({ message: "y".repeat(5000) });
    const declared = await relay(post("/api/42/envelope/", big, sentryAuth()), config);
    expect(declared.status).toBe(413);
    // A chunked body, as @sentry/node sends: no Content-Length to check up front.
    const chunks = [encoder.encode(big.slice(0, 800)), encoder.encode(big.slice(800))];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const chunked = await relay(new Request("http://relay.test/api/42/envelope/", { method: "POST", body: stream, headers: sentryAuth() }), config);
    expect(chunked.status).toBe(413);
    expect(upstream.calls).toHaveLength(0);
  });

  it.each(["gzip", "br"])("answers 413 to a %s zip bomb without inflating it", async (encoding) => {
    const config = testConfig({ limits: { maxDecompressedBytes: 1024 * 1024 } });
    const zeros = new Uint8Array(64 * 1024 * 1024);
    const bomb = encoding === "gzip" ? await compress(zeros, "gzip") : new Uint8Array(brotliCompressSync(zeros));
    expect(bomb.byteLength).toBeLessThan(200 * 1024);
    const res = await relay(post("/api/42/envelope/", bomb, { ...sentryAuth(), "content-encoding": encoding }), config);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { detail: string }).detail).toContain("decompressed");
  });
});
