import { MAX_JSON_DEPTH, nestsDeeperThan } from "../json/bounded";
import { EnvelopeError } from "./errors";
import { objectEnd, parseEnvelope, skipWhitespace } from "./parse";
import type { Envelope, EnvelopeHeader, ItemHeader, StagedPayload } from "./types";

/** Pulls the body a chunk at a time; undefined at the end. Errors are the caller's to word. */
export interface ChunkSource {
  read(): Promise<Uint8Array | undefined>;
  /** Stops the source early, when the reader gives up. */
  cancel?(): Promise<void>;
}

/** Where a large payload goes instead of memory: exactly `length` bytes are written, then closed. */
export interface StageSink {
  key: string;
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort(reason: unknown): Promise<void>;
}

export interface Stager {
  open(length: number): StageSink;
}

export interface StreamReadOptions {
  /** Payloads of `STREAMED_TYPES` at least this large are staged, not held. */
  streamItemBytes: number;
  /** Everything that is not staged is held; more than this is refused with `tooLarge()`. */
  maxBufferedBytes: number;
  tooLarge: () => Error;
  /**
   * Called once, with the envelope header, just before the first payload would
   * be staged: the place to authenticate, so nobody unknown writes to R2. It
   * may throw to refuse the request, or return undefined to hold everything.
   */
  stager?: (header: EnvelopeHeader) => Stager | undefined;
  /**
   * Whether an item is over its size cap by its header and `length` alone:
   * such a payload is read and thrown away, neither held nor staged, since
   * validation refuses it by the same test.
   */
  discard?: (header: ItemHeader, length: number) => boolean;
}

export interface StreamRead {
  envelope: Envelope;
  /** The whole body, when nothing was staged: forwarded as-is while no stage changes it. */
  bytes?: Uint8Array;
}

/**
 * Item types whose payload no stage reads: they only need their header (type,
 * length) to be filtered, limited or counted, so they can pass through unseen.
 */
export const STREAMED_TYPES: ReadonlySet<string> = new Set(["attachment", "replay_recording", "replay_video"]);

/** Headers longer than this are not followed by the scanner (they are never legitimately this large). */
const MAX_SCANNED_HEADER = 64 * 1024;
const NEWLINE = 0x0a;

/**
 * Reads an envelope from a stream holding at most `maxBufferedBytes` of it:
 * a scanner follows the framing as it arrives, and a streamed-type item with a
 * `length` of at least `streamItemBytes` has its payload written to the stager
 * as it comes, never held. Everything else is kept and, at the end, parsed by
 * `parseEnvelope`, which stays the one authority on the grammar: wherever the
 * scanner meets something it does not expect, it stops following and simply
 * keeps the rest, so a malformed body gets exactly `parseEnvelope`'s error.
 */
export async function readEnvelopeStream(source: ChunkSource, options: StreamReadOptions): Promise<StreamRead> {
  try {
    return await readFrom(source, options);
  } catch (err) {
    await source.cancel?.().catch(() => undefined);
    throw err;
  }
}

