import { applyPattern } from "./apply-pattern";
import type { Rule } from "./builtins";
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

/** Node types of the children of an item's root, by item kind. */
const ROOT_CHILD_TYPES: Record<string, string[]> = {
  request: ["http"], user: ["user"], logentry: ["logentry"], sdk: ["sdk"], contexts: ["contexts"], stacktrace: ["stacktrace"],
};

interface Walk {
  scrubber: Scrubber;
  rootType: string;
}

/**
 * One traversal of one JSON item. Returns the same object when nothing
 * matched, so the caller can keep the item's original bytes.
 */
export function scrubJson(root: unknown, scrubber: Scrubber, rootType: string): unknown {
  return visitChildren(root, [], [], true, { scrubber, rootType });
}

/** `path` is one stack shared by the whole walk: pushed on the way down, popped on the way up. */
function visitChildren(value: unknown, path: Segment[], inherited: readonly Rule[], defaultsOn: boolean, walk: Walk): unknown {
  if (Array.isArray(value)) {
    const pairs = path.length > 0 && path[0]!.types.includes("http") && isPairList(value);
    let out: unknown[] | undefined;
    for (let index = 0; index < value.length; index++) {
      const child: unknown = value[index];
      let next: unknown;
      if (pairs) {
        // Headers, cookies and query strings may be [name, value] lists: the name is the key.
        const [name, inner] = child as [string, unknown];
        path.push(segment(path, name.toLowerCase(), walk));
        const scrubbed = visit(inner, path, inherited, defaultsOn, walk);
        path.pop();
        next = scrubbed === inner ? child : [name, scrubbed];
      } else {
        path.push(segment(path, String(index), walk));
        next = visit(child, path, inherited, defaultsOn, walk);
        path.pop();
      }
      if (next !== child) (out ??= value.slice())[index] = next;
    }
    return out ?? value;
  }
  if (isObject(value)) {
    let out: Record<string, unknown> | undefined;
    for (const key in value) {
      const child = value[key];
      path.push(segment(path, key.toLowerCase(), walk));
      const next = visit(child, path, inherited, defaultsOn, walk);
      path.pop();
      if (next !== child) (out ??= { ...value })[key] = next;
    }
    return out ?? value;
  }
  return value;
}

function visit(value: unknown, path: Segment[], inherited: readonly Rule[], defaultsOn: boolean, walk: Walk): unknown {
  if (value === null || value === undefined) return value;
  const { scrubber } = walk;
  const kind = valueKind(value);
  const key = sensitivityKey(path);
  const defaults = defaultsOn && !STRUCTURAL_KEYS.has(key) && !scrubber.safeKeys.has(key);

  let direct: Rule[] | undefined;
  for (const application of scrubber.applications) {
    if (application.matches(path, kind)) (direct ??= []).push(...application.rules);
  }
  const anything = direct?.find((rule) => rule.kind === "anything");
  if (anything) return redactValue(value, anything.method, scrubber.hashKey);

  // Three rule lists, read in place rather than joined per node.
  const lists = [defaults ? scrubber.defaults : NONE, inherited, direct ?? NONE];
  if (kind !== "object") {
    for (const list of lists) {
      for (const rule of list) {
        if (rule.kind === "key" && rule.key.test(key)) return redactValue(value, rule.method, scrubber.hashKey);
      }
    }
  }
  if (kind === "string") {
    let text = value as string;
    for (const list of lists) {
      for (const rule of list) if (rule.kind === "pattern") text = applyPattern(text, rule, scrubber.hashKey);
    }
    return text === value ? value : text;
  }
  if (kind === "array" || kind === "object") {
    return visitChildren(value, path, direct ? [...inherited, ...direct] : inherited, defaults, walk);
  }
  return value;
}

/** For `attributes: { "user.password": { value, type } }` (logs, v2 spans) the attribute name is the key. */
function sensitivityKey(path: readonly Segment[]): string {
  const last = path[path.length - 1]?.key ?? "";
  if (last === "value" && path[path.length - 3]?.key === "attributes") return path[path.length - 2]!.key;
  return last;
}

/** A child's segment, with the node types Relay's selectors know it by. */
function segment(path: readonly Segment[], key: string, walk: Walk): Segment {
  return { key, types: typesOf(path, key, walk.rootType) };
}

function typesOf(path: readonly Segment[], key: string, rootType: string): string[] {
  const depth = path.length;
  const parent = path[depth - 1];
  const grand = path[depth - 2];
  // Keys are the sender's: own entries only, or `constructor` would find Object.
  if (depth === 0) return rootType === "event" && Object.hasOwn(ROOT_CHILD_TYPES, key) ? ROOT_CHILD_TYPES[key]! : [];
  const isIndex = /^\d+$/.test(key);
  if (key === "stacktrace" && parent!.types.some((t) => t === "exception" || t === "thread")) return ["stacktrace"];
  if (!isIndex) return [];
  if (parent!.key === "frames" && grand?.types.includes("stacktrace")) return ["frame"];
  if (depth === 1 && parent!.key === "breadcrumbs") return ["breadcrumb"];
  if (depth === 1 && parent!.key === "spans") return ["span"];
  if (depth === 1 && parent!.key === "items" && (rootType === "log" || rootType === "span")) return [rootType];
  if (depth === 2 && parent!.key === "values") {
    const container = { exception: "exception", threads: "thread", breadcrumbs: "breadcrumb" }[grand!.key];
    if (container) return [container];
  }
  return [];
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
