import { createHmac } from "node:crypto";
import type { Method } from "./builtins";

/** Keyed and stable: the same input and key always give the same token, and no key, no reversal. */
export function hashText(text: string, key: string): string {
  return createHmac("sha1", key).update(text).digest("hex").toUpperCase();
}

/** What a matched part of a string becomes. */
export function redactText(text: string, method: Method, hashKey: string): string {
  switch (method.kind) {
    case "replace":
      return method.text;
    case "mask":
      return "*".repeat(text.length);
    case "remove":
      return "";
    case "hash":
      return hashText(text, hashKey);
  }
}

/** What a whole value becomes; `remove` leaves null, as Relay leaves an emptied field. */
export function redactValue(value: unknown, method: Method, hashKey: string): unknown {
  if (method.kind === "remove") return null;
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return redactText(text, method, hashKey);
}
