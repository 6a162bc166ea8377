/**
 * An event id in Sentry's canonical form, 32 lowercase hex characters (SDKs
 * may send it hyphenated or in capitals); undefined for anything else, which
 * is then never trusted into a storage key or an answer.
 */
export function normalizeEventId(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const hex = value.replace(/-/g, "").toLowerCase();
  return /^[0-9a-f]{32}$/.test(hex) ? hex : undefined;
}

/** A fresh id in the same form: for events the relay builds and keys for envelopes without one. */
export function newEventId(): string {
  return crypto.randomUUID().replace(/-/g, "");
}
