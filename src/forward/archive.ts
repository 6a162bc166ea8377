import { itemCategory } from "../envelope/categories";
import { cachedItemJson } from "../envelope/envelope";
import type { Envelope } from "../envelope/types";
import { fingerprint } from "../spike/fingerprint";
import { gunzip, gzip } from "./compress";

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

/** Stored gzip-compressed; `contentEncoding` says so, and readers undo it. */
export async function archiveEnvelope(
  bucket: R2Bucket,
  key: string,
  bytes: Uint8Array,
  metadata: Record<string, string>,
): Promise<void> {
  await bucket.put(key, await gzip(bytes), {
    httpMetadata: { contentType: "application/x-sentry-envelope", contentEncoding: "gzip" },
    customMetadata: metadata,
  });
}

/** An archived envelope's bytes, uncompressed. */
export async function readArchived(object: R2ObjectBody): Promise<Uint8Array> {
  const bytes = new Uint8Array(await object.arrayBuffer());
  return object.httpMetadata?.contentEncoding === "gzip" ? gunzip(bytes) : bytes;
}

/** What a person listing the bucket wants to know without opening each object. */
export function archiveMetadata(projectId: string, envelope: Envelope, bytes: Uint8Array): Record<string, string> {
  const categories = new Set<string>();
  let fingerprintOf: string | undefined;
  for (const item of envelope.items) {
    const category = itemCategory(item.header);
    if (category) categories.add(category);
    if (item.header.type === "event" && !fingerprintOf) {
      const event = cachedItemJson(item);
      if (event && typeof event === "object") fingerprintOf = fingerprint(event as Record<string, unknown>);
    }
  }
  return {
    project: projectId,
    categories: [...categories].join(","),
    size: String(bytes.byteLength),
    ...(fingerprintOf ? { fingerprint: fingerprintOf } : {}),
  };
}
