import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { concatBytes } from "../../src/bytes";
import { EnvelopeError } from "../../src/envelope/errors";
import { parseEnvelope } from "../../src/envelope/parse";
import { envelopeParts, serializeEnvelope } from "../../src/envelope/serialize";
import { readEnvelopeStream, type ChunkSource, type Stager, type StreamReadOptions } from "../../src/envelope/stream-read";
import { enc, envelope, runs } from "./support/envelope-arbitrary";

/** A stager that keeps what it is given, in memory, so tests can put it back. */
class MemoryStager implements Stager {
  readonly payloads = new Map<string, Uint8Array[]>();
  opened = 0;
  open(length: number) {
    const key = `k${this.opened++}`;
    const chunks: Uint8Array[] = [];
    let written = 0;
    return {
      key,
      write: async (chunk: Uint8Array) => {
        written += chunk.byteLength;
        if (written > length) throw new Error(`wrote ${written} of ${length}`);
        chunks.push(chunk.slice());
      },
      close: async () => {
        if (written !== length) throw new Error(`closed after ${written} of ${length}`);
        this.payloads.set(key, chunks);
      },
      abort: async () => undefined,
    };
  }
  bytes(key: string): Uint8Array {
    return concatBytes(this.payloads.get(key)!);
  }
}