async function readFrom(source: ChunkSource, options: StreamReadOptions): Promise<StreamRead> {
  const held = new HeldBytes(options.maxBufferedBytes, options.tooLarge);
  let ended = false;
  const more = async (): Promise<boolean> => {
    if (ended) return false;
    const chunk = await source.read();
    if (chunk === undefined) {
      ended = true;
      return false;
    }
    held.push(chunk);
    return true;
  };

  const staged = new Map<number, StagedPayload>();
  let stager: Stager | undefined;
  let stagerAsked = false;
  let header: EnvelopeHeader | undefined;
  let pos = 0;
  let index = -1;

  scan: for (;;) {
    // Whitespace before a header.
    for (;;) {
      pos = skipWhitespace(held.view(), pos);
      if (pos < held.length) break;
      if (!(await more())) break scan;
    }
    // A whole header object, and the byte after it.
    let end = -1;
    while (held.at(pos) === 0x7b && (end = objectEnd(held.view(), pos)) === -1) {
      if (held.length - pos > MAX_SCANNED_HEADER || !(await more())) break scan;
    }
    if (end === -1) break;
    while (held.length <= end && (await more()));
    if (end < held.length && held.at(end) !== NEWLINE) break;
    const value = parseJsonObject(held.view().subarray(pos, end));
    if (!value) break;
    const payloadStart = Math.min(end + 1, held.length);

    const itemIndex = index++;
    if (itemIndex === -1) {
      header = value as EnvelopeHeader;
      pos = payloadStart;
      continue;
    }
    const { type, length } = value;
    if (typeof type !== "string") break;

    if (typeof length === "number" && Number.isSafeInteger(length) && length >= 0) {
      if (options.discard?.(value as ItemHeader, length) && end < held.length) {
        await stagePayload(DISCARD, length, payloadStart, itemIndex);
        pos = payloadStart;
        if (!(await terminator())) break;
        continue;
      }
      if (STREAMED_TYPES.has(type) && length >= options.streamItemBytes && end < held.length) {
        if (!stagerAsked) {
          stagerAsked = true;
          stager = options.stager?.(header!);
        }
        if (stager) {
          await stagePayload(stager, length, payloadStart, itemIndex);
          pos = payloadStart;
          if (!(await terminator())) break;
          continue;
        }
      }
      while (held.length < payloadStart + length && (await more()));
      if (held.length < payloadStart + length) break;
      pos = payloadStart + length;
    } else if (length === undefined || length === null) {
      let newline: number;
      let from = payloadStart;
      while ((newline = held.view().indexOf(NEWLINE, from)) === -1) {
        from = held.length;
        if (!(await more())) break scan;
      }
      pos = newline;
    } else {
      break;
    }
    if (!(await terminator())) break;
  }

  // Whatever the scanner did not follow is kept for the parser to judge.
  while (await more());
  const bytes = held.view();
  return { envelope: parseEnvelope(bytes, { staged }), ...(staged.size === 0 ? { bytes } : {}) };

  /** After a payload: a newline (stepped over) or the end; false for anything else. */
  async function terminator(): Promise<boolean> {
    while (held.length <= pos && (await more()));
    if (pos >= held.length) return true;
    if (held.at(pos) !== NEWLINE) return false;
    pos++;
    return true;
  }

  /** Sends the next `length` bytes to the stager; only what follows them stays held. */
  async function stagePayload(to: Stager, length: number, at: number, itemIndex: number): Promise<void> {
    const sink = to.open(length);
    try {
      const early = held.view().slice(at, Math.min(held.length, at + length));
      const after = held.view().slice(at + early.byteLength);
      held.truncate(at);
      let remaining = length - early.byteLength;
      if (early.byteLength > 0) await sink.write(early);
      if (after.byteLength > 0) held.push(after);
      while (remaining > 0) {
        const chunk = ended ? undefined : await source.read();
        if (chunk === undefined) {
          ended = true;
          throw new EnvelopeError(`item ${itemIndex}: length ${length} exceeds the remaining ${length - remaining} bytes`);
        }
        const take = Math.min(remaining, chunk.byteLength);
        await sink.write(take === chunk.byteLength ? chunk : chunk.slice(0, take));
        if (take < chunk.byteLength) held.push(chunk.subarray(take));
        remaining -= take;
      }
      await sink.close();
    } catch (err) {
      await sink.abort(err).catch(() => undefined);
      throw err;
    }
    staged.set(at, { key: sink.key, length, ...(to === DISCARD ? { discarded: true as const } : {}) });
  }
}

/** A sink that keeps nothing. */
const DISCARD: Stager = {
  open: () => ({ key: "", write: async () => undefined, close: async () => undefined, abort: async () => undefined }),
};

function parseJsonObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  // Too deep for the parser to take: not followed, so the parser's own error is the answer.
  if (nestsDeeperThan(bytes, MAX_JSON_DEPTH)) return undefined;
  try {
    const value: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A growable byte buffer with a hard cap. */
class HeldBytes {
  private buffer = new Uint8Array(0);
  length = 0;

  constructor(
    private readonly cap: number,
    private readonly tooLarge: () => Error,
  ) {}

  push(chunk: Uint8Array): void {
    const needed = this.length + chunk.byteLength;
    if (needed > this.cap) throw this.tooLarge();
    if (needed > this.buffer.byteLength) {
      const grown = new Uint8Array(Math.min(this.cap, Math.max(needed, this.buffer.byteLength * 2, 64 * 1024)));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(chunk, this.length);
    this.length = needed;
  }

  truncate(length: number): void {
    this.length = Math.min(this.length, length);
  }

  at(index: number): number | undefined {
    return index < this.length ? this.buffer[index] : undefined;
  }

  view(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}
