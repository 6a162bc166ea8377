import { applyPattern, featuresOf } from "./apply-pattern";
import type { PatternRule, Rule } from "./builtins";
import type { Scrubber } from "./compile";
import { redactValue } from "./redact";
import type { Segment, ValueKind } from "./selector";

const NONE: readonly Rule[] = [];

/**
 * Keys whose values are structure, not personal data (ids, versions, SDK and
 * module metadata): the default rules leave them alone, so `release:
 * "10.0.0.1"` or a trace id stays what it is. Explicit rules still apply.
 */
const STRUCTURAL_KEYS = new Set([
  "event_id", "trace_id", "span_id", "parent_span_id", "segment_id", "profile_id", "replay_id", "sid",
  "timestamp", "start_timestamp", "received", "platform", "level", "logger", "type", "release", "dist",
  "environment", "version", "kernel_version", "build", "sdk", "modules", "debug_meta", "fingerprint",
  "op", "origin", "status", "in_app", "lineno", "colno", "mechanism", "content_type", "item_count",
]);

/**
 * Keys that name a version or a release wherever they stand (`app.version`,
 * `service.version`, `browser_version`, a tag `sentry.release`): their values
 * are `2.1.0.4`-like build numbers, which the IP rule would otherwise take
 * for addresses. The project's safe fields cover other names.
 */
function namesAVersion(key: string): boolean {
  return key.endsWith("version") || key.endsWith("release");
}

/** Strings shorter than this are scrubbed again when they recur: a lookup would cost about as much. */
const REMEMBER_FROM = 32;
/** Results one walk remembers at most. */
const REMEMBERED_STRINGS = 2048;
/**
 * Texts remembered per length at most. Kept by length, so a lookup hashes a
 * number, not the text, and compares the text only with a few of the same
 * length (a comparison stops at the first differing character).
 */
const REMEMBERED_PER_LENGTH = 4;

/** Node types a segment can have, shared: a path holds these arrays, never copies. */
const NO_TYPES: readonly string[] = [];
const HTTP: readonly string[] = ["http"];
const STACKTRACE: readonly string[] = ["stacktrace"];
const FRAME: readonly string[] = ["frame"];
const BREADCRUMB: readonly string[] = ["breadcrumb"];
const SPAN: readonly string[] = ["span"];
const LOG: readonly string[] = ["log"];
const EXCEPTION: readonly string[] = ["exception"];
const THREAD: readonly string[] = ["thread"];

/**
 * Node types of the children of an event's root. A Map, so a key like
 * `constructor` or `__proto__` finds nothing rather than Object's prototype.
 */
const ROOT_CHILD_TYPES: ReadonlyMap<string, readonly string[]> = new Map([
  ["request", HTTP], ["user", ["user"]], ["logentry", ["logentry"]], ["sdk", ["sdk"]], ["contexts", ["contexts"]], ["stacktrace", STACKTRACE],
]);

/** What the walk reads of a scrubber on every node, worked out once per scrubber. */
interface Plan {
  /** The default rules split by kind, so a node reads only the kind it needs. */
  defaultKeyRules: readonly Rule[];
  defaultPatternRules: readonly PatternRule[];
  /** Every gate bit of the default pattern rules together. */
  defaultGates: number;
  /** The structural keys and the project's safe fields: one lookup per node. */
  keysLeftAlone: ReadonlySet<string>;
  /** Positions in defaultPatternRules of the rules without a gate. */
  ungatedDefaults: readonly number[];
  /**
   * Every key some application's selector can end at, when each selector
   * ends at named keys: a node with any other key skips the selectors.
   */
  applicationKeys: ReadonlySet<string> | undefined;
}

const plans = new WeakMap<Scrubber, Plan>();

function planOf(scrubber: Scrubber): Plan {
  let plan = plans.get(scrubber);
  if (plan) return plan;
  let applicationKeys: Set<string> | undefined = new Set();
  for (const application of scrubber.applications) {
    const keys = application.matches.lastKeys;
    if (!keys) {
      applicationKeys = undefined;
      break;
    }
    for (const key of keys) applicationKeys.add(key);
  }
  const defaultPatternRules = scrubber.defaults.filter((rule): rule is PatternRule => rule.kind === "pattern");
  plan = {
    defaultKeyRules: scrubber.defaults.filter((rule) => rule.kind === "key"),
    defaultPatternRules,
    keysLeftAlone: new Set([...STRUCTURAL_KEYS, ...scrubber.safeKeys]),
    defaultGates: defaultPatternRules.reduce((bits, rule) => bits | (rule.gate ?? 0), 0),
    ungatedDefaults: defaultPatternRules.flatMap((rule, index) => (rule.gate === undefined ? [index] : [])),
    applicationKeys,
  };
  plans.set(scrubber, plan);
  return plan;
}

/**
 * The state of one traversal. `path` is one stack for the whole walk,
 * pushed on the way down and popped on the way up; its segments are reused
 * per depth (selectors read them and keep nothing), so visiting a node
 * allocates nothing unless a rule changes it. Recursion is bounded: every
 * JSON item is depth-checked before it is parsed.
 */
