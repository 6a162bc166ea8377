import { passesLuhn } from "./luhn";

/** What becomes of a match: Relay's four redaction methods. */
export type Method =
  | { kind: "replace"; text: string }
  | { kind: "mask" }
  | { kind: "remove" }
  | { kind: "hash" };

/** A rule over string contents: each match (or the listed groups of it) is redacted. */
export interface PatternRule {
  kind: "pattern";
  id: string;
  regex: RegExp;
  /** Capture groups to redact; the whole match when absent. */
  groups?: number[];
  /** A further check on the match, e.g. the Luhn sum for card numbers. */
  accept?: (match: string) => boolean;
  /** Cheap test that must pass before the regex runs at all. */
  hint?: (text: string) => boolean;
  method: Method;
}

/** A rule on keys: a value whose key matches is redacted whole. */
export interface KeyRule {
  kind: "key";
  id: string;
  key: RegExp;
  method: Method;
}

/** Redacts whatever the selector points at. */
export interface AnythingRule {
  kind: "anything";
  id: string;
  method: Method;
}

export type Rule = PatternRule | KeyRule | AnythingRule;

type RuleType = Omit<PatternRule, "id" | "method"> | Omit<KeyRule, "id" | "method"> | Omit<AnythingRule, "id" | "method">;

const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4 = `${OCTET}(?:\\.${OCTET}){3}`;
const H = "[0-9a-fA-F]{1,4}";
const IPV6 = [
  `(?:${H}:){7}${H}`,
  `(?:${H}:){1,7}:`,
  `(?:${H}:){1,6}:${H}`,
  `(?:${H}:){1,5}(?::${H}){1,2}`,
  `(?:${H}:){1,4}(?::${H}){1,3}`,
  `(?:${H}:){1,3}(?::${H}){1,4}`,
  `(?:${H}:){1,2}(?::${H}){1,5}`,
  `${H}:(?::${H}){1,6}`,
  `:(?::${H}){1,7}`,
  `::`,
  `fe80:(?::${H}){0,4}%[0-9a-zA-Z]+`,
  `::(?:ffff(?::0{1,4})?:)?${IPV4}`,
  `(?:${H}:){1,4}:${IPV4}`,
].join("|");

/** The sensitive-key pattern of Sentry's default scrubber, plus session and CSRF cookie names. */
export const SENSITIVE_KEY_SOURCE =
  "password|secret|passwd|api[-_]?key|auth|credentials|mysql_pwd|private[-_]?key|token|bearer|session[-_]?id|sessid|csrf|xsrf|otp|two[-_]factor";

/** One linear scan that tells whether a string mentions a sensitive word at all. */
export const SENSITIVE_WORD = new RegExp(SENSITIVE_KEY_SOURCE, "i");

/**
 * The built-in rule types, named as Relay names them. Patterns are our own;
 * they are written so that look-alikes survive: dotted version numbers are not
 * IPs, digit runs that fail Luhn are not cards.
 */
