import type { ScrubConfig } from "../config/schema";
import { builtinRule, type TextTest, SENSITIVE_KEY_SOURCE, type Method, type PatternRule, type Rule } from "./builtins";
import { findSensitivePairs } from "./scan/pairs";
import { compileSelector, parseSelector, type SelectorMatcher } from "./selector";
import { userKeyTest, userPatternFinder } from "./user-pattern";

export interface Application {
  matches: SelectorMatcher;
  rules: Rule[];
}

/** A project's scrubbing, compiled once per configuration. */
export interface Scrubber {
  /** Applied to every value outside the structural fields (ids, versions, SDK metadata). */
  defaults: Rule[];
  /** Rules for the values their selector points at (and everything below them). */
  applications: Application[];
  /** Keys whose values the defaults leave alone. */
  safeKeys: ReadonlySet<string>;
  hashKey: string;
  attachments: "pass" | "drop";
  /** False when the config asks for nothing: items are then passed without being parsed. */
  active: boolean;
  /**
   * With `feedbackEmail: "keep"`, what scrubs the address a user typed to be
   * answered at: this scrubber without the default e-mail rule (explicit
   * rules still apply). Undefined when it would scrub the same.
   */
  typedEmail?: Scrubber;
}

const FILTERED: Method = { kind: "replace", text: "[Filtered]" };

/** Values the IP option removes outright, after Relay's known IP fields (plus session attributes). */
const KNOWN_IP_FIELDS = "user.ip_address || request.env.remote_addr || sdk.client_ip || attrs.ip_address";
/** Credential headers whose names the sensitive-key pattern does not already catch. */
const CREDENTIAL_HEADERS = "$http.headers.cookie || $http.headers.set-cookie";
const IP_HEADERS = "$http.headers.x-forwarded-for || $http.headers.x-real-ip || $http.headers.forwarded || $http.headers.cf-connecting-ip || $http.env.remote_addr";

const cache = new WeakMap<ScrubConfig, Scrubber>();

export function compileScrubber(config: ScrubConfig): Scrubber {
  const cached = cache.get(config);
  if (cached) return cached;
  const scrubber = compile(config);
  cache.set(config, scrubber);
  return scrubber;
}

function compile(config: ScrubConfig): Scrubber {
  const defaults: Rule[] = [];
  const applications: Application[] = [];
  const sensitive = sensitiveKeyPattern(config.sensitiveFields);

  const email = builtin("@email");
  if (config.defaults) {
    defaults.push(
      { kind: "key", id: "@password:filter", key: rememberingTest(sensitive), method: FILTERED },
      builtin("@pemkey:filter"),
      builtin("@urlpassword"),
      builtin("@bearer:filter"),
      builtin("@creditcard:filter"),
      builtin("@iban:filter"),
      builtin("@usssn:filter"),
      email,
      sensitivePairs(sensitive),
      builtin("@passwordassign"),
      builtin("@userpath:filter"),
    );
    applications.push({ matches: selectorFor(CREDENTIAL_HEADERS), rules: [builtin("@anything:filter")] });
  }
  if (config.scrubIpAddresses) {
    defaults.push(builtin("@ip"));
    applications.push(
      { matches: selectorFor(KNOWN_IP_FIELDS), rules: [builtin("@anything:remove")] },
      { matches: selectorFor(IP_HEADERS), rules: [builtin("@anything:filter")] },
    );
  }
  for (const rule of config.rules) {
    applications.push({ matches: selectorFor(rule.selector), rules: [customRule(rule)] });
  }
  const scrubber: Scrubber = {
    defaults,
    applications,
    safeKeys: new Set(config.safeFields.map((f) => f.trim().toLowerCase()).filter(Boolean)),
    hashKey: config.hashKey ?? "edge-relay",
    attachments: config.attachments,
    active: defaults.length > 0 || applications.length > 0,
  };
  if (config.feedbackEmail === "keep" && defaults.includes(email)) {
    scrubber.typedEmail = { ...scrubber, defaults: defaults.filter((rule) => rule !== email) };
  }
  return scrubber;
}

function selectorFor(text: string): SelectorMatcher {
  return compileSelector(parseSelector(text));
}

function builtin(name: string): Rule {
  const rule = builtinRule(name);
  if (!rule) throw new Error(`unknown built-in scrubbing rule ${name}`);
  return rule;
}

/** The sensitive-key matcher: Sentry's words and the project's `sensitiveFields`, as case-insensitive substrings. */
/** Distinct keys whose verdict one scrubber remembers; the sender chooses keys, so the memory is capped. */
const REMEMBERED_KEYS = 4096;

/**
 * The sensitive-key test runs on every value's key, and keys repeat across
 * events (`filename`, `lineno`, `0`, `1`...): remembering the verdict saves
 * a regex run per value. When full, the memory starts over.
 */
function rememberingTest(pattern: RegExp): TextTest {
  const verdicts = new Map<string, boolean>();
  return {
    test(key) {
      let verdict = verdicts.get(key);
      if (verdict === undefined) {
        verdict = pattern.test(key);
        if (verdicts.size >= REMEMBERED_KEYS) verdicts.clear();
        verdicts.set(key, verdict);
      }
      return verdict;
    },
  };
}

export function sensitiveKeyPattern(extra: readonly string[]): RegExp {
  const fields = extra.map((f) => f.trim()).filter(Boolean).map(escapeRegExp);
  return new RegExp([SENSITIVE_KEY_SOURCE, ...fields].join("|"), "i");
}

/**
 * `name=value` pairs inside strings (URL query strings, form bodies, cookie
 * strings, log lines): the value goes when the name is sensitive.
 */
function sensitivePairs(sensitive: RegExp): PatternRule {
  return {
    kind: "pattern",
    id: "@password:filter",
    find: (text) => findSensitivePairs(text, (name) => sensitive.test(name)),
    hint: (s, f) => f.equals && sensitive.test(s),
    method: FILTERED,
  };
}

/**
 * A rule from the project's `scrub.rules`. The schema has already checked
 * that its pattern compiles; patterns run on RE2 (./user-pattern), so any
 * pattern the operator writes matches in linear time.
 */
export function customRule(rule: ScrubConfig["rules"][number]): Rule {
  const method: Method = rule.method === "replace" || rule.method === undefined
    ? { kind: "replace", text: rule.text ?? "[Filtered]" }
    : { kind: rule.method };
  const id = rule.id ?? rule.rule ?? rule.selector;
  if (rule.rule !== undefined) {
    const base = builtin(rule.rule);
    return rule.method === undefined ? base : { ...base, method };
  }
  if (rule.keyPattern !== undefined) return { kind: "key", id, key: userKeyTest(rule.keyPattern), method };
  if (rule.pattern !== undefined) return { kind: "pattern", id, find: userPatternFinder(rule.pattern, rule.replaceGroups), method };
  return { kind: "anything", id, method };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