/** `bytes` cut at the given offsets. */
function chunked(bytes: Uint8Array, cuts: number[]): ChunkSource {
  const points = [...new Set(cuts.map((c) => c % (bytes.byteLength + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const to of [...points, bytes.byteLength]) {
    if (to > from) chunks.push(bytes.subarray(from, to));
    from = Math.max(from, to);
  }
  return { read: async () => chunks.shift() };
}

/** The streamed envelope with every staged payload put back where it was. */
function reassembled(result: Awaited<ReturnType<typeof readEnvelopeStream>>, stager: MemoryStager): Uint8Array {
  return concatBytes(envelopeParts(result.envelope).map((part) => (part instanceof Uint8Array ? part : stager.bytes(part.key))));
}

const options = (stager: Stager | undefined, overrides: Partial<StreamReadOptions> = {}): StreamReadOptions => ({
  streamItemBytes: 1,
  maxBufferedBytes: 1 << 20,
  tooLarge: () => new Error("too large"),
  stager: () => stager,
  ...overrides,
});

async function outcome<T>(promise: Promise<T>): Promise<{ ok: T } | { error: unknown }> {
  try {
    return { ok: await promise };
  } catch (error) {
    return { error };
  }
}

describe("readEnvelopeStream", () => {
  it("agrees with parseEnvelope on any envelope cut anywhere, staging attachments and replays", async () => {
    await fc.assert(
      fc.asyncProperty(envelope, fc.array(fc.nat(), { maxLength: 8 }), fc.integer({ min: 1, max: 40 }), async ({ bytes }, cuts, threshold) => {
        const stager = new MemoryStager();
        const result = await readEnvelopeStream(chunked(bytes, cuts), options(stager, { streamItemBytes: threshold }));
        const parsed = parseEnvelope(bytes);
        expect([...reassembled(result, stager)]).toEqual([...bytes]);
        expect(result.envelope.header).toEqual(parsed.header);
        expect(result.envelope.items.map((i) => i.header)).toEqual(parsed.items.map((i) => i.header));
        const stageable = parsed.items.filter((i) => ["attachment", "replay_recording", "replay_video"].includes(i.header.type) && i.header.length !== undefined && i.header.length >= threshold);
        expect(stager.opened).toBe(stageable.length);
        // Nothing staged: the whole body is there to be forwarded as it came.
        if (stager.opened === 0) expect([...result.bytes!]).toEqual([...bytes]);
        else expect(result.bytes).toBeUndefined();
      }),
      runs(500),
    );
  });

  it("refuses what parseEnvelope refuses, with the same message when nothing was staged", async () => {
    const token = fc.constantFrom("{", "}", '"', "\n", "\r\n", " ", '{"type":"attachment","length":3}', '{"type":"event"}', "abc", "[1]", "\\");
    const body = fc.tuple(fc.constantFrom("{}\n", '{"event_id":"x"}\n', ""), fc.array(token, { maxLength: 30 })).map(([h, t]) => enc(h + t.join("")));
    await fc.assert(
      fc.asyncProperty(body, fc.array(fc.nat(), { maxLength: 6 }), async (bytes, cuts) => {
        const expected = await outcome(Promise.resolve().then(() => parseEnvelope(bytes)));
        const stager = new MemoryStager();
        const got = await outcome(readEnvelopeStream(chunked(bytes, cuts), options(stager)));
        if ("error" in expected) {
          expect("error" in got && got.error).toBeInstanceOf(EnvelopeError);
          if (stager.opened === 0) expect((got as { error: Error }).error.message).toBe((expected.error as Error).message);
        } else {
          expect("ok" in got).toBe(true);
        }
      }),
      runs(1000),
    );
  });

  it("streams a 64 MiB attachment while holding under 256 KiB of the envelope", async () => {
    const event = enc(`{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\n{"type":"event","length":17}\n{"message":"big"}\n`);
    const size = 64 * 1024 * 1024;
    const chunk = new Uint8Array(64 * 1024).map((_, i) => (i * 31) & 0xff);
    const hash = createHash("sha256");
    const parts = [event, enc(`{"type":"attachment","length":${size},"filename":"core.dmp"}\n`)];
    for (let sent = 0; sent < size; sent += chunk.byteLength) parts.push(chunk);
    parts.push(enc(`\n{"type":"user_report"}\n{"comments":"after"}`));
    let produced = 0;
    const source: ChunkSource = {
      read: async () => {
        const next = parts.shift();
        if (next) produced += next.byteLength;
        return next;
      },
    };
    let received = 0;
    const stager: Stager = {
      open: (length) => ({
        key: "dump",
        write: async (c) => {
          received += c.byteLength;
          hash.update(c);
        },
        close: async () => expect(received).toBe(length),
        abort: async () => undefined,
      }),
    };
    const result = await readEnvelopeStream(source, options(stager, { streamItemBytes: 1024, maxBufferedBytes: 256 * 1024 }));
    expect(produced).toBeGreaterThan(size);
    expect(received).toBe(size);
    const expectedHash = createHash("sha256");
    for (let sent = 0; sent < size; sent += chunk.byteLength) expectedHash.update(chunk);
    expect(hash.digest("hex")).toBe(expectedHash.digest("hex"));
    expect(result.envelope.items.map((i) => i.header.type)).toEqual(["event", "attachment", "user_report"]);
    expect(result.envelope.items[1]!.staged).toMatchObject({ key: "dump", length: size });
    expect(new TextDecoder().decode(result.envelope.items[2]!.payload)).toBe('{"comments":"after"}');
  });

  it("holds everything when there is no stager, and refuses past maxBufferedBytes", async () => {
    const bytes = enc(`{}\n{"type":"attachment","length":5000}\n${"x".repeat(5000)}\n`);
    const held = await readEnvelopeStream(chunked(bytes, [100]), options(undefined, { streamItemBytes: 10 }));
    expect(held.envelope.items[0]!.staged).toBeUndefined();
    expect(held.envelope.items[0]!.payload.byteLength).toBe(5000);
    await expect(readEnvelopeStream(chunked(bytes, [100]), options(undefined, { maxBufferedBytes: 4096 }))).rejects.toThrow("too large");
    // The same envelope fits once the attachment is streamed.
    const stager = new MemoryStager();
    await readEnvelopeStream(chunked(bytes, [100]), options(stager, { maxBufferedBytes: 4096, streamItemBytes: 1000 }));
    expect(stager.bytes("k0").byteLength).toBe(5000);
  });

  it("reads an event over the size cap to nowhere, keeping only its header for validation to refuse", async () => {
    const bytes = enc(`{}\n{"type":"event","length":5000}\n${"e".repeat(5000)}\n{"type":"session"}\n{"sid":"x"}`);
    const stager = new MemoryStager();
    const read = await readEnvelopeStream(
      chunked(bytes, [10, 300, 4000]),
      options(stager, { maxBufferedBytes: 2000, discard: (header, length) => header.type === "event" && length > 1000 }),
    );
    expect(stager.opened).toBe(0);
    expect(read.envelope.items[0]!.staged).toMatchObject({ length: 5000, discarded: true });
    expect(read.envelope.items[0]!.payload.byteLength).toBe(0);
    expect(new TextDecoder().decode(read.envelope.items[1]!.payload)).toBe('{"sid":"x"}');
  });

  it("asks for the stager once, with the envelope header, before the first staged byte, and stops when it refuses", async () => {
    const bytes = enc(`{"dsn":"https://k@relay/1"}\n{"type":"attachment","length":3}\nabc\n{"type":"attachment","length":3}\ndef`);
    const headers: unknown[] = [];
    const stager = new MemoryStager();
    await readEnvelopeStream(chunked(bytes, []), options(stager, { stager: (h) => (headers.push(h), stager) }));
    expect(headers).toEqual([{ dsn: "https://k@relay/1" }]);
    expect(stager.opened).toBe(2);
    const refused = readEnvelopeStream(chunked(bytes, []), options(undefined, { stager: () => { throw new Error("401 unknown key"); } }));
    await expect(refused).rejects.toThrow("401 unknown key");
  });

  it("reports a staged payload cut short as parseEnvelope words it, and aborts the stage", async () => {
    const bytes = enc(`{}\n{"type":"attachment","length":100}\n${"y".repeat(40)}`);
    const parseError = (() => {
      try {
        parseEnvelope(bytes);
      } catch (err) {
        return (err as Error).message;
      }
    })();
    let aborted = false;
    const stager: Stager = { open: () => ({ key: "x", write: async () => undefined, close: async () => undefined, abort: async () => void (aborted = true) }) };
    await expect(readEnvelopeStream(chunked(bytes, [7, 50]), options(stager))).rejects.toThrow(parseError!);
    expect(aborted).toBe(true);
  });

  it("a staged item keeps its framing: unchanged it leaves as it came, changed it is written with its length", () => {
    const bytes = enc(`{}\n  {"type":"attachment","length":3}\n`);
    const envelope = parseEnvelope(bytes, { staged: new Map([[bytes.byteLength, { key: "a", length: 3 }]]) });
    expect(envelope.items[0]!.staged?.frame?.head).toEqual(enc(`  {"type":"attachment","length":3}\n`));
    expect(() => serializeEnvelope(envelope)).toThrow(/staged/);
  });
});
