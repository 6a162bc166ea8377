import { cachedItemJson, setItemJson } from "../envelope/envelope";
import { itemCategory, itemQuantity } from "../envelope/categories";
import type { Envelope, EnvelopeItem } from "../envelope/types";
import { parsedAsJson } from "../ingest/caps";
import type { Outcome } from "../outcomes";
import type { Scrubber } from "./compile";
import { scrubJson } from "./walk";

/**
 * JSON item types left unscrubbed, each because it carries no personal data.
 * Every other item whose payload is JSON is scrubbed, known type or not.
 */
export const NOT_SCRUBBED: Readonly<Record<string, string>> = {
  client_report: "only the SDK's own counts of what it dropped: category, reason and quantity, no event content",
};

/**
 * Opaque payloads (binary or text lines, never parsed), and what happens to
 * them. `policy`: the project's `scrub.attachments` decides (pass or drop),
 * as for any attachment a user may have filled; `pass`: forwarded as they are.
 * An unknown type whose payload is not a JSON object or array is treated as
 * an attachment too: Relay forwards unknown types untouched, and a project
 * that drops attachments drops these as well.
 */
const OPAQUE: Readonly<Record<string, "policy" | "pass">> = {
  attachment: "policy",
  unreal_report: "policy", // a crash archive: an attachment in all but name
  form_data: "policy", // form fields of a crash upload, as sent
  replay_recording: "pass", // rrweb data, masked by the replay SDK before it leaves the browser
  replay_video: "pass", // screen recordings, masked by the mobile replay SDK
  statsd: "pass", // metric lines: names, values and tags chosen in code
};

/**
 * The root each JSON type is read as, for selectors: event-like items are
 * `$event`, logs and spans hold `$log`/`$span` items, and everything else is
 * matched by paths and the generic rules only (`unknown`).
 */
const ROOTS: Readonly<Record<string, string>> = {
  event: "event",
  transaction: "event",
  feedback: "event",
  replay_event: "event",
  security: "event", // a security report already turned into an event
  user_report: "user_report",
  log: "log",
  otel_log: "log",
  span: "span",
  otel_span: "span",
  session: "session",
  sessions: "session",
  check_in: "check_in",
};

/**
 * Where each item type holds the address a user typed so the team can answer
 * (Sentry's feedback form and the legacy user report). With `feedbackEmail:
 * "keep"` the default e-mail rule leaves it; every other rule still applies.
 */
const TYPED_EMAIL: Readonly<Record<string, readonly string[]>> = {
  feedback: ["contexts", "feedback", "contact_email"],
  user_report: ["email"],
};

export interface Scrubbed {
  envelope: Envelope;
  outcomes: Outcome[];
}

/**
 * Stage 5: every JSON item that can hold personal data is scrubbed before it
 * is forwarded or archived. Items with nothing to scrub keep their bytes.
 */
export function scrubEnvelope(envelope: Envelope, scrubber: Scrubber): Scrubbed {
  if (!scrubber.active) return { envelope, outcomes: [] };
  const outcomes: Outcome[] = [];
  let changed = false;
  const items: EnvelopeItem[] = [];
  for (const item of envelope.items) {
    const result = scrubItem(item, scrubber);
    if ("drop" in result) {
      changed = true;
      const category = itemCategory(item.header);
      if (category) outcomes.push({ category, quantity: itemQuantity(item), ...result.drop });
      continue;
    }
    if (result !== item) changed = true;
    items.push(result);
  }
  return { envelope: changed ? { ...envelope, items } : envelope, outcomes };
}

type Dropped = { drop: Pick<Outcome, "reason" | "detail"> };

function scrubItem(item: EnvelopeItem, scrubber: Scrubber): EnvelopeItem | Dropped {
  const type = item.header.type;
  if (Object.hasOwn(NOT_SCRUBBED, type)) return item;
  if (!parsedAsJson(item)) {
    const opaque = Object.hasOwn(OPAQUE, type) ? OPAQUE[type] : "policy";
    return opaque === "policy" && scrubber.attachments === "drop" ? { drop: { reason: "filtered", detail: "attachment_scrubbing" } } : item;
  }
  const json = cachedItemJson(item);
  // What cannot be read cannot be scrubbed, so it does not leave the edge.
  if (json === undefined) return { drop: { reason: "invalid", detail: "invalid_json" } };
  const root = Object.hasOwn(ROOTS, type) ? ROOTS[type]! : "unknown";
  let scrubbed = scrubJson(json, scrubber, root);
  if (scrubber.typedEmail && Object.hasOwn(TYPED_EMAIL, type)) scrubbed = keepTypedEmail(json, scrubbed, TYPED_EMAIL[type]!, scrubber.typedEmail, root);
  return scrubbed === json ? item : setItemJson(item, scrubbed);
}

/**
 * Puts back at `path` what `typedEmail` makes of the original value, when the
 * full scrub changed it. The value is scrubbed on its own, in a document
 * holding only its path: selectors match by path, so every rule that reaches
 * it in the item reaches it there too. Returns `original` itself when that
 * undoes the only change, so the item keeps its bytes.
 */
function keepTypedEmail(original: unknown, scrubbed: unknown, path: readonly string[], typedEmail: Scrubber, root: string): unknown {
  const value = valueAt(original, path);
  if (typeof value !== "string") return scrubbed;
  const now = valueAt(scrubbed, path);
  if (now === value) return scrubbed;
  const kept = valueAt(scrubJson(nested(path, value), typedEmail, root), path);
  if (kept === now) return scrubbed;
  return kept === value && sameBesides(original, scrubbed, path) ? original : withValueAt(scrubbed, path, kept);
}

/** The own property at `path`, through objects only. */
function valueAt(node: unknown, path: readonly string[]): unknown {
  for (const key of path) {
    if (!isObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

function nested(path: readonly string[], value: unknown): unknown {
  return path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value);
}

/** A copy of `node` with `value` at `path`, sharing everything off the path (the path exists: it was read). */
function withValueAt(node: unknown, path: readonly string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const object = node as Record<string, unknown>;
  const [key, ...rest] = path as [string, ...string[]];
  return { ...object, [key]: withValueAt(object[key], rest, value) };
}

/** True when the scrub changed nothing off `path`: the walk shares every subtree it left alone. */
function sameBesides(original: unknown, scrubbed: unknown, path: readonly string[]): boolean {
  let a = original;
  let b = scrubbed;
  for (const key of path) {
    if (a === b) return true;
    if (!isObject(a) || !isObject(b)) return false;
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    for (const other of keys) if (other !== key && a[other] !== b[other]) return false;
    a = a[key];
    b = b[key];
  }
  return true;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
