/**
 * Relay-style PII selectors: `$string`, `$http.headers.x-custom`, `extra.foo`,
 * `$frame.vars.*`, `extra.**`, combined with `||`, `&&`, `!` and parentheses
 * (single `|` and `&` are accepted as Relay's older spelling).
 *
 * Paths are matched from the event root, key by key, case-insensitively. A
 * path that starts with a `$type` or `**` may start at any depth, since types
 * like `$frame` only occur deep inside the event. `*` is one key, `**` any
 * number of keys. `$string`, `$number`, `$boolean`, `$array` and `$object`
 * match the kind of the node the path ends at.
 */
export type Selector =
  | { op: "or" | "and"; items: Selector[] }
  | { op: "not"; item: Selector }
  | { op: "path"; items: PathItem[] };

export type PathItem =
  | { kind: "key"; key: string }
  | { kind: "type"; type: string }
  | { kind: "value"; type: ValueKind }
  | { kind: "star" }
  | { kind: "deep" };

export type ValueKind = "string" | "number" | "boolean" | "array" | "object";

/** Node types a path segment can have; `$error` and `$request` are aliases. */
const NODE_TYPES: Record<string, string> = {
  event: "event", exception: "exception", error: "exception", stacktrace: "stacktrace", frame: "frame",
  http: "http", request: "http", user: "user", logentry: "logentry", message: "logentry",
  breadcrumb: "breadcrumb", span: "span", sdk: "sdk", thread: "thread", contexts: "contexts", log: "log",
};
const VALUE_KINDS = new Set<ValueKind>(["string", "number", "boolean", "array", "object"]);

export class SelectorError extends Error {}