class Walk {
  private readonly path: Segment[] = [];
  private readonly pool: Segment[] = [];
  /**
   * Default-rule results by the text's length: text, result, text, result...
   * A null result is a text that came out unchanged (so the caller keeps its own string).
   */
  private remembered: Map<number, (string | null)[]> | undefined;
  private rememberedCount = 0;

  private readonly plan: Plan;

  constructor(private readonly scrubber: Scrubber, private readonly rootType: string) {
    this.plan = planOf(scrubber);
  }

  children(value: unknown, inherited: readonly Rule[], defaultsOn: boolean): unknown {
    const path = this.path;
    if (Array.isArray(value)) {
      const pairs = path.length > 0 && path[0]!.types.includes("http") && isPairList(value);
      let out: unknown[] | undefined;
      for (let index = 0; index < value.length; index++) {
        const child: unknown = value[index];
        let next: unknown;
        if (pairs) {
          // Headers, cookies and query strings may be [name, value] lists: the name is the key.
          const pair = child as [string, unknown];
          const inner = pair[1];
          this.push(pair[0].toLowerCase(), false);
          const scrubbed = this.visit(inner, inherited, defaultsOn);
          path.pop();
          next = scrubbed === inner ? child : [pair[0], scrubbed];
        } else {
          this.push(String(index), true);
          next = this.visit(child, inherited, defaultsOn);
          path.pop();
        }
        if (next !== child) (out ??= value.slice())[index] = next;
      }
      return out ?? value;
    }
    if (isObject(value)) {
      let out: Record<string, unknown> | undefined;
      const attribute = otlpAttributeName(path, value);
      for (const key in value) {
        const child = value[key];
        this.push(key.toLowerCase(), false);
        if (attribute !== undefined && key === "value") path[path.length - 1]!.name = attribute;
        const next = this.visit(child, inherited, defaultsOn);
        path.pop();
        if (next !== child) (out ??= { ...value })[key] = next;
      }
      return out ?? value;
    }
    return value;
  }

  private visit(value: unknown, inherited: readonly Rule[], defaultsOn: boolean): unknown {
    if (value === null || value === undefined) return value;
    const { scrubber, path, plan } = this;
    const kind = valueKind(value);
    const key = sensitivityKey(path);
    const defaults = defaultsOn && !plan.keysLeftAlone.has(key) && !namesAVersion(key);

    let direct: Rule[] | undefined;
    const applications = scrubber.applications;
    if (plan.applicationKeys === undefined || plan.applicationKeys.has(path[path.length - 1]!.key)) {
      for (let i = 0; i < applications.length; i++) {
        const application = applications[i]!;
        if (application.matches(path, kind)) (direct ??= []).push(...application.rules);
      }
    }
    if (direct) {
      for (const rule of direct) if (rule.kind === "anything") return redactValue(value, rule.method, scrubber.hashKey);
    }

    // Three rule lists (defaults, inherited, direct), read in place and in this order, never joined per node.
    if (kind !== "object") {
      const rule = (defaults ? keyRule(plan.defaultKeyRules, key) : undefined) ?? keyRule(inherited, key) ?? (direct && keyRule(direct, key));
      if (rule) return redactValue(value, rule.method, scrubber.hashKey);
    }
    if (kind === "string") {
      let text = defaults ? this.defaultPatterns(value as string) : (value as string);
      text = patterns(text, inherited, scrubber.hashKey);
      if (direct) text = patterns(text, direct, scrubber.hashKey);
      return text === value ? value : text;
    }
    if (kind === "array" || kind === "object") {
      return this.children(value, direct ? [...inherited, ...direct] : inherited, defaults);
    }
    return value;
  }

  /**
   * The default pattern rules over one string. Their result depends on the
   * text alone, and an event repeats much of its text (frames of one file
   * share their context lines), so a long string's result is remembered for
   * the rest of this walk, in a map bounded by the item's size and by
   * REMEMBERED_STRINGS.
   */
  private defaultPatterns(text: string): string {
    if (this.plan.defaultPatternRules.length === 0) return text;
    if (text.length < REMEMBER_FROM) return this.gatedPatterns(text);
    const remembered = (this.remembered ??= new Map());
    let sameLength = remembered.get(text.length);
    if (sameLength !== undefined) {
      for (let i = 0; i < sameLength.length; i += 2) if (sameLength[i] === text) return sameLength[i + 1] ?? text;
    }
    const scrubbed = this.gatedPatterns(text);
    if (this.rememberedCount < REMEMBERED_STRINGS && (sameLength === undefined || sameLength.length < 2 * REMEMBERED_PER_LENGTH)) {
      if (sameLength === undefined) remembered.set(text.length, (sameLength = []));
      sameLength.push(text, scrubbed === text ? null : scrubbed);
      this.rememberedCount++;
    }
    return scrubbed;
  }