const TYPES: Record<string, RuleType> = {
  ip: {
    kind: "pattern",
    // Not inside a longer dotted or alphanumeric run: 1.2.3.4.5 and v10.0.0.1 are versions.
    regex: new RegExp(`(?<![\\w.:])(?:${IPV4}|(?:${IPV6}))(?![\\w.:]|-\\d)`, "g"),
    // A dotted quad or two colons, before the costly pattern runs.
    hint: (s) => /\d\.\d|:[0-9a-fA-F]*:/.test(s),
  },
  email: {
    kind: "pattern",
    // Starts at a letter or digit, so quotes around an address stay outside the match.
    regex: /\b[a-zA-Z0-9][a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]*@[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*\.[a-zA-Z]{2,}\b/g,
    hint: (s) => s.includes("@"),
  },
  creditcard: {
    kind: "pattern",
    // 13–19 digits, single spaces or dashes between groups allowed.
    regex: /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g,
    accept: (match) => passesLuhn(match.replace(/[ -]/g, "")),
    hint: (s) => /\d{4}/.test(s),
  },
  iban: {
    kind: "pattern",
    regex: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g,
    accept: (match) => validIban(match.replace(/ /g, "")),
    hint: (s) => /[A-Z]{2}\d{2}/.test(s),
  },
  usssn: { kind: "pattern", regex: /\b\d{3}-\d{2}-\d{4}\b/g, hint: (s) => s.includes("-") },
  mac: { kind: "pattern", regex: /\b[0-9a-fA-F]{2}(?:([:-])[0-9a-fA-F]{2})(?:\1[0-9a-fA-F]{2}){4}\b/g, hint: (s) => s.includes(":") || s.includes("-") },
  imei: {
    kind: "pattern",
    regex: /\b\d{2}-?\d{6}-?\d{6}-?\d\b/g,
    accept: (match) => passesLuhn(match.replace(/-/g, "")),
    hint: (s) => /\d{6}/.test(s),
  },
  uuid: {
    kind: "pattern",
    regex: /\b[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\b/g,
    hint: (s) => s.length >= 32,
  },
  pemkey: {
    kind: "pattern",
    regex: /-----BEGIN[A-Z ]* PRIVATE KEY-----[\t ]*\r?\n?([\s\S]+?)\r?\n?-----END[A-Z ]* PRIVATE KEY-----/g,
    groups: [1],
    hint: (s) => s.includes("-----BEGIN"),
  },
  urlauth: {
    kind: "pattern",
    regex: /\b(?:[a-z0-9+.-]+:)?\/\/([a-zA-Z0-9%_.~-]+(?::[^@\s/]*)?)@/g,
    groups: [1],
    hint: (s) => s.includes("//") && s.includes("@"),
  },
  urlpassword: {
    kind: "pattern",
    regex: /\b(?:[a-z0-9+.-]+:)?\/\/[a-zA-Z0-9%_.~-]+:([^@\s/]+)@/g,
    groups: [1],
    hint: (s) => s.includes("//") && s.includes("@"),
  },
  userpath: {
    kind: "pattern",
    regex: /(?:\b[a-zA-Z]:[\\/]+(?:users|documents and settings)[\\/]+|\/(?:home|users)\/)([^/\\\r\n]+)/gi,
    groups: [1],
    hint: (s) => /home|users|documents/i.test(s),
  },
  bearer: { kind: "pattern", regex: /\b(?:Bearer)\s+([^\s"',;]+)/gi, groups: [1], hint: (s) => /bearer/i.test(s) },
  // A secret assigned in a source line or log text: `password = "hunter2"`, `token: abc`.
  // The value may not start with `[`, so an earlier redaction is not redacted again.
  passwordassign: {
    kind: "pattern",
    regex: new RegExp(`\\b(?:\\w*(?:${SENSITIVE_KEY_SOURCE})\\w*)["']?\\s*[:=]\\s*["']?([^\\s"',;)}\\][][^\\s"',;)}\\]]*)`, "gi"),
    groups: [1],
    hint: (s) => (s.includes("=") || s.includes(":")) && SENSITIVE_WORD.test(s),
  },
  password: { kind: "key", key: new RegExp(SENSITIVE_KEY_SOURCE, "i") },
  anything: { kind: "anything" },
};

/** Each rule's default method, and its `replace` text, as in Relay. */
const DEFAULTS: Record<string, { method: Method["kind"]; text: string }> = {
  ip: { method: "replace", text: "[ip]" },
  email: { method: "replace", text: "[email]" },
  creditcard: { method: "replace", text: "[creditcard]" },
  iban: { method: "replace", text: "[iban]" },
  usssn: { method: "mask", text: "[us-ssn]" },
  mac: { method: "mask", text: "[mac]" },
  imei: { method: "replace", text: "[imei]" },
  uuid: { method: "mask", text: "[uuid]" },
  pemkey: { method: "replace", text: "[pemkey]" },
  urlauth: { method: "replace", text: "[auth]" },
  urlpassword: { method: "replace", text: "[Filtered]" },
  userpath: { method: "replace", text: "[user]" },
  bearer: { method: "replace", text: "[token]" },
  passwordassign: { method: "replace", text: "[Filtered]" },
  password: { method: "remove", text: "[password]" },
  anything: { method: "replace", text: "[redacted]" },
};

export const BUILTIN_NAMES = Object.keys(TYPES);
const METHODS = ["replace", "mask", "remove", "hash", "filter"] as const;

/**
 * `@email`, `@email:hash`, `@creditcard:filter` ... → a rule. `filter` is
 * replace with `[Filtered]`, as Relay's legacy-scrubber variants. Undefined
 * for names that are not built in.
 */
export function builtinRule(name: string): Rule | undefined {
  const match = /^@([a-z]+)(?::([a-z]+))?$/.exec(name);
  if (!match) return undefined;
  const [, type, methodName] = match as unknown as [string, string, string | undefined];
  const spec = TYPES[type];
  const defaults = DEFAULTS[type];
  if (!spec || !defaults) return undefined;
  if (methodName !== undefined && !(METHODS as readonly string[]).includes(methodName)) return undefined;
  const chosen = methodName ?? defaults.method;
  const method: Method = chosen === "filter"
    ? { kind: "replace", text: "[Filtered]" }
    : chosen === "replace"
      ? { kind: "replace", text: defaults.text }
      : { kind: chosen as "mask" | "remove" | "hash" };
  return { ...spec, id: name, method } as Rule;
}

/** ISO 13616 mod-97 check, so random capitalised codes are not taken for accounts. */
function validIban(iban: string): boolean {
  if (iban.length < 15 || iban.length > 34) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const value = code >= 65 ? String(code - 55) : ch;
    for (const digit of value) remainder = (remainder * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return remainder === 1;
}