export function parseSelector(text: string): Selector {
  const tokens = tokenize(text);
  let at = 0;
  const peek = () => tokens[at];
  const take = () => tokens[at++];

  /** `next (token next)*`: one level of the precedence ladder. */
  const joined = (op: "or" | "and", token: string, next: () => Selector) => (): Selector => {
    const items = [next()];
    while (peek() === token) {
      take();
      items.push(next());
    }
    return items.length === 1 ? items[0]! : { op, items };
  };
  const parseAnd = (): Selector => joined("and", "&&", parseNot)();
  const parseOr = joined("or", "||", parseAnd);
  const parseNot = (): Selector => {
    if (peek() === "!") {
      take();
      return { op: "not", item: parseNot() };
    }
    if (peek() === "(") {
      take();
      const inner = parseOr();
      if (take() !== ")") throw new SelectorError(`selector "${text}": missing ")"`);
      return inner;
    }
    const token = take();
    if (token === undefined) throw new SelectorError(`selector "${text}": ends where a path was expected`);
    if (["||", "&&", ")", "!"].includes(token)) throw new SelectorError(`selector "${text}": unexpected "${token}"`);
    return { op: "path", items: parsePath(token, text) };
  };

  const selector = parseOr();
  if (at !== tokens.length) throw new SelectorError(`selector "${text}": unexpected "${tokens[at]}"`);
  return selector;
}

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const re = /\s*(\|\|?|&&?|!|\(|\)|(?:[^\s|&!()'"]|'[^']*'|"[^"]*")+)/y;
  let match: RegExpExecArray | null;
  let last = 0;
  while ((match = re.exec(text))) {
    const token = match[1]!;
    tokens.push(token === "|" ? "||" : token === "&" ? "&&" : token);
    last = re.lastIndex;
  }
  if (text.slice(last).trim() !== "") throw new SelectorError(`selector "${text}": cannot read "${text.slice(last).trim()}"`);
  if (tokens.length === 0) throw new SelectorError("selector is empty");
  return tokens;
}

function parsePath(token: string, text: string): PathItem[] {
  const parts = token.match(/'[^']*'|"[^"]*"|[^.]+/g) ?? [];
  if (parts.join(".") !== token) throw new SelectorError(`selector "${text}": empty path item in "${token}"`);
  return parts.map((part): PathItem => {
    if (part === "**") return { kind: "deep" };
    if (part === "*") return { kind: "star" };
    if (/^['"]/.test(part)) return { kind: "key", key: part.slice(1, -1).toLowerCase() };
    if (part.startsWith("$")) {
      const name = part.slice(1).toLowerCase();
      if (VALUE_KINDS.has(name as ValueKind)) return { kind: "value", type: name as ValueKind };
      const type = NODE_TYPES[name];
      if (!type) throw new SelectorError(`selector "${text}": unknown type $${name}`);
      return { kind: "type", type };
    }
    if (!/^[\w-]+$/.test(part)) throw new SelectorError(`selector "${text}": "${part}" is not a key (quote it: '${part}')`);
    return { kind: "key", key: part.toLowerCase() };
  });
}

/** One step of a node's path: its key (lowercased) and the node types it has. */
export interface Segment {
  key: string;
  types: readonly string[];
  /**
   * The name the default rules judge this value by, when it is not `key`:
   * the `value` of an OTLP `{key, value}` attribute is named by that `key`.
   */
  name?: string;
}

export function matchesSelector(selector: Selector, path: readonly Segment[], kind: ValueKind | "null"): boolean {
  switch (selector.op) {
    case "or":
      return selector.items.some((s) => matchesSelector(s, path, kind));
    case "and":
      return selector.items.every((s) => matchesSelector(s, path, kind));
    case "not":
      return !matchesSelector(selector.item, path, kind);
    case "path":
      return matchesPath(selector.items, path, kind);
  }
}

function matchesPath(items: readonly PathItem[], path: readonly Segment[], kind: ValueKind | "null"): boolean {
  if (path.length === 0) return false;
  const step = (i: number, j: number): boolean => {
    if (i === items.length) return j === path.length;
    const item = items[i]!;
    if (item.kind === "deep") return step(i + 1, j) || (j < path.length && step(i, j + 1));
    if (j === path.length) return false;
    const segment = path[j]!;
    switch (item.kind) {
      case "star":
        return step(i + 1, j + 1);
      case "key":
        return segment.key === item.key && step(i + 1, j + 1);
      case "type":
        return segment.types.includes(item.type) && step(i + 1, j + 1);
      case "value":
        return j === path.length - 1 && kind === item.type && step(i + 1, j + 1);
    }
  };
  const first = items[0];
  const floating = first !== undefined && first.kind !== "key" && first.kind !== "star";
  if (!floating) return step(0, 0);
  for (let j = 0; j < path.length; j++) if (step(0, j)) return true;
  return false;
}

export type SelectorMatcher = ((path: readonly Segment[], kind: ValueKind | "null") => boolean) & {
  /** When set, the matcher accepts only nodes whose own key is one of these. */
  readonly lastKeys?: ReadonlySet<string>;
};

/**
 * A matcher that rejects most nodes in O(1): when every way the selector can
 * match ends at a named key, a node with another key cannot match.
 */
export function compileSelector(selector: Selector): SelectorMatcher {
  const keys = lastKeys(selector);
  if (!keys) return (path, kind) => matchesSelector(selector, path, kind);
  const matcher = (path: readonly Segment[], kind: ValueKind | "null") => {
    const last = path[path.length - 1];
    return last !== undefined && keys.has(last.key) && matchesSelector(selector, path, kind);
  };
  return Object.assign(matcher, { lastKeys: keys });
}

function lastKeys(selector: Selector): Set<string> | undefined {
  switch (selector.op) {
    case "path": {
      const items = selector.items;
      let i = items.length - 1;
      if (items[i]?.kind === "value") i--;
      const item = items[i];
      return item?.kind === "key" ? new Set([item.key]) : undefined;
    }
    case "or": {
      const all = new Set<string>();
      for (const branch of selector.items) {
        const keys = lastKeys(branch);
        if (!keys) return undefined;
        keys.forEach((k) => all.add(k));
      }
      return all;
    }
    case "and":
      for (const branch of selector.items) {
        const keys = lastKeys(branch);
        if (keys) return keys;
      }
      return undefined;
    case "not":
      return undefined;
  }
}
