import { describe, expect, it } from "vitest";
import type { ChunkSource } from "../../src/envelope/stream-read";
import type { EnvelopeHeader } from "../../src/envelope/types";
import { RelayError } from "../../src/http/errors";
import { gateOnHeader } from "../../src/ingest/anonymous";
import { clientReportSchema } from "../../src/ingest/client-report";

/** `text` as chunks of `size` bytes; records whether the reader cancelled it. */
function source(text: string | Uint8Array, size: number) {
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
  let at = 0;
  const state = { cancelled: false, read: 0 };
  const src: ChunkSource = {
    read: async () => {
      if (at >= bytes.byteLength) return undefined;
      const chunk = bytes.subarray(at, at + size);
      at += chunk.byteLength;
      state.read = at;
      return chunk;
    },
    cancel: async () => void (state.cancelled = true),
  };
  return { src, state };
}

async function drain(src: ChunkSource): Promise<string> {
  const parts: Uint8Array[] = [];
  for (let c = await src.read(); c; c = await src.read()) parts.push(c);
  return new TextDecoder().decode(Buffer.concat(parts));
}

describe("gateOnHeader", () => {
  const body = '{"dsn":"https://k@h/1","sent_at":"x"}\n{"type":"client_report"}\n{"discarded_events":[]}';

  it.each([1, 3, 7, 64, 100_000])("sees the header and passes every byte through, in chunks of %i", async (size) => {
    const seen: Array<EnvelopeHeader | undefined> = [];
    const { src } = source(body, size);
    const gated = gateOnHeader(src, (header) => (seen.push(header), Infinity));
    expect(await drain(gated)).toBe(body);
    expect(seen).toEqual([{ dsn: "https://k@h/1", sent_at: "x" }]);
  });

  it("gives undefined for a first line that is not a JSON object, or a body without one", async () => {
    for (const text of ["[1]\n{}", "not json\nrest", "{}", ""]) {
      const seen: Array<EnvelopeHeader | undefined> = [];
      await drain(gateOnHeader(source(text, 2).src, (header) => (seen.push(header), Infinity)));
      expect(seen).toEqual([text === "{}" ? {} : undefined]);
    }
  });

  it("stops past the cap it was given, cancelling the source", async () => {
    const { src, state } = source(`{}\n${"x".repeat(1_000_000)}`, 1000);
    const gated = gateOnHeader(src, () => 8192);
    const err = await drain(gated).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RelayError);
    expect((err as RelayError).status).toBe(401);
    expect(state.cancelled).toBe(true);
    expect(state.read).toBeLessThanOrEqual(9000);
  });

  it("decides after 64 KiB without a newline, read a byte at a time", async () => {
    const seen: Array<EnvelopeHeader | undefined> = [];
    const { src, state } = source(new Uint8Array(200_000).fill(0x7b), 1);
    const err = await drain(gateOnHeader(src, (header) => (seen.push(header), 8192))).catch((e: unknown) => e);
    expect(seen).toEqual([undefined]);
    expect((err as RelayError).status).toBe(401);
    expect(state.read).toBe(64 * 1024 + 1);
  });

  it("lets a refusal from onHeader through and cancels", async () => {
    const { src, state } = source(body, 5);
    const err = await drain(gateOnHeader(src, () => { throw new RelayError(403, "no"); })).catch((e: unknown) => e);
    expect((err as RelayError).detail).toBe("no");
    expect(state.cancelled).toBe(true);
  });
});

describe("clientReportSchema", () => {
  it("keeps the checked fields in a fixed order", () => {
    const parsed = clientReportSchema.parse({ discarded_events: [{ quantity: 2, category: "span", reason: "no_parent_span" }], timestamp: 1 });
    expect(JSON.stringify(parsed)).toBe('{"timestamp":1,"discarded_events":[{"reason":"no_parent_span","category":"span","quantity":2}]}');
  });

  it("refuses more than 100 entries in a list", () => {
    const entries = Array.from({ length: 101 }, () => ({ reason: "before_send", category: "error", quantity: 1 }));
    expect(clientReportSchema.safeParse({ discarded_events: entries }).success).toBe(false);
  });
});
