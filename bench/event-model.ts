/**
 * What the event read model adds per event: a ~10 KB browser error event is
 * parsed, then read by every stage that reads events (inbound filters with
 * every filter on, the fingerprint, the sampling id) two ways in one run:
 *
 * - before: the stages' old direct reads of the parsed JSON
 *   (bench/event-model-before.ts, verbatim from before src/event/);
 * - after: the same reads through `readEvent`, built fresh for each event.
 *
 * Each iteration parses the bytes anew so no cache hides the model's cost.
 * Prints microseconds per event and writes bench/results/event-model.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { readEvent } from "../src/event";
import { inboundFilter, type FilterConfig } from "../src/filters/inbound";
import { fingerprintComponents } from "../src/spike/fingerprint";
import { fingerprintComponentsBefore, inboundFilterBefore } from "./event-model-before";

const ITERATIONS = Number(process.env.BENCH_EVENT_MODEL_ITERATIONS ?? 20_000);
const ROUNDS = 5;

const config: FilterConfig = {
  localhost: true, browserExtensions: true, webCrawlers: true, legacyBrowsers: true, healthChecks: true,
  errorMessages: ["*connection reset*"], releases: ["*-beta*"],
};

function browserEvent(): Uint8Array {
  const frames = Array.from({ length: 30 }, (_, n) => ({
    filename: `https://app.example.com/static/js/chunk-${n}.3fa2b1c9.js`, abs_path: `https://app.example.com/static/js/chunk-${n}.3fa2b1c9.js`,
    function: `handler${n}`, lineno: 100 + n, colno: 17, in_app: n > 5,
  }));
  const event = {
    event_id: "9ec79c33ec9942ab8353589fcb2e04dc", timestamp: 1_763_884_800, platform: "javascript", level: "error",
    release: "web@4.12.0", environment: "production", transaction: "/checkout/:step",
    exception: { values: [{ type: "TypeError", value: "Cannot read properties of undefined (reading 'total')", mechanism: { type: "onerror", handled: false }, stacktrace: { frames } }] },
    request: { url: "https://app.example.com/checkout/pay", headers: { "User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", Referer: "https://app.example.com/cart" } },
    user: { id: "42", ip_address: "73.133.27.120" },
    contexts: { trace: { trace_id: "4bf92f3577b34da6a3ce929d0e0e4736", span_id: "00f067aa0ba902b7" }, browser: { name: "Chrome", version: "131.0.0.0" }, os: { name: "Windows", version: "10" } },
    breadcrumbs: { values: Array.from({ length: 25 }, (_, n) => ({ category: n % 2 ? "ui.click" : "fetch", message: `GET /api/items/${n}?page=${n}`, level: "info", timestamp: 1_763_884_700 + n, data: { status_code: 200 } })) },
    tags: { region: "eu", plan: "pro" },
    sdk: { name: "sentry.javascript.browser", version: "10.0.0" },
  };
  return new TextEncoder().encode(JSON.stringify(event));
}

function oldSamplingId(event: Record<string, any>): string {
  const trace = event?.contexts?.trace?.trace_id;
  return typeof trace === "string" && trace !== "" ? trace : String(event?.event_id ?? "");
}

// ------------------------------------------------ the same reads through the model

function newReads(json: unknown): number {
  const event = readEvent(json);
  const verdict = inboundFilter(event, "event", config);
  const components = fingerprintComponents(event);
  const id = event.trace_id ?? event.event_id ?? "";
  return (verdict ? 1 : 0) + components.length + id.length;
}

function oldReads(json: unknown): number {
  const event = json as Record<string, any>;
  const verdict = inboundFilterBefore(event, "event", config);
  const components = fingerprintComponentsBefore(event);
  return (verdict ? 1 : 0) + components.length + oldSamplingId(event).length;
}

// ------------------------------------------------ timing

const bytes = browserEvent();
const decoder = new TextDecoder();
let sink = 0;

function time(label: string, body: (json: unknown) => number): number {
  for (let i = 0; i < 2_000; i++) sink += body(JSON.parse(decoder.decode(bytes)));
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    for (let i = 0; i < ITERATIONS; i++) sink += body(JSON.parse(decoder.decode(bytes)));
    best = Math.min(best, ((performance.now() - start) * 1000) / ITERATIONS);
  }
  console.log(`${label.padEnd(34)} ${best.toFixed(2)} µs/event`);
  return best;
}

// Both sides read the same things: a sanity check before timing.
if (oldSamplingId(JSON.parse(decoder.decode(bytes))) !== readEvent(JSON.parse(decoder.decode(bytes))).trace_id) throw new Error("bench: the two reads disagree");
if (fingerprintComponentsBefore(JSON.parse(decoder.decode(bytes))).join() !== fingerprintComponents(JSON.parse(decoder.decode(bytes))).join()) throw new Error("bench: fingerprints disagree");

console.log(`event model: ${bytes.byteLength} byte event, best of ${ROUNDS} rounds of ${ITERATIONS}`);
const parse = time("parse only", () => 0);
const before = time("parse + stage reads (before)", oldReads);
const after = time("parse + stage reads (read model)", newReads);
const added = after - before;
console.log(`read model adds ${added.toFixed(2)} µs per event (${((added / before) * 100).toFixed(1)}% of parse + reads; reads alone ${(before - parse).toFixed(2)} → ${(after - parse).toFixed(2)} µs)`);

mkdirSync("bench/results", { recursive: true });
writeFileSync("bench/results/event-model.json", `${JSON.stringify({ eventBytes: bytes.byteLength, iterations: ITERATIONS, parseMicros: parse, beforeMicros: before, afterMicros: after, addedMicros: added, sink: sink > 0 }, null, 2)}\n`);
