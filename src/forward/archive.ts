import { itemCategory } from "../envelope/categories";
import type { Envelope } from "../envelope/types";
import { eventOf } from "../event";
import { fingerprint } from "../spike/fingerprint";
import { gunzip, gzip } from "./compress";
import { putStream } from "./r2-stream";
import type { SpoolBody } from "./spool";
import { lazyObjectStream } from "./staging";

/**
 * R2 key for an archived envelope: listable by project and hour, and the same
 * for the same event id, so a retried write overwrites instead of duplicating.
 */
export function archiveKey(projectId: string, eventId: string, at: Date): string {
  return `${projectId}/${hourPath(at)}/${eventId}.envelope`;
}

/** `yyyy/mm/dd/hh` (UTC): the hour part of archive keys, which sorts as time does. */
export function hourPath(at: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${at.getUTCFullYear()}/${pad(at.getUTCMonth() + 1)}/${pad(at.getUTCDate())}/${pad(at.getUTCHours())}`;
}

/**
 * Stored gzip-compressed; `contentEncoding` says so, and readers undo it. A
 * streamed envelope is compressed as it is read and written in parts, so a
 * large one is never held whole.
 */
export async function archiveEnvelope(
  bucket: R2Bucket,
  key: string,
  body: Uint8Array | ReadableStream<Uint8Array>,
  metadata: Record<string, string>,
): Promise<void> {
  const options = {
    httpMetadata: { contentType: "application/x-sentry-envelope", contentEncoding: "gzip" },
    customMetadata: metadata,
  };
  if (body instanceof Uint8Array) await bucket.put(key, await gzip(body), options);
  else await putStream(bucket, key, body.pipeThrough(new CompressionStream("gzip")), options);
}

/** An archived envelope's bytes, uncompressed. */
export async function readArchived(object: R2ObjectBody): Promise<Uint8Array> {
  const bytes = new Uint8Array(await object.arrayBuffer());
  return object.httpMetadata?.contentEncoding === "gzip" ? gunzip(bytes) : bytes;
}

/**
 * An archived envelope, uncompressed: a stream (re-read from R2 on each call)
 * of the length its metadata records, or its bytes when no size was recorded.
 */
export async function archivedEnvelope(bucket: R2Bucket, key: string): Promise<SpoolBody | undefined> {
  const head = await bucket.head(key);
  if (!head) return undefined;
  const size = Number(head.customMetadata?.size);
  if (!Number.isSafeInteger(size)) {
    const object = await bucket.get(key);
    return object ? readArchived(object) : undefined;
  }
  const gzipped = head.httpMetadata?.contentEncoding === "gzip";
  return {
    length: size,
    stream: () => lazyObjectStream(bucket, key, (body) => (gzipped ? body.pipeThrough(new DecompressionStream("gzip")) : body)),
  };
}

/** What a person listing the bucket wants to know without opening each object. */
export function archiveMetadata(projectId: string, envelope: Envelope, size: number): Record<string, string> {
  const categories = new Set<string>();
  let fingerprintOf: string | undefined;
  for (const item of envelope.items) {
    const category = itemCategory(item.header);
    if (category) categories.add(category);
    if (item.header.type === "event" && !fingerprintOf) {
      const event = eventOf(item);
      if (event) fingerprintOf = fingerprint(event);
    }
  }
  return {
    project: projectId,
    categories: [...categories].join(","),
    size: String(size),
    ...(fingerprintOf ? { fingerprint: fingerprintOf } : {}),
  };
}