  /**
   * The default pattern rules, in order. Most strings open no rule's gate:
   * then only the rules without a gate can change them, and the rest run
   * (as usual, each on the text before it) only once one of those has.
   */
  private gatedPatterns(text: string): string {
    const { defaultPatternRules: rules, defaultGates, ungatedDefaults } = this.plan;
    const hashKey = this.scrubber.hashKey;
    if ((featuresOf(text).candidates & defaultGates) !== 0) return patterns(text, rules, hashKey);
    for (let i = 0; i < ungatedDefaults.length; i++) {
      const at = ungatedDefaults[i]!;
      const scrubbed = applyPattern(text, rules[at]!, hashKey);
      if (scrubbed !== text) return patterns(scrubbed, rules, hashKey, at + 1);
    }
    return text;
  }

  /** Enters a child: the segment object for its depth is reused, only its fields change. */
  private push(key: string, isIndex: boolean): void {
    const path = this.path;
    const depth = path.length;
    const types = this.typesOf(depth, key, isIndex);
    let segment = this.pool[depth];
    if (segment) {
      segment.key = key;
      segment.types = types;
      segment.name = undefined;
    } else {
      segment = { key, types };
      this.pool[depth] = segment;
    }
    path.push(segment);
  }

  /** The node types Relay's selectors know a child at `depth` by. */
  private typesOf(depth: number, key: string, isIndex: boolean): readonly string[] {
    const rootType = this.rootType;
    if (depth === 0) return rootType === "event" ? ROOT_CHILD_TYPES.get(key) ?? NO_TYPES : NO_TYPES;
    const path = this.path;
    const parent = path[depth - 1]!;
    if (key === "stacktrace") return parent.types.includes("exception") || parent.types.includes("thread") ? STACKTRACE : NO_TYPES;
    // Only list items under these keys have a type; the digit check runs for them alone.
    const container = parent.key;
    if (container !== "frames" && container !== "breadcrumbs" && container !== "spans" && container !== "items" && container !== "values") return NO_TYPES;
    if (!isIndex && !isDigits(key)) return NO_TYPES;
    const grand = path[depth - 2];
    if (container === "frames") return grand?.types.includes("stacktrace") ? FRAME : NO_TYPES;
    if (depth === 1) {
      if (container === "breadcrumbs") return BREADCRUMB;
      if (container === "spans") return SPAN;
      if (container === "items") return rootType === "log" ? LOG : rootType === "span" ? SPAN : NO_TYPES;
      return NO_TYPES;
    }
    if (depth === 2 && container === "values") {
      switch (grand!.key) {
        case "exception":
          return EXCEPTION;
        case "threads":
          return THREAD;
        case "breadcrumbs":
          return BREADCRUMB;
      }
    }
    return NO_TYPES;
  }
}

/**
 * One traversal of one JSON item. Returns the same object when nothing
 * matched, so the caller can keep the item's original bytes.
 */
export function scrubJson(root: unknown, scrubber: Scrubber, rootType: string): unknown {
  return new Walk(scrubber, rootType).children(root, NONE, true);
}

/** The first key rule in `rules` that matches `key`. */
function keyRule(rules: readonly Rule[], key: string): Rule | undefined {
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    if (rule.kind === "key" && rule.key.test(key)) return rule;
  }
  return undefined;
}

/** `text` after every pattern rule in `rules`, in order. */
function patterns(text: string, rules: readonly Rule[], hashKey: string, from = 0): string {
  for (let i = from; i < rules.length; i++) {
    const rule = rules[i]!;
    if (rule.kind === "pattern") text = applyPattern(text, rule, hashKey);
  }
  return text;
}

/**
 * The key the default rules judge a value by. Attributes are named by their
 * attribute name, not by where the value sits: `attributes: { "user.password":
 * { value, type } }` (logs, v2 spans) and OTLP's `attributes: [{ key:
 * "password", value: { stringValue } }]`.
 */
function sensitivityKey(path: readonly Segment[]): string {
  const depth = path.length;
  const last = path[depth - 1];
  if (!last) return "";
  if (last.name !== undefined) return last.name;
  const parent = path[depth - 2];
  if (parent?.name !== undefined) return parent.name;
  if (last.key === "value" && path[depth - 3]?.key === "attributes") return parent!.key;
  return last.key;
}

/** For an OTLP attribute (`{key, value}` in an `attributes` list), its name; else undefined. */
function otlpAttributeName(path: readonly Segment[], value: Record<string, unknown>): string | undefined {
  const depth = path.length;
  if (depth < 2 || path[depth - 2]!.key !== "attributes" || !isDigits(path[depth - 1]!.key)) return undefined;
  const name = value.key;
  return typeof name === "string" && "value" in value ? name.toLowerCase() : undefined;
}

/** True for a key that is all ASCII digits, as a list index is: `"0"`, `"12"`. */
function isDigits(key: string): boolean {
  if (key.length === 0) return false;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function valueKind(value: unknown): ValueKind {
  if (Array.isArray(value)) return "array";
  switch (typeof value) {
    case "string":
      return "string";
    case "number":
    case "bigint":
      return "number";
    case "boolean":
      return "boolean";
    default:
      return "object";
  }
}

function isPairList(value: unknown[]): boolean {
  return value.length > 0 && value.every((v) => Array.isArray(v) && v.length === 2 && typeof v[0] === "string");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
