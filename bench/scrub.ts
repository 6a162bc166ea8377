/**
 * Scrubbing cost per item, the way the pipeline pays it: JSON.parse, one
 * traversal with the project's compiled rules, JSON.stringify when something
 * changed. Runs in Node's V8, the engine workerd embeds.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { relayConfigSchema } from "../src/config/schema";
import { newItem } from "../src/envelope/envelope";
import { compileScrubber } from "../src/scrub/compile";
import { scrubEnvelope } from "../src/scrub/envelope";

const KEY = "0123456789abcdef0123456789abcdef";
const scrubber = compileScrubber(relayConfigSchema.parse({ projects: { "1": { keys: [KEY], archive: true } } }).projects["1"]!.scrub);

function frame(n: number) {
  return {
    filename: `/srv/app/src/services/module-${n}.ts`, function: `handle${n}`, lineno: 40 + n, colno: 9, in_app: n % 3 !== 0,
    pre_context: ["  const order = await orders.find(id);", "  if (!order) {", "    throw new NotFound(id);"],
    context_line: `  return charge(order.total, customer${n});`,
    post_context: ["}", "", `export function next${n}() {`],
    vars: { id: `ord_${n}8812`, attempt: n, customer: { name: "Jane", tier: "gold" } },
  };
}

/** A server-side error event of about 10 KB, with a little personal data in it. */
function typicalEvent(i: number) {
  return {
    event_id: i.toString(16).padStart(32, "0"), timestamp: 1795420800 + i, platform: "node", level: "error", release: "shop@4.2.0", environment: "production",
    exception: { values: [{ type: "PaymentError", value: "card declined for jane@example.com", stacktrace: { frames: Array.from({ length: 16 }, (_, n) => frame(n)) } }] },
    breadcrumbs: { values: Array.from({ length: 30 }, (_, n) => ({ category: "http", message: `GET https://api.example.com/v1/items/${n}?page=2`, timestamp: 1795420800 + n, data: { status_code: 200 } })) },
    request: { url: "https://shop.example.com/checkout?session=abc", method: "POST", headers: { Authorization: "Bearer abc.def", "User-Agent": "Mozilla/5.0", Accept: "application/json" } },
    user: { id: "u-42", email: "jane@example.com", ip_address: "73.133.27.120" },
    extra: { cart_size: 3, password: "x" },
    contexts: { os: { name: "Linux", version: "6.1.0" }, runtime: { name: "node", version: "v20.20.2" }, trace: { trace_id: "a".repeat(32), span_id: "b".repeat(16) } },
    sdk: { name: "sentry.javascript.node", version: "11.12.0" },
  };
}

/** About 1 MB: thousands of breadcrumbs and log-like strings. */
function largeEvent() {
  const event = typicalEvent(1) as Record<string, any>;
  event.breadcrumbs.values = Array.from({ length: 6000 }, (_, n) => ({
    category: "console", level: "info", timestamp: 1795420800 + n,
    message: `worker ${n} processed batch ${n * 7} in ${n % 97} ms for tenant-${n % 13} (queue depth ${n % 31})`,
    data: { arguments: [`step ${n}`, n, { ok: true }] },
  }));
  return event;
}

function measure(payload: Uint8Array, iterations: number): { usPerItem: number; mbPerSecond: number } {
  const envelope = { header: {}, items: [newItem({ type: "event" }, payload)] };
  for (let i = 0; i < Math.min(50, iterations); i++) scrubEnvelope(envelope, scrubber);
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) scrubEnvelope(envelope, scrubber);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { usPerItem: (seconds / iterations) * 1e6, mbPerSecond: (payload.byteLength * iterations) / seconds / 1e6 };
}

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const typical = encode(typicalEvent(7));
const clean = encode({ ...typicalEvent(7), exception: { values: [{ type: "E", value: "declined", stacktrace: { frames: [] } }] }, user: { id: "u-42" }, request: { url: "https://shop.example.com/checkout", method: "POST" }, extra: { cart_size: 3 } });
const large = encode(largeEvent());

const results = {
  when: new Date().toISOString(),
  node: process.version,
  typical: { bytes: typical.byteLength, ...measure(typical, 3000) },
  cleanNoMatch: { bytes: clean.byteLength, ...measure(clean, 3000) },
  large: { bytes: large.byteLength, ...measure(large, 20) },
};
mkdirSync("bench/results", { recursive: true });
writeFileSync("bench/results/scrub.json", `${JSON.stringify(results, null, 2)}\n`);
console.log("\nscrubbing, per item (parse + one traversal + serialize when changed):");
console.log("| event | bytes | µs per item | MB/s |");
console.log("| --- | --- | --- | --- |");
for (const [name, r] of Object.entries(results).filter(([k]) => k !== "when" && k !== "node") as Array<[string, { bytes: number; usPerItem: number; mbPerSecond: number }]>) {
  console.log(`| ${name} | ${r.bytes} | ${r.usPerItem.toFixed(1)} | ${r.mbPerSecond.toFixed(1)} |`);
}

