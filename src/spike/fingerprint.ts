import { createHash } from "node:crypto";
import { readEvent, type Event, type Stacktrace } from "../event";
import { ALNUM_CHARS, charSet, type Spans } from "../scrub/scan/chars";
import { findEmails, type EmailShape } from "../scrub/scan/email";

/**
 * A stable fingerprint for an error event, so the same bug counts as one
 * however its details vary:
 *
 * 1. An SDK-sent `fingerprint` array wins; `{{ default }}` in it stands for
 *    the default components below.
 * 2. With an exception: the root cause of the chain (`exception.values[0]`,
 *    Sentry orders oldest first), its type, and its frames as module (or file
 *    name without query, hash or version noise) + function, no line numbers;
 *    only the in-app frames when the SDK marked any. Without frames, the
 *    normalized exception value stands in.
 * 3. Without an exception: the normalized log message (the template when the
 *    SDK sent one).
 *
 * Normalizing replaces UUIDs, emails, hex ids, timestamps, numbers and quoted
 * values with placeholders, so "user 42 not found" and "user 7 not found"
 * agree. The components are hashed (MD5, as Sentry's grouping hashes them).
 *
 * Takes the event's read model (parsed JSON is read through one), so every
 * shape Sentry accepts groups the same: a bare exception list, legacy
 * interface names, threads as a list.
 */
export function fingerprint(event: Event | object): string {
  return createHash("md5").update(fingerprintComponents(event).join("\n")).digest("hex");
}

export function fingerprintComponents(input: Event | object): string[] {
  const event = readEvent(input);
  const defaults = defaultComponents(event);
  const custom = event.fingerprint;
  if (custom !== undefined) {
    return custom.flatMap((part) => (/^\{\{\s*default\s*\}\}$/.test(part) ? defaults : [`custom:${part}`]));
  }
  return defaults;
}

function defaultComponents(event: Event): string[] {
  const root = event.exceptions.find((e) => e.type || e.value || e.stacktrace);
  if (root) {
    const frames = framesOf(root.stacktrace ?? event.stacktrace ?? event.threads.find((t) => t.crashed)?.stacktrace);
    const parts = [`type:${root.type ?? root.mechanism?.type ?? "Error"}`];
    if (frames.length > 0) parts.push(...frames.map((f) => `frame:${f}`));
    else parts.push(`value:${normalizeMessage(root.value ?? "")}`);
    return parts;
  }
  const message = event.logentry?.message ?? event.logentry?.formatted;
  if (message !== undefined && message !== "") return [`message:${normalizeMessage(message)}`];
  // Nothing to group by: the transaction or culprit, else one bucket for the project.
  return [`other:${event.transaction ?? event.culprit ?? ""}`];
}

function framesOf(stacktrace: Stacktrace | undefined): string[] {
  const frames = stacktrace?.frames ?? [];
  const inApp = frames.filter((f) => f.in_app === true);
  const chosen = inApp.length > 0 ? inApp : frames.filter((f) => f.in_app !== false);
  return chosen.map((f) => `${f.module ?? normalizeFile(f.filename ?? f.abs_path ?? "")}|${f.function ?? "?"}`);
}

/** `https://cdn.example.com/assets/app.3fa2b1c9.js?v=2` → `assets/app.<hash>.js`. */
export function normalizeFile(file: string): string {
  // The query or fragment goes first (cut at the first `?` or `#`, no regex scanning to the end from each).
  const cut = firstOf(file, "?", "#");
  return (cut < 0 ? file : file.slice(0, cut))
    .replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, "")
    .replace(/^\/+/, "")
    .replace(/(?<=[.\-_])[0-9a-f]{6,}(?=[.\-_])/gi, "<hash>");
}

function firstOf(text: string, a: string, b: string): number {
  const i = text.indexOf(a);
  const j = text.indexOf(b);
  return i < 0 ? j : j < 0 ? i : Math.min(i, j);
}

/** An address as the normalizer sees it: any run of `[a-zA-Z0-9._%+-]`, `@`, two or more labels. */
const EMAIL: EmailShape = { local: charSet(`${ALNUM_CHARS}._%+-`), wordStart: false, letterTld: false };

type Rule = (text: string) => string;
const to = (placeholder: string) => () => placeholder;
const replace = (pattern: RegExp, by: (match: string) => string): Rule => (text) => text.replace(pattern, by);

/**
 * In order; each linear in the message (the ReDoS test checks the regexes,
 * and the address rule is a one-pass scanner shared with the scrubber).
 */
const MESSAGE_RULES: Rule[] = [
  replace(/"[^"]*"|'[^']*'|`[^`]*`/g, to("<quoted>")),
  replace(/\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b/gi, to("<uuid>")),
  (text) => replaceSpans(text, findEmails(text, EMAIL), "<email>"),
  replace(/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?/g, to("<timestamp>")),
  replace(/\b\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\b/g, to("<time>")),
  // Hex ids: six or more hex digits mixing letters and digits (so words like "facade" stay).
  replace(/\b(?:0x)?[0-9a-f]{6,}\b/gi, (m) => (/[a-f]/i.test(m) && /\d/.test(m) ? "<hex>" : m)),
  replace(/\b\d+(?:\.\d+)?\b/g, to("<num>")),
];

/** Placeholders for the parts of a message that vary between occurrences of one bug. */
export function normalizeMessage(message: string): string {
  let out = message;
  for (const rule of MESSAGE_RULES) out = rule(out);
  return out.replace(/\s+/g, " ").trim();
}

function replaceSpans(text: string, spans: Spans | undefined, placeholder: string): string {
  if (spans === undefined) return text;
  let out = "";
  let at = 0;
  for (let i = 0; i < spans.length; i += 2) {
    out += text.slice(at, spans[i]) + placeholder;
    at = spans[i + 1]!;
  }
  return out + text.slice(at);
}
