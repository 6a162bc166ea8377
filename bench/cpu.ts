/**
 * CPU per pipeline stage for one event envelope, beside the floor any relay
 * that reads and re-sends JSON pays: TextDecoder decode + JSON.parse +
 * JSON.stringify + TextEncoder encode + gzip (zlib level 6, the default of
 * CompressionStream) of the same payload. Runs in Node's V8, the engine
 * workerd embeds. The stages are the pipeline's own functions, in its order,
 * on a fresh parse of the envelope each time; a batch of envelopes goes
 * through one stage at a time, and each stage is timed by the process's CPU
 * time (process.cpuUsage: user + system), which a busy machine does not
 * inflate as it does wall time. Figures are µs per event, the median of
 * the rounds.
 *
 * Inputs: the envelope the real @sentry/node sends for a server error
 * (bench/fixtures/node-event.envelope, from capture-node-event.ts), a
 * browser event (bench/fixtures/browser-event.envelope, written by hand in
 * the shape @sentry/browser 11 sends, since no browser runs here), and a
 * ~1 MB event (the node event grown with console breadcrumbs).
 *
 * BENCH_BASE=<dir> also measures the src/ of another checkout, in the same
 * process, round by round in turn with this one, so before/after ratios come
 * from one run on a shared, noisy machine; both must give the same bytes:
 *   mkdir /tmp/base && git archive <commit> src | tar -x -C /tmp/base
 *   ln -s "$PWD/node_modules" /tmp/base/node_modules
 *   BENCH_BASE=/tmp/base npm run bench:cpu
 * BENCH_ROUNDS (default 7) and BENCH_SCALE (default 1) tune the run length.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";

type Bytes = Uint8Array;
type Json = Record<string, any>;

const HERE = dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const KEY = "0123456789abcdef0123456789abcdef";
/** CompressionStream has no level: zlib's default, 6. */
const DEFAULT_LEVEL = 6;
const STAGES = ["parse", "validate", "filter", "fingerprint", "scrub", "serialize", "gzip"] as const;
type Stage = (typeof STAGES)[number];

/** The pipeline's stage functions, loaded from one checkout's src/. */
interface Pipeline {
  label: string;
  parseEnvelope(bytes: Bytes): Json;
  validateItems(envelope: Json, limits: Json): { envelope: Json };
  filterEnvelope(envelope: Json, filters: Json): { envelope: Json };
  cachedItemJson(item: Json): unknown;
  fingerprint(event: Json): string;
  keepBySample(id: string, rate: number): boolean;
  scrubEnvelope(envelope: Json, scrubber: unknown): { envelope: Json };
  scrubber: unknown;
  /** The same scrubber without its pattern rules: what the walk, key rules and selectors cost alone. */
  walkOnly: unknown;
  serializeEnvelope(envelope: Json): Bytes;
  /** The bytes the forwarder sends: gzipped as the checkout gzips them. */
  gzipForWire(bytes: Bytes): Bytes;
  gzipLevel: number;
  limits: Json;
  filters: Json;
}

async function loadPipeline(root: string, label: string): Promise<Pipeline> {
  const load = (path: string) => import(pathToFileURL(join(root, "src", path)).href);
  const [parse, validate, filters, envelope, fp, sample, compile, scrub, serialize, compress, schema] = await Promise.all([
    load("envelope/parse.ts"), load("ingest/validate.ts"), load("filters/stage.ts"), load("envelope/envelope.ts"),
    load("spike/fingerprint.ts"), load("spike/sample.ts"), load("scrub/compile.ts"), load("scrub/envelope.ts"),
    load("envelope/serialize.ts"), load("forward/compress.ts"), load("config/schema.ts"),
  ]);
  const config = schema.relayConfigSchema.parse({ projects: { "1": { keys: [KEY], upstream: "https://upstream@o1.ingest.example.com/1" } } });
  const project = config.projects["1"];
  if (!project.scrub.defaults || !project.scrub.scrubIpAddresses) throw new Error("expected the default scrub config: defaults + scrubIpAddresses");
  const scrubber = compile.compileScrubber(project.scrub);
  return {
    label,
    parseEnvelope: parse.parseEnvelope,
    validateItems: validate.validateItems,
    filterEnvelope: filters.filterEnvelope,
    cachedItemJson: envelope.cachedItemJson,
    fingerprint: fp.fingerprint,
    keepBySample: sample.keepBySample,
    scrubEnvelope: scrub.scrubEnvelope,
    scrubber,
    walkOnly: { ...scrubber, defaults: scrubber.defaults.filter((rule: Json) => rule.kind !== "pattern") },
    serializeEnvelope: serialize.serializeEnvelope,
    // Before the synchronous wire gzip, the forwarder used CompressionStream, which is zlib at level 6.
    gzipForWire: compress.gzipBytes ?? ((bytes: Bytes) => gzipSync(bytes, { level: DEFAULT_LEVEL })),
    gzipLevel: compress.GZIP_LEVEL ?? DEFAULT_LEVEL,
    limits: config.limits,
    filters: project.filters,
  };
}

