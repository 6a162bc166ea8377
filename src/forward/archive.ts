/**
 * R2 key for an archived envelope: listable by project and hour, and the same
 * for the same event id, so a retried write overwrites instead of duplicating.
 */
export function archiveKey(projectId: string, eventId: string, at: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const hour = `${at.getUTCFullYear()}/${pad(at.getUTCMonth() + 1)}/${pad(at.getUTCDate())}/${pad(at.getUTCHours())}`;
  return `${projectId}/${hour}/${eventId}.envelope`;
}

export async function archiveEnvelope(
  bucket: R2Bucket,
  key: string,
  bytes: Uint8Array,
  metadata: Record<string, string>,
): Promise<void> {
  await bucket.put(key, bytes, {
    httpMetadata: { contentType: "application/x-sentry-envelope" },
    customMetadata: metadata,
  });
}
