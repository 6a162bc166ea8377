/**
 * Reading one JSON value as one protocol type, the way Relay's `FromValue`
 * does: the right type or absent, never a thrown error. Nothing inherited is
 * ever read: fields are read only from objects (never from lists, so
 * `"values"` of a list is not `Array.prototype.values`), and only under names
 * `Object.prototype` does not have (checked by the type of `field`).
 */

export type JsonObject = { readonly [key: string]: unknown };

const hasOwn = Object.prototype.hasOwnProperty;

/** Names a plain object inherits; `field` refuses them at compile time. */
type Inherited = keyof typeof Object.prototype | "__proto__" | "__defineGetter__" | "__defineSetter__" | "__lookupGetter__" | "__lookupSetter__";
type OwnName<K extends string> = K extends Inherited ? never : K;

/** A JSON object (not an array, not null). */
export function objectOf(value: unknown): JsonObject | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

/**
 * A field of a JSON object; undefined when absent or JSON null. Parsed JSON
 * objects inherit only `Object.prototype`'s members, so a name that is not
 * one of them can only be an own property: no per-read ownership check, which
 * cost more than the rest of building a stack trace.
 */
export function field<K extends string>(object: JsonObject | undefined, key: OwnName<K>): unknown {
  if (object === undefined) return undefined;
  const value = object[key];
  return value === null ? undefined : value;
}

/**
 * A field under its name, else under its legacy aliases in order (Relay's
 * `legacy_alias`): `exception`, then `sentry.interfaces.Exception`.
 */
export function aliased<K extends string, A extends string>(object: JsonObject | undefined, key: OwnName<K>, aliases: readonly OwnName<A>[]): unknown {
  const value = field(object, key);
  if (value !== undefined) return value;
  for (const alias of aliases) {
    const legacy = field<A>(object, alias);
    if (legacy !== undefined) return legacy;
  }
  return undefined;
}

export function stringOf(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function booleanOf(value: unknown): boolean | undefined {
  return typeof value === "boolean" ? value : undefined;
}

export function integerOf(value: unknown): number | undefined {
  return typeof value === "number" && Number.isSafeInteger(value) ? value : undefined;
}

/**
 * Relay's `LenientString` (Python's `str(x)`): strings as they are, booleans
 * as `True`/`False`, integers and floats within JSON precision truncated to
 * digits; anything else absent.
 */
export function lenientString(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "number" && Number.isFinite(value) && Math.abs(value) < 2 ** 53) return String(Math.trunc(value));
  return undefined;
}

/**
 * Relay's `JsonLenientString`: a string as it is, any other JSON value as its
 * JSON text (the payload passed the depth cap, so this stays bounded).
 */
export function jsonLenientString(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** A JSON array, or nothing to iterate. */
export function listOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/**
 * Relay's `Values<T>`: a bare list, `{"values": [...]}` (`values: null` is
 * none), or one object standing for a list of one; `{}` and other types are
 * none.
 */
export function valuesOf(value: unknown): readonly unknown[] {
  if (Array.isArray(value)) return value;
  const object = objectOf(value);
  if (object === undefined) return [];
  if (hasOwn.call(object, "values")) return listOf(object.values);
  for (const _ in object) return [object];
  return [];
}

/** Each element read by `read`, the ones that read as absent left out. */
export function mapPresent<T>(list: readonly unknown[], read: (value: unknown) => T | undefined): T[] {
  const out: T[] = [];
  for (const value of list) {
    const read1 = read(value);
    if (read1 !== undefined) out.push(read1);
  }
  return out;
}

/**
 * Relay's `PairList`: an object's entries, or a list of `[name, value]`
 * pairs; names are read by `readName`, values by `readValue`, and a pair
 * either reads as absent is left out.
 */
export function pairsOf(
  value: unknown,
  readName: (name: unknown) => string | undefined,
  readValue: (value: unknown) => string | undefined,
): Array<readonly [string, string]> {
  const out: Array<readonly [string, string]> = [];
  if (Array.isArray(value)) {
    for (const pair of value) {
      if (!Array.isArray(pair) || pair.length !== 2) continue;
      const name = readName(pair[0]);
      const text = readValue(pair[1]);
      if (name !== undefined && text !== undefined) out.push([name, text]);
    }
    return out;
  }
  const object = objectOf(value);
  if (object === undefined) return out;
  for (const key of Object.keys(object)) {
    const name = readName(key);
    const text = readValue(object[key]);
    if (name !== undefined && text !== undefined) out.push([name, text]);
  }
  return out;
}
