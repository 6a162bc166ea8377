import type { Env } from "../env";

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
}

/**
 * Puts an envelope the upstream could not take into the spool queue, to be
 * retried by the consumer. Returns false when there is nowhere to put it.
 */
export async function spoolEnvelope(env: Env, projectId: string, eventId: string | undefined, bytes: Uint8Array, reason: string, now: number): Promise<boolean> {
  if (!env.SPOOL) return false;
  const message: SpoolMessage = { projectId, ...(eventId ? { eventId } : {}), reason, spooledAt: now };
  try {
    if (bytes.byteLength <= INLINE_LIMIT) {
      message.body = bytes;
    } else {
      if (!env.ARCHIVE) return false;
      message.r2Key = `spool/${projectId}/${eventId ?? crypto.randomUUID().replace(/-/g, "")}.envelope`;
      await env.ARCHIVE.put(message.r2Key, bytes);
    }
    await env.SPOOL.send(message, { contentType: "v8" });
    return true;
  } catch (err) {
    console.error(`edge-relay: could not spool an envelope for project ${projectId}: ${(err as Error).message}`);
    return false;
  }
}

export async function spooledBytes(env: Env, message: SpoolMessage): Promise<Uint8Array | undefined> {
  if (message.body) return new Uint8Array(message.body);
  if (!message.r2Key || !env.ARCHIVE) return undefined;
  const object = await env.ARCHIVE.get(message.r2Key);
  return object ? new Uint8Array(await object.arrayBuffer()) : undefined;
}
