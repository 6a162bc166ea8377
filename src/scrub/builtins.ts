import {
  CAN_ASSIGN, CAN_BEARER, CAN_CREDITCARD, CAN_EMAIL, CAN_IBAN, CAN_IMEI, CAN_IP, CAN_MAC, CAN_PEMKEY, CAN_URL_CREDENTIALS,
  CAN_USERPATH, CAN_USSSN, CAN_UUID, type Features,
} from "./features";
import { regexFinder, type Finder } from "./find";
import { passesLuhn } from "./luhn";
import { findAssignedSecrets } from "./scan/assign";
import { ALNUM_CHARS, charSet } from "./scan/chars";
import { findEmails, type EmailShape } from "./scan/email";
import { findIps } from "./scan/ip";
import { findPemKeys } from "./scan/pem";
import { findUrlCredentials } from "./scan/url-auth";

/** What becomes of a match: Relay's four redaction methods. */
export type Method =
  | { kind: "replace"; text: string }
  | { kind: "mask" }
  | { kind: "remove" }
  | { kind: "hash" };

/** A rule over string contents: each span its finder reports is redacted. */
export interface PatternRule {
  kind: "pattern";
  id: string;
  /** The spans to redact, found in time linear in the text. */
  find: Finder;
  /**
   * A `CAN_*` bit of the string's features (./features): when it is clear,
   * the rule is skipped without calling its hint or its finder.
   */
  gate?: number;
  /**
   * Cheap test that must pass before the finder runs at all; never false
   * when the finder would find something. `features` are read once per
   * string for all the rules (./features).
   */
  hint?: (text: string, features: Features) => boolean;
  method: Method;
}

/** Anything with a `test`: a RegExp, or a linear-time RE2 pattern for the operator's own key patterns. */
export interface TextTest {
  test(text: string): boolean;
}

/** A rule on keys: a value whose key matches is redacted whole. */
export interface KeyRule {
  kind: "key";
  id: string;
  key: TextTest;
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

/** The sensitive-key pattern of Sentry's default scrubber, plus session and CSRF cookie names. */
export const SENSITIVE_KEY_SOURCE =
  "password|secret|passwd|api[-_]?key|auth|credentials|mysql_pwd|private[-_]?key|token|bearer|session[-_]?id|sessid|csrf|xsrf|otp|two[-_]factor";

/**
 * One linear scan that tells whether a string mentions a sensitive word at
 * all: the words of SENSITIVE_KEY_SOURCE, grouped by their first letters so
 * the regex engine tries fewer alternatives per position (a quarter less CPU
 * on source lines). Same language; a unit test holds the two to it.
 */
export const SENSITIVE_WORD = /pass(?:word|wd)|private[-_]?key|se(?:cret|ssion[-_]?id|ssid)|a(?:pi[-_]?key|uth)|c(?:redentials|srf)|mysql_pwd|t(?:oken|wo[-_]factor)|bearer|xsrf|otp/i;

/** An address's local part, as the HTML spec's e-mail grammar allows it. */
const EMAIL: EmailShape = { local: charSet(`${ALNUM_CHARS}.!#$%&'*+/=?^_\`{|}~-`), wordStart: true, letterTld: true };

/**
 * The built-in rule types, named as Relay names them. Patterns are our own;
 * they are written so that look-alikes survive: dotted version numbers are not
 * IPs, digit runs that fail Luhn are not cards. Each runs in time linear in
 * the text: simple bounded regexes where a regex is linear (the ReDoS test
 * checks them), hand-written one-pass scanners (./scan) where it would not be.
 */
const TYPES: Record<string, RuleType> = {
  ip: {
    kind: "pattern",
    find: findIps,
    gate: CAN_IP,
  },
  email: {
    kind: "pattern",
    find: (s) => findEmails(s, EMAIL),
    gate: CAN_EMAIL,
  },
  creditcard: {
    kind: "pattern",
    // 13–19 digits, single spaces or dashes between groups allowed.
    find: regexFinder(/(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g, undefined, (match) => passesLuhn(match.replace(/[ -]/g, ""))),
    gate: CAN_CREDITCARD,
  },
  iban: {
    kind: "pattern",
    find: regexFinder(/\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g, undefined, (match) => validIban(match.replace(/ /g, ""))),
    gate: CAN_IBAN,
  },
  usssn: { kind: "pattern", find: regexFinder(/\b\d{3}-\d{2}-\d{4}\b/g), gate: CAN_USSSN },
  mac: {
    kind: "pattern",
    // Six pairs, all joined by colons or all by dashes.
    find: regexFinder(/\b[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}\b|\b[0-9a-fA-F]{2}(?:-[0-9a-fA-F]{2}){5}\b/g),
    gate: CAN_MAC,
  },
  imei: {
    kind: "pattern",
    find: regexFinder(/\b\d{2}-?\d{6}-?\d{6}-?\d\b/g, undefined, (match) => passesLuhn(match.replace(/-/g, ""))),
    gate: CAN_IMEI,
  },
  uuid: {
    kind: "pattern",
    find: regexFinder(/\b[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\b/g),
    gate: CAN_UUID,
  },
  pemkey: { kind: "pattern", find: findPemKeys, gate: CAN_PEMKEY, hint: (s) => s.includes("-----BEGIN") },
  urlauth: {
    kind: "pattern",
    find: (s) => findUrlCredentials(s, "userinfo"),
    gate: CAN_URL_CREDENTIALS,
  },
  urlpassword: {
    kind: "pattern",
    find: (s) => findUrlCredentials(s, "password"),
    gate: CAN_URL_CREDENTIALS,
  },
  userpath: {
    kind: "pattern",
    find: regexFinder(/(?:\b[a-zA-Z]:[\\/]+(?:users|documents and settings)[\\/]+|\/(?:home|users)\/)([^/\\\r\n]+)/dgi, [1]),
    gate: CAN_USERPATH,
    hint: (s) => /home|users|documents/i.test(s),
  },
  bearer: { kind: "pattern", find: regexFinder(/\bBearer\s+([^\s"',;]+)/dgi, [1]), gate: CAN_BEARER },
  // A secret assigned in a source line or log text: `password = "hunter2"`, `token: abc`.
  passwordassign: {
    kind: "pattern",
    find: (s) => findAssignedSecrets(s, (name) => SENSITIVE_WORD.test(name)),
    gate: CAN_ASSIGN,
    hint: (s) => SENSITIVE_WORD.test(s),
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
