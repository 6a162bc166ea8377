import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KEY, UPSTREAM_DSN, fakeUpstream, post, relay, sentryAuth, type UpstreamCall } from "./support/harness";

/**
 * No event content can produce a 5xx: arbitrary JSON placed at arbitrary
 * paths of valid event, transaction, feedback and check-in items (or
 * replacing whole sub-objects, or the payload itself) goes through the whole
 * pipeline with every stage on, and is answered as Sentry would: 200 when the
 * payload is a JSON object, 400 when it is not one (Relay reads events and
 * check-ins into structs). What is answered 200 either
 * reaches the upstream or is counted in the client report the next envelope
 * carries; nothing vanishes.
 *
 * 500 runs by default; EVENT_PROPERTY_RUNS=20000 for more.
 */
const RUNS = Number((env as unknown as Record<string, string>).EVENT_PROPERTY_RUNS || 500);

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const FRAME = { filename: "https://app.example.com/static/app.3fa2b1c9.js", abs_path: "https://app.example.com/static/app.3fa2b1c9.js", function: "pay", lineno: 10, colno: 3, in_app: true };
const REQUEST = {
  url: "https://app.example.com/checkout?order=1",
  method: "POST",
  headers: { "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", Cookie: "session=abc" },
  data: { password: "hunter2", card: "4111 1111 1111 1111" },
};

const BASES: Record<string, { category: string; payload: Record<string, unknown> }> = {
  event: {
    category: "error",
    payload: {
      event_id: "9ec79c33ec9942ab8353589fcb2e04dc", timestamp: 1_763_884_800, platform: "javascript", level: "error",
      release: "web@1.2.3", environment: "production", transaction: "/checkout", logger: "console",
      message: "Checkout failed", logentry: { message: "Checkout failed for %s", params: ["order-1"] },
      exception: { values: [{ type: "TypeError", value: "x is undefined", mechanism: { type: "onerror", handled: false }, stacktrace: { frames: [FRAME, { ...FRAME, function: "submit", in_app: false }] } }] },
      threads: { values: [{ id: 1, crashed: true, stacktrace: { frames: [FRAME] } }] },
      request: REQUEST,
      user: { id: "42", email: "jane@example.com", ip_address: "73.133.27.120" },
      contexts: { trace: { trace_id: TRACE, span_id: "00f067aa0ba902b7" }, browser: { name: "Chrome", version: "120.0.0.0" } },
      breadcrumbs: { values: [{ category: "ui.click", message: "button#pay", level: "info", timestamp: 1 }] },
      tags: { region: "eu" },
      extra: { password: "x", token: "tok_abc123" },
      fingerprint: ["{{ default }}", "checkout"],
      sdk: { name: "sentry.javascript.browser", version: "10.0.0" },
    },
  },
  transaction: {
    category: "transaction",
    payload: {
      type: "transaction", event_id: "1ec79c33ec9942ab8353589fcb2e04dc", transaction: "GET /api/orders", start_timestamp: 1_763_884_799, timestamp: 1_763_884_800,
      contexts: { trace: { trace_id: TRACE, span_id: "00f067aa0ba902b7", op: "http.server" } },
      spans: [{ span_id: "10f067aa0ba902b7", trace_id: TRACE, op: "db", description: "SELECT * FROM users WHERE email = 'jane@example.com'", start_timestamp: 1_763_884_799, timestamp: 1_763_884_800, data: { "db.system": "postgresql" } }],
      request: REQUEST, user: { ip_address: "73.133.27.120" }, tags: [["region", "eu"]], measurements: { lcp: { value: 1200, unit: "millisecond" } },
    },
  },
  feedback: {
    category: "user_report_v2",
    payload: {
      type: "feedback", event_id: "2ec79c33ec9942ab8353589fcb2e04dc", timestamp: 1_763_884_800, platform: "javascript",
      contexts: { feedback: { message: "The pay button does nothing", contact_email: "jane@example.com", name: "Jane", url: "https://app.example.com/checkout" }, trace: { trace_id: TRACE } },
      user: { email: "jane@example.com" }, tags: { from: "widget" },
    },
  },
  check_in: {
    category: "monitor",
    payload: {
      check_in_id: "3ec79c33ec9942ab8353589fcb2e04dc", monitor_slug: "nightly-export", status: "ok", duration: 1.5, environment: "production",
      monitor_config: { schedule: { type: "crontab", value: "0 3 * * *" }, checkin_margin: 5 },
      contexts: { trace: { trace_id: TRACE } },
    },
  },
};

