import { newEventId } from "../envelope/event-id";
import { itemCategory, itemQuantity } from "../envelope/categories";
import type { DataCategory, Envelope } from "../envelope/types";
import type { Env } from "../env";
import { lazyObjectStream } from "./staging";

/** Queue messages hold at most 128 KB; larger envelopes wait in R2 and the message points at them. */
export const INLINE_LIMIT = 96 * 1024;

export interface SpoolMessage {
  projectId: string;
  eventId?: string;
  /** The scrubbed envelope, uncompressed, when small enough to travel in the message. */
  body?: Uint8Array;
  /** Otherwise where it waits in the ARCHIVE bucket. */
  r2Key?: string;
  /** Why it was spooled: the first failure, for logs. */
  reason: string;
  spooledAt: number;
  /** What the envelope counts as, so a final refusal can be reported without reading it again. */
  quantities?: Array<{ category: DataCategory; quantity: number }>;
}

/** An envelope in memory, or one with staged payloads, streamed with its known length. */
export type SpoolBody = Uint8Array | { length: number; stream: () => ReadableStream<Uint8Array> };

/**
 * Puts an envelope the upstream could not take into the spool queue, to be
 * retried by the consumer. Returns false when there is nowhere to put it.
 */
export async function spoolEnvelope(
  env: Env,
  projectId: string,
  eventId: string | undefined,
  body: SpoolBody,
  reason: string,
  now: number,
  quantities?: SpoolMessage["quantities"],
): Promise<boolean> {
  if (!env.SPOOL) return false;
  const message: SpoolMessage = { projectId, ...(eventId ? { eventId } : {}), reason, spooledAt: now, ...(quantities ? { quantities } : {}) };
  try {
    const length = body instanceof Uint8Array ? body.byteLength : body.length;
    if (length <= INLINE_LIMIT) {
      message.body = body instanceof Uint8Array ? body : new Uint8Array(await new Response(body.stream()).arrayBuffer());
    } else {
      if (!env.ARCHIVE) return false;
      message.r2Key = `spool/${projectId}/${eventId ?? newEventId()}.envelope`;
      await putKnownLength(env.ARCHIVE, message.r2Key, body);
    }
    await env.SPOOL.send(message, { contentType: "v8" });
    return true;
  } catch (err) {
    console.error(`edge-relay: could not spool an envelope for project ${projectId}: ${(err as Error).message}`);
    return false;
  }
}

/** The spooled envelope: its bytes when they travelled in the message, else its R2 object, not read yet. */
export async function spooledEnvelope(env: Env, message: SpoolMessage): Promise<SpoolBody | undefined> {
  if (message.body) return new Uint8Array(message.body);
  if (!message.r2Key || !env.ARCHIVE) return undefined;
  const bucket = env.ARCHIVE;
  const key = message.r2Key;
  const head = await bucket.head(key);
  if (!head) return undefined;
  return { length: head.size, stream: () => lazyObjectStream(bucket, key) };
}

/** A put of bytes, or of a stream whose length is known: R2 takes such a stream without buffering it. */
export async function putKnownLength(bucket: R2Bucket, key: string, body: SpoolBody, options?: R2PutOptions): Promise<void> {
  if (body instanceof Uint8Array) {
    await bucket.put(key, body, options);
    return;
  }
  const { readable, writable } = new FixedLengthStream(body.length);
  await Promise.all([bucket.put(key, readable, options), body.stream().pipeTo(writable)]);
}

/** One entry per counted item, by its primary category: what `invalid` outcomes would name. */
export function spoolQuantities(envelope: Envelope): NonNullable<SpoolMessage["quantities"]> {
  return envelope.items.flatMap((item) => {
    const category = itemCategory(item.header);
    return category ? [{ category, quantity: itemQuantity(item) }] : [];
  });
}
