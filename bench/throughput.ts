/**
 * `npm run bench`: requests per second and latency of the relay against a bare
 * passthrough Worker, both under `wrangler dev` on this machine, both sending
 * to the same do-nothing upstream. Rounds alternate between the two so a noisy
 * neighbour hurts both alike; the ratio of medians is the figure to quote.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { percentile, postMany, startNullUpstream } from "./load";
import { startWrangler, type RunningWorker } from "../test/e2e/support/wrangler";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const KEY = "0123456789abcdef0123456789abcdef";

/** A browser-SDK-sized error event: ~3 KB with a stack trace and breadcrumbs. */
function sampleEnvelope(i: number): string {
  const eventId = i.toString(16).padStart(32, "0");
  const frames = Array.from({ length: 20 }, (_, n) => ({
    filename: `https://app.example.com/assets/chunk-${n}.js`, function: `handler${n}`, lineno: 100 + n, colno: 12, in_app: n > 10,
  }));
  const breadcrumbs = Array.from({ length: 10 }, (_, n) => ({ category: "ui.click", message: `button#save-${n}`, timestamp: 1763884800 + n }));
  const event = {
    event_id: eventId, platform: "javascript", level: "error", timestamp: 1763884800,
    exception: { values: [{ type: "TypeError", value: "Cannot read properties of undefined (reading 'id')", stacktrace: { frames } }] },
    breadcrumbs: { values: breadcrumbs }, request: { url: "https://app.example.com/settings", headers: { "User-Agent": "Mozilla/5.0" } },
    sdk: { name: "sentry.javascript.browser", version: "11.12.0" },
  };
  return `{"event_id":"${eventId}","sent_at":"2026-11-23T08:00:00.000Z"}\n{"type":"event"}\n${JSON.stringify(event)}`;
}

interface RoundResult {
  rps: number;
  p50: number;
  p99: number;
  /** Answers other than 200, by status ("0": no answer at all). */
  nonOk: Record<string, number>;
}

async function load(url: string, body: (i: number) => Uint8Array | string, headers: Record<string, string>): Promise<RoundResult> {
  const result = await postMany(url, REQUESTS, CONCURRENCY, body, headers);
  return {
    rps: REQUESTS / result.seconds,
    p50: percentile(result.latencies, 0.5),
    p99: percentile(result.latencies, 0.99),
    nonOk: Object.fromEntries([...result.statuses].filter(([status]) => status !== 200).map(([status, n]) => [String(status), n])),
  };
}

function mergeCounts(counts: Array<Record<string, number>>): Record<string, number> {
  const merged: Record<string, number> = {};
  for (const count of counts) for (const [status, n] of Object.entries(count)) merged[status] = (merged[status] ?? 0) + n;
  return merged;
}

const describeCounts = (counts: Record<string, number>) =>
  Object.entries(counts).map(([status, n]) => `${n}× ${status === "0" ? "no answer" : status}`).join(", ") || "none";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const upstream = await startNullUpstream();
  const config = JSON.stringify({
    projects: { "1": { keys: [KEY], upstream: `http://${"ab".repeat(16)}@127.0.0.1:${upstream.port}/2` } },
  });
  const workers: RunningWorker[] = [];
  try {
    const relay = await startWrangler({ vars: { RELAY_CONFIG: config } });
    workers.push(relay);
    const pass = await startWrangler({
      configPath: "bench/passthrough/wrangler.toml",
      vars: { UPSTREAM_URL: `http://127.0.0.1:${upstream.port}/api/2/envelope/` },
    });
    workers.push(pass);
    const relayUrl = `${relay.url}/api/1/envelope/`;
    const passUrl = `${pass.url}/`;

    const auth = { "x-sentry-auth": `Sentry sentry_version=7, sentry_key=${KEY}`, "content-type": "text/plain;charset=UTF-8" };
    const workloads = {
      "3 KB error, identity": { body: (i: number) => sampleEnvelope(i), headers: auth },
      "40 KB error, gzip": {
        body: (i: number) => gzipSync(sampleEnvelope(i).replace('"level":"error"', `"level":"error","extra":{"blob":"${"z".repeat(37_000)}"}`)),
        headers: { ...auth, "content-encoding": "gzip" },
      },
    };

    const summary: Record<string, unknown> = {};
    for (const [name, w] of Object.entries(workloads)) {
      // Warm both isolates before measuring.
      await load(relayUrl, w.body, w.headers);
      await load(passUrl, w.body, w.headers);
      const relayRounds: RoundResult[] = [];
      const passRounds: RoundResult[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        passRounds.push(await load(passUrl, w.body, w.headers));
        relayRounds.push(await load(relayUrl, w.body, w.headers));
      }
      const row = {
        relayRps: median(relayRounds.map((r) => r.rps)),
        passthroughRps: median(passRounds.map((r) => r.rps)),
        relayP50ms: median(relayRounds.map((r) => r.p50)),
        passthroughP50ms: median(passRounds.map((r) => r.p50)),
        relayP99ms: median(relayRounds.map((r) => r.p99)),
        passthroughP99ms: median(passRounds.map((r) => r.p99)),
        relayNonOk: mergeCounts(relayRounds.map((r) => r.nonOk)),
        passthroughNonOk: mergeCounts(passRounds.map((r) => r.nonOk)),
      };
      summary[name] = { ...row, throughputRatio: row.relayRps / row.passthroughRps };
    }

    const result = {
      when: new Date().toISOString(),
      requests: REQUESTS, concurrency: CONCURRENCY, rounds: ROUNDS,
      upstreamRequests: upstream.count(),
      workloads: summary,
    };
    mkdirSync("bench/results", { recursive: true });
    writeFileSync("bench/results/throughput.json", `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\n${REQUESTS} requests x ${ROUNDS} rounds, concurrency ${CONCURRENCY}, medians:`);
    console.log("| workload | relay req/s | passthrough req/s | ratio | relay p50 / p99 ms | passthrough p50 / p99 ms | non-200 relay | non-200 passthrough |");
    console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (const [name, r] of Object.entries(summary) as Array<[string, Record<string, any>]>) {
      console.log(`| ${name} | ${r.relayRps.toFixed(0)} | ${r.passthroughRps.toFixed(0)} | ${r.throughputRatio.toFixed(2)} | ${r.relayP50ms.toFixed(1)} / ${r.relayP99ms.toFixed(1)} | ${r.passthroughP50ms.toFixed(1)} / ${r.passthroughP99ms.toFixed(1)} | ${describeCounts(r.relayNonOk)} | ${describeCounts(r.passthroughNonOk)} |`);
    }
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    upstream.server.close();
  }
}

await main();
