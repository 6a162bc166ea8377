/**
 * `npm run bench:memory`: how much memory a large attachment costs. Each Worker
 * runs under `wrangler dev`; while envelopes carrying a 64 MiB attachment pass
 * through it to a do-nothing upstream, the resident set of its workerd process
 * is sampled every 10 ms. The figure is the peak above the idle baseline, for:
 * the relay as shipped (attachments streamed through R2), the relay with
 * streaming turned off (everything held, as before), and a bare passthrough
 * Worker (request.body piped to fetch: the least any Worker can hold), and a
 * Worker that only writes the body to R2 and sends it on from there (what
 * local R2, simulated inside the same workerd process, costs by itself).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import type { Writable } from "node:stream";
import { createGzip } from "node:zlib";
import { startNullUpstream } from "./load";
import { startWrangler, type RunningWorker } from "../test/e2e/support/wrangler";

const MiB = 1024 * 1024;
/** Attachment sizes, each sent REPEATS times to each Worker, smallest first. */
const SIZES_MIB = (process.env.BENCH_SIZES_MIB ?? "16,64,96").split(",").map(Number);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const KEY = "0123456789abcdef0123456789abcdef";

/**
 * The workerd processes of a `wrangler dev` (wrangler's process group holds
 * them): wrangler 4 runs two, its proxy on the public port and the runtime
 * that runs the Worker; both are counted.
 */
function workerdPids(worker: RunningWorker): number[] {
  const out = execFileSync("ps", ["-o", "pid=,comm=", "-g", String(worker.pid)], { encoding: "utf8" });
  const pids = out.split("\n").filter((l) => l.trim().endsWith("workerd")).map((l) => Number(l.trim().split(/\s+/)[0]));
  if (pids.length === 0) throw new Error(`no workerd process in group ${worker.pid}:\n${out}`);
  return pids;
}

const rssBytes = (pids: number[]) =>
  pids.reduce((sum, pid) => sum + Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024, 0);

/**
 * One envelope with an event and a `sizeMiB` attachment, streamed to `url` in
 * 1 MiB chunks; gzipped on the way (chunked, as @sentry/node sends large
 * bodies) when `headers` say so.
 */
function sendLarge(url: string, headers: Record<string, string>, chunk: Buffer, sizeMiB: number): Promise<number> {
  const size = sizeMiB * MiB;
  const eventId = randomBytes(16).toString("hex");
  const head = `{"event_id":"${eventId}"}\n{"type":"event"}\n{"event_id":"${eventId}","message":"memory bench"}\n{"type":"attachment","length":${size},"filename":"core.dmp"}\n`;
  const length = Buffer.byteLength(head) + size + 1;
  const gzipped = headers["content-encoding"] === "gzip";
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers: gzipped ? headers : { ...headers, "content-length": String(length) } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    const out: Writable = gzipped ? createGzip() : req;
    if (gzipped) out.pipe(req);
    out.write(head);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        sent += chunk.byteLength;
        if (!out.write(chunk)) return void out.once("drain", pump);
      }
      out.end("\n");
    };
    pump();
  });
}

interface Measured {
  baselineMiB: number;
  peakAboveBaselineMiB: number;
  seconds: number;
  statuses: number[];
}

async function measure(worker: RunningWorker, url: string, headers: Record<string, string>, sizeMiB: number): Promise<Measured> {
  const pid = workerdPids(worker);
  const chunk = randomBytes(MiB);
  // Warm up: the first request compiles and instantiates the Worker.
  await sendSmall(url, headers);
  await new Promise((r) => setTimeout(r, 2000));
  const baseline = rssBytes(pid);
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 10);
  const started = performance.now();
  const statuses: number[] = [];
  try {
    for (let i = 0; i < REPEATS; i++) statuses.push(await sendLarge(url, headers, chunk, sizeMiB));
  } finally {
    clearInterval(sampler);
  }
  return {
    baselineMiB: round(baseline / MiB),
    peakAboveBaselineMiB: round((peak - baseline) / MiB),
    seconds: round((performance.now() - started) / 1000),
    statuses,
  };
}

async function sendSmall(url: string, headers: Record<string, string>): Promise<void> {
  const response = await fetch(url, { method: "POST", headers, body: '{}\n{"type":"event"}\n{"message":"warm-up"}' });
  await response.arrayBuffer();
}

