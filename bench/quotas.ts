/**
 * Durable Object calls per accepted event with quota leasing on and off,
 * under concurrent load through `wrangler dev`, and the over-admission seen
 * when a quota runs out mid-burst. The counter Durable Object counts its own
 * ingest-path calls (leases and override reads); the admin API reads them out.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { startWrangler } from "../test/e2e/support/wrangler";
import { postMany, startNullUpstream } from "./load";

const KEY = "0123456789abcdef0123456789abcdef";
const TOKEN = "bench-admin-token";
const EVENTS = Number(process.env.BENCH_QUOTA_EVENTS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const BURST_LIMIT = 1000;

const upstream = await startNullUpstream();
const upstreamDsn = `http://${"ab".repeat(16)}@127.0.0.1:${upstream.port}/2`;

function envelope(i: number): string {
  const id = i.toString(16).padStart(32, "0");
  return `{"event_id":"${id}"}\n{"type":"event"}\n{"event_id":"${id}","message":"bench ${i}","level":"error"}`;
}

async function burst(url: string, count: number): Promise<{ accepted: number; limited: number; seconds: number }> {
  const result = await postMany(url, count, CONCURRENCY, envelope, { "x-sentry-auth": `Sentry sentry_key=${KEY}` });
  return { accepted: result.statuses.get(200) ?? 0, limited: result.statuses.get(429) ?? 0, seconds: result.seconds };
}

async function run(leasing: boolean) {
  const config = {
    projects: {
      "1": { keys: [KEY], upstream: upstreamDsn, quotas: [{ id: "errors", categories: ["error"], window: 3600, limit: 1_000_000_000 }] },
      "2": { keys: [KEY], upstream: upstreamDsn, quotas: [{ id: "errors", categories: ["error"], window: 3600, limit: BURST_LIMIT }] },
    },
    limits: { quotaLeases: leasing },
  };
  const relay = await startWrangler({ vars: { RELAY_CONFIG: JSON.stringify(config), ADMIN_TOKEN: TOKEN } });
  const calls = async (project: string) => {
    const res = await fetch(`${relay.url}/admin/projects/${project}/quotas`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const { calls: counted } = (await res.json()) as { calls: { leases: number; overrideReads: number } };
    return counted.leases + counted.overrideReads;
  };
  try {
    const steady = await burst(`${relay.url}/api/1/envelope/`, EVENTS);
    const steadyCalls = await calls("1");
    const over = await burst(`${relay.url}/api/2/envelope/`, BURST_LIMIT * 1.5);
    return {
      leasing,
      steady: { events: EVENTS, accepted: steady.accepted, counterCalls: steadyCalls, callsPerAcceptedEvent: steadyCalls / steady.accepted, eventsPerSecond: EVENTS / steady.seconds },
      burst: { limit: BURST_LIMIT, sent: BURST_LIMIT * 1.5, accepted: over.accepted, limited: over.limited, overAdmitted: over.accepted - BURST_LIMIT, counterCalls: await calls("2") },
    };
  } finally {
    await relay.stop();
  }
}

const results = { when: new Date().toISOString(), concurrency: CONCURRENCY, runs: [await run(true), await run(false)] };
upstream.server.close();
mkdirSync("bench/results", { recursive: true });
writeFileSync("bench/results/quotas.json", `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nquota counter calls, ${EVENTS} events at concurrency ${CONCURRENCY}, then ${BURST_LIMIT * 1.5} against a limit of ${BURST_LIMIT}:`);
console.log("| leasing | counter calls per accepted event | events/s | burst accepted (limit) | over-admitted | burst counter calls |");
console.log("| --- | --- | --- | --- | --- | --- |");
for (const r of results.runs) {
  console.log(`| ${r.leasing ? "on" : "off"} | ${r.steady.callsPerAcceptedEvent.toFixed(4)} (${r.steady.counterCalls} / ${r.steady.accepted}) | ${r.steady.eventsPerSecond.toFixed(0)} | ${r.burst.accepted} (${r.burst.limit}) | ${r.burst.overAdmitted} | ${r.burst.counterCalls} |`);
}