/** CPU time of this process (user + system), in µs: what a busy, shared machine does not inflate as it does wall time. */
function cpu(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/**
 * The pipeline's stages on `count` fresh parses of one envelope, as
 * `runPipeline` runs them minus the I/O, stage by stage over the batch so
 * each stage's CPU time is read once per batch. Adds µs to `times`; returns
 * the last serialized envelope.
 */
function runBatch(p: Pipeline, bytes: Bytes, count: number, times: Float64Array): Bytes {
  const batch: Json[] = new Array(count);
  let t = cpu();
  const lap = (stage: number) => {
    const now = cpu();
    times[stage]! += now - t;
    t = now;
  };
  for (let i = 0; i < count; i++) batch[i] = p.parseEnvelope(bytes);
  lap(0);
  for (let i = 0; i < count; i++) batch[i] = p.validateItems(batch[i]!, p.limits).envelope;
  lap(1);
  for (let i = 0; i < count; i++) batch[i] = p.filterEnvelope(batch[i]!, p.filters).envelope;
  lap(2);
  // The pure part of spike + sampling: the fingerprint and the sampling decision.
  for (let i = 0; i < count; i++) {
    const item = batch[i]!.items.find((it: Json) => it.header.type === "event");
    const event = p.cachedItemJson(item) as Json;
    p.fingerprint(event);
    p.keepBySample(String(event.contexts?.trace?.trace_id ?? event.event_id), 0.5);
  }
  lap(3);
  for (let i = 0; i < count; i++) batch[i] = p.scrubEnvelope(batch[i]!, p.scrubber).envelope;
  lap(4);
  const out: Bytes[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = p.serializeEnvelope(batch[i]!);
  lap(5);
  for (let i = 0; i < count; i++) p.gzipForWire(out[i]!);
  lap(6);
  return out[count - 1]!;
}

/** µs of scrubbing alone on `count` fresh parses, with the given scrubber. */
function scrubBatch(p: Pipeline, bytes: Bytes, count: number, scrubber: unknown): number {
  const batch: Json[] = new Array(count);
  for (let i = 0; i < count; i++) batch[i] = p.validateItems(p.parseEnvelope(bytes), p.limits).envelope;
  const start = cpu();
  for (let i = 0; i < count; i++) p.scrubEnvelope(batch[i]!, scrubber);
  return cpu() - start;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * What any relay that reads the event and sends it on gzipped pays at least,
 * on `count` copies: adds µs of decode + parse + stringify + encode to
 * `times[0]`, of gzip at level 6 to `times[1]`, at `level` to `times[2]`.
 */
function floorBatch(payload: Bytes, count: number, level: number, times: Float64Array): void {
  const encoded: Bytes[] = new Array(count);
  const t0 = cpu();
  for (let i = 0; i < count; i++) encoded[i] = encoder.encode(JSON.stringify(JSON.parse(decoder.decode(payload))));
  const t1 = cpu();
  for (let i = 0; i < count; i++) gzipSync(encoded[i]!, { level: DEFAULT_LEVEL });
  const t2 = cpu();
  for (let i = 0; i < count; i++) gzipSync(encoded[i]!, { level });
  const t3 = cpu();
  times[0]! += t1 - t0;
  times[1]! += t2 - t1;
  times[2]! += t3 - t2;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function eventPayload(bytes: Bytes): Bytes {
  const lines = decoder.decode(bytes).split("\n");
  const at = lines.findIndex((line) => line.startsWith("{") && JSON.parse(line).type === "event");
  return encoder.encode(lines[at + 1]!);
}

/** The node event grown to 1 MB with console breadcrumbs (under the default 1 MiB event cap). */
function largeEnvelope(node: Bytes): Bytes {
  const [header, itemHeader, payload] = decoder.decode(node).split("\n");
  const event = JSON.parse(payload!) as Json;
  const start = event.timestamp - 600;
  let size = payload!.length;
  for (let n = 0; size < 1_000_000; n++) {
    size += JSON.stringify(event.breadcrumbs[event.breadcrumbs.push({
      timestamp: start + n * 0.1, category: "console", level: "info", logger: "console",
      message: `worker ${n} processed batch ${n * 7} in ${n % 97} ms for tenant-${n % 13} (queue depth ${n % 31})`,
      data: { arguments: [`step ${n}`, n, { ok: true, shard: `s-${n % 8}` }], logger: "console" },
    }) - 1]).length + 1;
  }
  return encoder.encode(`${header}\n${itemHeader}\n${JSON.stringify(event)}\n`);
}

interface Input {
  name: string;
  note: string;
  bytes: Bytes;
  /** Events per round, run in batches of `batch`. */
  iterations: number;
  batch: number;
}

const nodeEnvelope = new Uint8Array(readFileSync(join(HERE, "fixtures/node-event.envelope")));
const inputs: Input[] = [
  { name: "node", note: "@sentry/node 11.12, captured", bytes: nodeEnvelope, iterations: 400, batch: 40 },
  { name: "browser", note: "browser-SDK shape, hand-written", bytes: new Uint8Array(readFileSync(join(HERE, "fixtures/browser-event.envelope"))), iterations: 1200, batch: 120 },
  { name: "large", note: "the node event + ~4,000 console breadcrumbs", bytes: largeEnvelope(nodeEnvelope), iterations: 6, batch: 1 },
];

const pipelines = [await loadPipeline(resolve(HERE, ".."), "current")];
if (process.env.BENCH_BASE) pipelines.unshift(await loadPipeline(resolve(process.env.BENCH_BASE), "base"));
const wireLevel = pipelines.at(-1)!.gzipLevel;

interface StageRow {
  stages: Record<Stage, number>;
  total: number;
}

const results: Record<string, unknown> = {};
for (const input of inputs) {
  const batches = Math.max(2, Math.round((input.iterations * SCALE) / input.batch));
  const iterations = batches * input.batch;
  const payload = eventPayload(input.bytes);
  // Same output from every checkout, or the difference shown: an optimization must not change a byte unnoticed.
  const outputs = pipelines.map((p) => runBatch(p, input.bytes, 1, new Float64Array(STAGES.length)));
  for (const [index, out] of outputs.entries()) {
    if (index === 0 || Buffer.compare(Buffer.from(out), Buffer.from(outputs[0]!)) === 0) continue;
    if (!process.env.BENCH_ALLOW_DIFF) throw new Error(`${input.name}: the checkouts disagree on the scrubbed envelope (set BENCH_ALLOW_DIFF=1 when the change is meant)`);
    console.log(`${input.name}: ${pipelines[index]!.label} differs from ${pipelines[0]!.label}: ${changedTokens(outputs[0]!, out).join(" | ")}`);
  }
  // Warm up every path before anything is timed.
  for (let i = 0; i < Math.min(batches, 5); i++) {
    for (const p of pipelines) runBatch(p, input.bytes, input.batch, new Float64Array(STAGES.length));
    floorBatch(payload, input.batch, wireLevel, new Float64Array(3));
  }
  const perRound = new Map<string, number[][]>(pipelines.map((p) => [p.label, STAGES.map(() => [])]));
  const walkRounds = new Map<string, number[]>(pipelines.map((p) => [p.label, []]));
  const floorRounds: number[][] = [[], [], []];
  for (let round = 0; round < ROUNDS; round++) {
    for (const p of pipelines) {
      const times = new Float64Array(STAGES.length);
      for (let i = 0; i < batches; i++) runBatch(p, input.bytes, input.batch, times);
      times.forEach((us, stage) => perRound.get(p.label)![stage]!.push(us / iterations));
      let walk = 0;
      for (let i = 0; i < batches; i++) walk += scrubBatch(p, input.bytes, input.batch, p.walkOnly);
      walkRounds.get(p.label)!.push(walk / iterations);
    }
    const floor = new Float64Array(3);
    for (let i = 0; i < batches; i++) floorBatch(payload, input.batch, wireLevel, floor);
    floor.forEach((us, part) => floorRounds[part]!.push(us / iterations));
  }
  const floorJson = median(floorRounds[0]!);
  const floorGzip = median(floorRounds[1]!);
  const floorGzipAtWireLevel = median(floorRounds[2]!);
  const floor = floorJson + floorGzip;
  const rows: Record<string, StageRow & { overFloor: number; overFloorAtWireLevel: number; scrubWithoutPatterns: number }> = {};
  for (const p of pipelines) {
    const stages = Object.fromEntries(STAGES.map((s, i) => [s, median(perRound.get(p.label)![i]!)])) as Record<Stage, number>;
    const total = STAGES.reduce((sum, s) => sum + stages[s], 0);
    rows[p.label] = {
      stages, total, overFloor: total / floor, overFloorAtWireLevel: total / (floorJson + floorGzipAtWireLevel),
      scrubWithoutPatterns: median(walkRounds.get(p.label)!),
    };
  }
  results[input.name] = {
    note: input.note, bytes: input.bytes.byteLength, wireBytes: Object.fromEntries(pipelines.map((p) => [p.label, p.gzipForWire(outputs[0]!).byteLength])),
    iterations, rounds: ROUNDS, floor: { json: floorJson, gzip: floorGzip, total: floor, gzipAtWireLevel: floorGzipAtWireLevel, wireLevel }, pipelines: rows,
  };

  const fmt = (us: number) => (us >= 1000 ? us.toFixed(0) : us.toFixed(1));
  const lines = [
    `${input.name}: ${input.bytes.byteLength} bytes (${input.note}); µs per event, median of ${ROUNDS} rounds × ${iterations}`,
    `| | ${STAGES.join(" | ")} | total | floor | total/floor | total/floor with gzip at ${wireLevel} |`,
    `| --- |${" --- |".repeat(STAGES.length + 4)}`,
    ...pipelines.map((p) => {
      const r = rows[p.label]!;
      return `| ${p.label} | ${STAGES.map((s) => fmt(r.stages[s])).join(" | ")} | ${fmt(r.total)} | ${fmt(floor)} | ${r.overFloor.toFixed(2)}× | ${r.overFloorAtWireLevel.toFixed(2)}× |`;
    }),
    `floor: decode+parse+stringify+encode ${fmt(floorJson)} µs, gzip level ${DEFAULT_LEVEL} ${fmt(floorGzip)} µs (level ${wireLevel}: ${fmt(floorGzipAtWireLevel)} µs)`,
    `scrub without its pattern rules (walk, key rules, selectors, re-encoding): ${pipelines.map((p) => `${p.label} ${fmt(rows[p.label]!.scrubWithoutPatterns)} µs`).join(", ")}`,
  ];
  console.log(`\n${lines.join("\n")}`);
}

/** gzip CPU and output size by level, on each serialized envelope: the data behind the wire level. */
const levels: Record<string, Array<{ level: number; us: number; bytes: number }>> = {};
const levelLines = ["| input | " + [1, 2, 3, 4, 5, 6, 9].map((l) => `level ${l}`).join(" | ") + " |", `| --- |${" --- |".repeat(7)}`];
for (const input of inputs) {
  const out = pipelines.at(-1)!.serializeEnvelope(pipelines.at(-1)!.parseEnvelope(input.bytes));
  const iterations = Math.max(2, Math.round(input.iterations * SCALE * 2));
  levels[input.name] = [1, 2, 3, 4, 5, 6, 9].map((level) => {
    for (let i = 0; i < Math.min(iterations, 20); i++) gzipSync(out, { level });
    const rounds: number[] = [];
    let bytes = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const start = cpu();
      for (let i = 0; i < iterations; i++) bytes = gzipSync(out, { level }).byteLength;
      rounds.push((cpu() - start) / iterations);
    }
    return { level, us: median(rounds), bytes };
  });
  levelLines.push(`| ${input.name} (${out.byteLength} B) | ${levels[input.name]!.map((l) => `${l.us.toFixed(1)} µs, ${l.bytes} B`).join(" | ")} |`);
}
console.log(`\ngzip of the serialized envelope, µs and bytes by level:\n${levelLines.join("\n")}`);

mkdirSync(join(HERE, "results"), { recursive: true });
writeFileSync(
  join(HERE, "results/cpu.json"),
  `${JSON.stringify({ when: new Date().toISOString(), node: process.version, v8: process.versions.v8, inputs: results, gzipLevels: levels }, null, 2)}\n`,
);

/** The first few whitespace-separated tokens of `b` that differ from `a`'s, to show what a behaviour change changed. */
function changedTokens(a: Bytes, b: Bytes): string[] {
  const split = (bytes: Bytes) => new TextDecoder().decode(bytes).split(/[\s,{}]/);
  const before = new Set(split(a));
  return split(b).filter((token) => !before.has(token)).slice(0, 5).map((token) => token.slice(0, 80));
}