const round = (n: number) => Math.round(n * 10) / 10;

async function main(): Promise<void> {
  const upstream = await startNullUpstream();
  const upstreamDsn = `http://${"ab".repeat(16)}@127.0.0.1:${upstream.port}/2`;
  const auth = { "x-sentry-auth": `Sentry sentry_version=7, sentry_key=${KEY}`, "content-type": "application/x-sentry-envelope" };
  const big = 1024 * MiB;
  const variants: Array<{ name: string; start: () => Promise<RunningWorker>; path: string; headers: Record<string, string> }> = [
    {
      name: "relay (attachments streamed through R2, the default)",
      start: () => startWrangler({ vars: { RELAY_CONFIG: JSON.stringify({ projects: { "1": { keys: [KEY], upstream: upstreamDsn } } }) } }),
      path: "/api/1/envelope/",
      headers: auth,
    },
    {
      name: "relay, body gzipped by the sender (inflated as it arrives)",
      start: () => startWrangler({ vars: { RELAY_CONFIG: JSON.stringify({ projects: { "1": { keys: [KEY], upstream: upstreamDsn } } }) } }),
      path: "/api/1/envelope/",
      headers: { ...auth, "content-encoding": "gzip" },
    },
    {
      name: "relay with streaming off (everything held in memory)",
      start: () =>
        startWrangler({
          vars: {
            RELAY_CONFIG: JSON.stringify({
              projects: { "1": { keys: [KEY], upstream: upstreamDsn } },
              limits: { streamItemBytes: big, maxBufferedBytes: big, maxCompressedBytes: big, maxDecompressedBytes: big },
            }),
          },
        }),
      path: "/api/1/envelope/",
      headers: auth,
    },
    {
      name: "R2 round trip alone (bench/r2-roundtrip: body to R2 and back to fetch)",
      start: () => startWrangler({ configPath: "bench/r2-roundtrip/wrangler.toml", vars: { UPSTREAM_URL: `http://127.0.0.1:${upstream.port}/api/2/envelope/` } }),
      path: "/",
      headers: auth,
    },
    {
      name: "bare passthrough Worker (request.body piped to fetch)",
      start: () => startWrangler({ configPath: "bench/passthrough/wrangler.toml", vars: { UPSTREAM_URL: `http://127.0.0.1:${upstream.port}/api/2/envelope/` } }),
      path: "/",
      headers: auth,
    },
  ];

  const results: Record<string, Record<string, Measured>> = {};
  try {
    // A fresh Worker for every size: a heap already grown by a larger body would hide the next one's cost.
    // BENCH_ONLY=<words>: only the variants whose name contains them.
    for (const variant of variants.filter((v) => v.name.includes(process.env.BENCH_ONLY ?? ""))) {
      results[variant.name] = {};
      for (const size of SIZES_MIB) {
        const worker = await variant.start();
        try {
          const measured = await measure(worker, `${worker.url}${variant.path}`, variant.headers, size);
          results[variant.name]![`${size} MiB`] = measured;
          console.log(`${variant.name}, ${size} MiB: ${JSON.stringify(measured)}`);
        } finally {
          await worker.stop();
        }
      }
    }
  } finally {
    upstream.server.close();
  }

  console.log(`\nPeak workerd resident set above idle while ${REPEATS} envelopes pass, one at a time, by attachment size (MiB/s in brackets):`);
  console.log(`| Worker | ${SIZES_MIB.map((m) => `${m} MiB`).join(" | ")} |`);
  console.log(`| --- |${SIZES_MIB.map(() => " --- |").join("")}`);
  for (const [name, bySize] of Object.entries(results)) {
    const cells = SIZES_MIB.map((size) => {
      const m = bySize[`${size} MiB`]!;
      const ok = m.statuses.every((status) => status === 200) ? "" : ` statuses ${m.statuses.join(",")}`;
      return `+${m.peakAboveBaselineMiB} MiB (${((REPEATS * size) / m.seconds).toFixed(0)})${ok}`;
    });
    console.log(`| ${name} | ${cells.join(" | ")} |`);
  }
  mkdirSync("bench/results", { recursive: true });
  writeFileSync(
    "bench/results/memory.json",
    `${JSON.stringify({ date: new Date().toISOString(), sizesMiB: SIZES_MIB, repeats: REPEATS, results }, null, 2)}\n`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
