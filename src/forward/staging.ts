import { newEventId } from "../envelope/event-id";
import { concatBytes } from "../bytes";
import type { EnvelopePart } from "../envelope/serialize";
import type { Stager, StageSink } from "../envelope/stream-read";

/**
 * Stages large payloads in the ARCHIVE bucket while the request is read
 * (`staging/<project>/<request>/<n>`), so the Worker never holds them. They
 * live as long as the request: `cleanup()` runs after the answer, once the
 * upstream, the archive or the spool holds its own copy. A bucket lifecycle
 * rule on `staging/` (README) removes what an evicted isolate left behind.
 */
export class R2Staging implements Stager {
  readonly keys: string[] = [];
  private readonly prefix: string;

  constructor(
    private readonly bucket: R2Bucket,
    projectId: string,
  ) {
    this.prefix = `staging/${projectId}/${newEventId()}`;
  }

  open(length: number): StageSink {
    const key = `${this.prefix}/${this.keys.length}`;
    this.keys.push(key);
    // R2 takes a stream only when its length is known up front; the item's `length` is that.
    const { readable, writable } = new FixedLengthStream(length);
    const put = this.bucket.put(key, readable);
    put.catch(() => undefined);
    const writer = writable.getWriter();
    // An aborted stage rejects these too; the abort itself is the report.
    writer.closed.catch(() => undefined);
    // Request chunks are small (often 16 KiB); R2 takes fewer, larger writes much faster.
    const batch = new Batcher(WRITE_BYTES, (bytes) => writer.write(bytes));
    return {
      key,
      write: (chunk) => batch.add(chunk),
      close: async () => {
        await batch.flush();
        await writer.close();
        await put;
      },
      abort: async (reason) => {
        await writer.abort(reason).catch(() => undefined);
        await put.catch(() => undefined);
      },
    };
  }

  async cleanup(): Promise<void> {
    if (this.keys.length > 0) await this.bucket.delete(this.keys);
  }
}

const WRITE_BYTES = 1024 * 1024;

/** Gathers small chunks into writes of about `size` bytes. */
class Batcher {
  private chunks: Uint8Array[] = [];
  private size = 0;

  constructor(
    private readonly limit: number,
    private readonly write: (bytes: Uint8Array) => Promise<void>,
  ) {}

  async add(chunk: Uint8Array): Promise<void> {
    this.chunks.push(chunk);
    this.size += chunk.byteLength;
    if (this.size >= this.limit) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.size === 0) return;
    const bytes = this.chunks.length === 1 ? this.chunks[0]! : concatBytes(this.chunks);
    this.chunks = [];
    this.size = 0;
    await this.write(bytes);
  }
}

/**
 * An envelope's bytes as a stream, staged payloads read back from R2 as the
 * stream is consumed: each call starts a fresh read, so the upstream, the
 * archive and the spool can each take their own.
 */
export function streamParts(bucket: R2Bucket, parts: readonly EnvelopePart[]): ReadableStream<Uint8Array> {
  return fromAsyncIterable(chunksOf(bucket, parts));
}

async function* chunksOf(bucket: R2Bucket, parts: readonly EnvelopePart[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) {
    if (part instanceof Uint8Array) {
      if (part.byteLength > 0) yield part;
      continue;
    }
    // Validation drops discarded items; one reaching here is a bug, not a short envelope.
    if (part.discarded) throw new Error("a discarded payload cannot be sent");
    const object = await bucket.get(part.key);
    if (!object) throw new Error(`staged payload ${part.key} is missing from R2`);
    if (object.size !== part.length) throw new Error(`staged payload ${part.key} has ${object.size} bytes, expected ${part.length}`);
    yield* chunks(object.body);
  }
}

/**
 * An R2 object's body (through `decode`, if given), fetched only when the
 * stream is first read: each call is a fresh read, so a retry can start over.
 */
export function lazyObjectStream(
  bucket: R2Bucket,
  key: string,
  decode: (body: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array> = (body) => body,
): ReadableStream<Uint8Array> {
  return fromAsyncIterable(
    (async function* () {
      const object = await bucket.get(key);
      if (!object) throw new Error(`${key} disappeared from R2`);
      yield* chunks(decode(object.body));
    })(),
  );
}

async function* chunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) yield next.value;
}

export function fromAsyncIterable(chunks: AsyncIterator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await chunks.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel() {
      await chunks.return?.(undefined);
    },
  });
}
