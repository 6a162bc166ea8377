import { describe, expect, it } from "vitest";
import { gunzip, gzip, gzipBytes, gzipForWire } from "../../src/forward/compress";

/** A few KB of envelope-like JSON, compressible as real events are. */
function envelopeBytes(n: number): Uint8Array {
  const crumbs = Array.from({ length: n }, (_, i) => ({ category: "console", message: `worker ${i} processed batch ${i * 7}`, timestamp: 1795576658 + i }));
  return new TextEncoder().encode(`{"event_id":"${"a".repeat(32)}"}\n{"type":"event"}\n${JSON.stringify({ breadcrumbs: crumbs })}\n`);
}

async function inflate(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer());
}

describe("gzip in workerd (node:zlib at the relay's level)", () => {
  it("writes gzip that workerd's own DecompressionStream reads back, smaller than the input", async () => {
    const bytes = envelopeBytes(200);
    const out = gzipBytes(bytes);
    expect([out[0], out[1]]).toEqual([0x1f, 0x8b]);
    expect(out.byteLength).toBeLessThan(bytes.byteLength / 4);
    expect(await inflate(out)).toEqual(bytes);
    expect(await gunzip(out)).toEqual(bytes);
  });

  it("gzips the same bytes once for every destination", async () => {
    const bytes = envelopeBytes(50);
    const wire = await gzipForWire(bytes);
    expect(wire).toMatchObject({ encoding: "gzip" });
    expect(await gzip(bytes)).toBe((wire as { bytes: Uint8Array }).bytes);
    // Equal bytes in another array are another body: no content-keyed cache.
    expect(gzipBytes(bytes.slice())).not.toBe(gzipBytes(bytes));
  });

  it("sends a body under 1 KiB as it is, and streams compressed", async () => {
    const small = new TextEncoder().encode('{}\n{"type":"event"}\n{"message":"hi"}\n');
    expect(await gzipForWire(small)).toEqual({ bytes: small });
    const bytes = envelopeBytes(20);
    const streamed = await gzipForWire({ stream: () => new Blob([bytes]).stream() });
    expect(streamed.encoding).toBe("gzip");
    const wire = new Uint8Array(await new Response((streamed as { stream: ReadableStream<Uint8Array> }).stream).arrayBuffer());
    expect(await inflate(wire)).toEqual(bytes);
  });
});