/** Every stage on: filters with globs, a quota, spike protection, sampling below 1, default and custom scrubbing. */
function projectConfig(id: string): string {
  return JSON.stringify({
    // Each upstream request arms a timeout that outlives it, and workerd allows 10,000 active in one test: keep them short-lived.
    upstreamTimeoutMs: 2000,
    projects: {
      [id]: {
        keys: [KEY],
        upstream: UPSTREAM_DSN,
        filters: {
          localhost: true, browserExtensions: true, webCrawlers: true, legacyBrowsers: true, healthChecks: true,
          errorMessages: ["*connection reset*", "Timeout*"], releases: ["*-beta*", "0.*"],
        },
        quotas: [{ id: "all", window: 60, limit: 1_000_000 }],
        spike: { perFingerprint: 1000, window: 60 },
        sampling: { keepNewFingerprints: false, error: 0.5, transaction: 0.5 },
        scrub: {
          sensitiveFields: ["session"],
          rules: [
            { selector: "$string", pattern: "tok_[a-z0-9]+", method: "replace" },
            { selector: "extra.password", rule: "@anything:remove" },
            { selector: "$http.headers", keyPattern: "x-api-.*" },
          ],
        },
      },
    },
  });
}

// ----------------------------------------------------------- arbitraries

/** Keys that have tripped readers before: prototype members, legacy interface names, `values`. */
const KEYS = [
  "__proto__", "constructor", "toString", "hasOwnProperty", "values", "frames", "stacktrace", "exception", "type", "value",
  "message", "logentry", "formatted", "params", "request", "headers", "user", "ip_address", "contexts", "trace", "trace_id",
  "threads", "crashed", "breadcrumbs", "tags", "fingerprint", "release", "transaction", "in_app", "abs_path", "filename",
  "sentry.interfaces.Exception", "sentry.interfaces.Message", "sentry.interfaces.Stacktrace", "sentry.interfaces.Http",
  "sentry.interfaces.User", "sentry.interfaces.Breadcrumbs", "sentry.interfaces.Template", "spans", "data", "event_id",
];
const key = fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 6 }));

/** An object whose keys are own data properties, `__proto__` included (assignment would set the prototype instead). */
function objectFrom(entries: ReadonlyArray<readonly [string, unknown]>): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(object, k, { value: v, enumerable: true, writable: true, configurable: true });
  return object;
}

const json: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown; array: unknown[]; object: Record<string, unknown> }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", maxDepth: 4 },
    fc.constant(null), fc.boolean(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 12 }), fc.constantFrom("", "127.0.0.1", "chrome-extension://x/a.js", "Googlebot/2.1", "1.0-beta", "{{ default }}"),
    tie("array"), tie("object"),
  ),
  array: fc.array(tie("value"), { maxLength: 4 }),
  object: fc.array(fc.tuple(key, tie("value")), { maxLength: 4 }).map(objectFrom),
})).value;

type Path = ReadonlyArray<string | number>;

/** Every path into a value, the root included. */
function pathsOf(value: unknown, at: Path = []): Path[] {
  const paths: Path[] = [at];
  if (Array.isArray(value)) value.forEach((v, i) => paths.push(...pathsOf(v, [...at, i])));
  else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) paths.push(...pathsOf(v, [...at, k]));
  return paths;
}

/** Relay's legacy names for top-level interfaces. */
const LEGACY: Record<string, string> = {
  exception: "sentry.interfaces.Exception", logentry: "sentry.interfaces.Message", message: "sentry.interfaces.Message",
  stacktrace: "sentry.interfaces.Stacktrace", request: "sentry.interfaces.Http", user: "sentry.interfaces.User",
  breadcrumbs: "sentry.interfaces.Breadcrumbs", contexts: "sentry.interfaces.Contexts",
};

/**
 * What a change does at its path: put arbitrary JSON there (under a new key
 * when `extra` is given), or change the shape of what is there the ways real
 * clients do: a bare list for `{values}` and back, a list of one, null, a
 * legacy interface name.
 */
type Op = "set" | "list" | "unwrap" | "values" | "null" | "legacy";
const OPS: Op[] = ["set", "set", "set", "list", "unwrap", "values", "null", "legacy"];

function define(node: object, key: string | number, value: unknown): void {
  Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true });
}

/** `root` changed by `op` at `path`; paths an earlier change cut short are skipped. */
function change(root: unknown, path: Path, op: Op, extra: string | undefined, value: unknown): unknown {
  const full = op === "set" && extra !== undefined ? [...path, extra] : path;
  let node = root;
  for (const step of full.slice(0, -1)) {
    if (node === null || typeof node !== "object" || !Object.prototype.hasOwnProperty.call(node, step)) return root;
    node = (node as Record<string | number, unknown>)[step];
  }
  const parent = node;
  const last = full[full.length - 1];
  const current = full.length === 0 ? root : parent !== null && typeof parent === "object" ? (parent as Record<string | number, unknown>)[last!] : undefined;
  let next: unknown;
  switch (op) {
    case "set": next = value; break;
    case "list": next = [current]; break;
    case "unwrap": next = current !== null && typeof current === "object" && Object.prototype.hasOwnProperty.call(current, "values") ? (current as { values: unknown }).values : current; break;
    case "values": next = objectFrom([["values", current]]); break;
    case "null": next = null; break;
    case "legacy": {
      const alias = full.length === 1 ? LEGACY[String(last)] : undefined;
      if (alias === undefined || parent === null || typeof parent !== "object") return root;
      delete (parent as Record<string, unknown>)[String(last)];
      define(parent, alias, current);
      return root;
    }
  }
  if (full.length === 0) return next;
  if (parent === null || typeof parent !== "object") return root;
  define(parent, last!, next);
  return root;
}

const mutation = (type: string) => {
  const paths = pathsOf(BASES[type]!.payload);
  return fc.record({
    // Interfaces at the top are where the shapes differ most: chosen as often as all deeper paths together.
    path: fc.oneof(fc.constantFrom(...paths.filter((p) => p.length <= 1)), fc.constantFrom(...paths)),
    op: fc.constantFrom(...OPS),
    extra: fc.option(key, { nil: undefined }),
    value: json,
  });
};

const sample = fc.constantFrom(...Object.keys(BASES)).chain((type) =>
  fc.record({
    type: fc.constant(type),
    mutations: fc.array(mutation(type), { minLength: 1, maxLength: 4 }),
    // The legacy endpoint takes events, transactions and feedback, never check-ins.
    viaStore: type === "check_in" ? fc.constant(false) : fc.boolean(),
  }),
);

// ----------------------------------------------------------- the property

let upstream: ReturnType<typeof fakeUpstream>;
beforeAll(() => {
  upstream = fakeUpstream();
});
afterAll(() => upstream.restore());

function items(call: UpstreamCall): Array<{ type: string; payload: string }> {
  const [, ...lines] = call.text.split("\n");
  const out = [];
  for (let i = 0; i + 1 < lines.length; i += 2) out.push({ type: String(JSON.parse(lines[i]!).type), payload: lines[i + 1]! });
  return out;
}

function reportedDrops(calls: UpstreamCall[], category: string): number {
  let total = 0;
  for (const item of calls.flatMap(items)) {
    if (item.type !== "client_report") continue;
    const report = JSON.parse(item.payload) as Record<string, unknown>;
    for (const field of ["filtered_events", "filtered_sampling_events", "rate_limited_events", "discarded_events"]) {
      for (const entry of (report[field] ?? []) as Array<{ category: string; quantity: number }>) if (entry.category === category) total += entry.quantity;
    }
  }
  return total;
}

/**
 * One project for every run: a project per run would start thousands of
 * Durable Objects in one workerd. Every drop is flushed right after its run,
 * so the counts the next envelope carries are that run's alone.
 */
const PROJECT = "9000";
const CONFIG = projectConfig(PROJECT);

describe("no 5xx from event content", () => {
  it(`answers every mutated event, transaction, feedback and check-in as Sentry would (${RUNS} runs)`, { timeout: 600_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(sample, async ({ type, mutations, viaStore }) => {
        let payload: unknown = structuredClone(BASES[type]!.payload);
        for (const { path, op, extra, value } of mutations) payload = change(payload, path, op, extra, value);
        // Events and check-ins must be one JSON object (src/ingest/caps.ts).
        const accepted = payload !== null && typeof payload === "object" && !Array.isArray(payload);
        const body = JSON.stringify(payload);

        const id = PROJECT;
        const config = CONFIG;
        const before = upstream.calls.length;
        const res = viaStore
          ? await relay(post(`/api/${id}/store/`, body, { ...sentryAuth(), "content-type": "application/json" }), config)
          : await relay(post(`/api/${id}/envelope/`, `{}\n{"type":"${type}"}\n${body}\n`, sentryAuth()), config);
        const answer = await res.text();
        expect(res.status, answer).toBeLessThan(500);
        expect(res.status, answer).toBe(accepted ? 200 : 400);
        if (!accepted) return;

        // The store endpoint types the item by the event's own `type`.
        const sentAs = viaStore ? storeItemType(payload as Record<string, unknown>) : type;
        const category = BASES[sentAs]!.category;
        const delivered = upstream.calls.slice(before).flatMap(items).some((item) => item.type === sentAs);
        if (delivered) return;
        // Dropped on purpose: the next envelope carries the count upstream.
        const flush = await relay(post(`/api/${id}/envelope/`, `{}\n{"type":"session"}\n{"sid":"s","status":"ok","started":"2026-11-23T08:00:00Z"}\n`, sentryAuth()), config);
        expect(flush.status).toBe(200);
        expect(reportedDrops(upstream.calls.slice(before), category), `${sentAs} answered 200 but neither delivered nor reported`).toBeGreaterThan(0);
      }),
      { numRuns: RUNS },
    );
  });
});

function storeItemType(event: Record<string, unknown>): string {
  const type = Object.prototype.hasOwnProperty.call(event, "type") ? event.type : undefined;
  return type === "transaction" ? "transaction" : type === "feedback" ? "feedback" : "event";
}
