/**
 * What spike protection saves on a realistic mix, through `wrangler dev`:
 * 10,000 error events, 90% from 3 hot fingerprints and 10% from 200 rare
 * ones, against a project with `spike: { perFingerprint: 100 }`. Counts the
 * events and bytes the upstream receives, checks every rare fingerprint got
 * there, and that the client reports account for every event dropped.
 */
import { once } from "node:events";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { startWrangler } from "../test/e2e/support/wrangler";
import { postMany } from "./load";

const KEY = "0123456789abcdef0123456789abcdef";
const TOTAL = Number(process.env.BENCH_SPIKE_EVENTS ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const HOT = ["checkoutTotal", "renderAvatar", "pollInbox"];
const RARE = Array.from({ length: 200 }, (_, i) => `rareBug${i}`);

/** Deterministic mix: every 10th event is rare (cycling through all 200), the rest hot. */
function bugFor(i: number): string {
  return i % 10 === 9 ? RARE[Math.floor(i / 10) % RARE.length]! : HOT[i % HOT.length]!;
}

function envelope(i: number): string {
  const bug = bugFor(i);
  const id = (i + 1).toString(16).padStart(32, "0");
  const frames = Array.from({ length: 12 }, (_, n) => ({ filename: `/srv/app/src/module${n}.js`, function: n === 11 ? bug : `caller${n}`, lineno: 10 + n, in_app: true }));
  const event = {
    event_id: id, level: "error", platform: "node",
    exception: { values: [{ type: "TypeError", value: `${bug}: cannot read properties of undefined (request ${i})`, stacktrace: { frames } }] },
    breadcrumbs: { values: Array.from({ length: 10 }, (_, n) => ({ category: "http", message: `GET /api/items/${n}`, timestamp: 1795420800 + n })) },
    tags: { bug },
  };
  return `{"event_id":"${id}"}\n{"type":"event"}\n${JSON.stringify(event)}`;
}

const received = { events: 0, bytes: 0, rawBytes: 0, byBug: new Map<string, number>(), reportedDrops: 0 };
const upstream = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const wire = Buffer.concat(chunks);
    received.bytes += wire.byteLength;
    const text = (req.headers["content-encoding"] === "gzip" ? gunzipSync(wire) : wire).toString("utf8");
    received.rawBytes += Buffer.byteLength(text);
    const lines = text.trimEnd().split("\n");
    for (let n = 1; n + 1 < lines.length; n += 2) {
      const type = JSON.parse(lines[n]!).type;
      const payload = JSON.parse(lines[n + 1]!);
      if (type === "event") {
        received.events++;
        received.byBug.set(payload.tags.bug, (received.byBug.get(payload.tags.bug) ?? 0) + 1);
      } else if (type === "client_report") {
        for (const e of payload.rate_limited_events ?? []) if (e.reason === "spike_protection") received.reportedDrops += e.quantity;
      }
    }
    res.writeHead(200, { "content-type": "application/json" }).end('{"id":null}');
  });
});
upstream.listen(0, "127.0.0.1");
await once(upstream, "listening");
const port = (upstream.address() as AddressInfo).port;

const relay = await startWrangler({
  vars: {
    RELAY_CONFIG: JSON.stringify({
      projects: { "1": { keys: [KEY], upstream: `http://${"ab".repeat(16)}@127.0.0.1:${port}/2`, spike: { perFingerprint: 100, window: 60 } } },
    }),
  },
});
try {
  const sentBytes = Array.from({ length: TOTAL }, (_, i) => Buffer.byteLength(envelope(i))).reduce((a, b) => a + b, 0);
  const result = await postMany(`${relay.url}/api/1/envelope/`, TOTAL, CONCURRENCY, envelope, { "x-sentry-auth": `Sentry sentry_key=${KEY}` });
  // One more event from a new bug carries the last pending counts upstream.
  await fetch(`${relay.url}/api/1/envelope/`, { method: "POST", body: envelope(TOTAL * 10 + 9).replace(/rareBug\d+/g, "finalBug"), headers: { "x-sentry-auth": `Sentry sentry_key=${KEY}` } });
  await new Promise((resolve) => setTimeout(resolve, 500));

  const rareSeen = RARE.filter((bug) => (received.byBug.get(bug) ?? 0) > 0).length;
  const relayedEvents = received.events - (received.byBug.get("finalBug") ?? 0);
  const summary = {
    when: new Date().toISOString(),
    sent: { events: TOTAL, bytes: sentBytes, accepted200: result.statuses.get(200) ?? 0 },
    upstream: { events: relayedEvents, bytesOnTheWire: received.bytes, bytesUncompressed: received.rawBytes },
    reduction: { events: 1 - relayedEvents / TOTAL, bytesUncompressed: 1 - received.rawBytes / sentBytes, bytesOnTheWire: 1 - received.bytes / sentBytes },
    rareFingerprints: { sent: RARE.length, arrived: rareSeen },
    hotFingerprints: Object.fromEntries(HOT.map((bug) => [bug, received.byBug.get(bug) ?? 0])),
    clientReports: { spikeProtectedReported: received.reportedDrops, droppedAtEdge: TOTAL - relayedEvents, exact: received.reportedDrops === TOTAL - relayedEvents },
    seconds: result.seconds,
  };
  mkdirSync("bench/results", { recursive: true });
  writeFileSync("bench/results/spike.json", `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`\nspike protection on ${TOTAL} events (90% from ${HOT.length} hot fingerprints, 10% from ${RARE.length} rare), perFingerprint 100:`);
  console.log("| sent events / bytes | upstream events / bytes (uncompressed, on the wire) | events cut | bytes cut (uncompressed, wire) | rare fingerprints arrived | drops reported exactly |");
  console.log("| --- | --- | --- | --- | --- | --- |");
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  console.log(`| ${TOTAL} / ${sentBytes} | ${relayedEvents} / ${received.rawBytes}, ${received.bytes} | ${pct(summary.reduction.events)} | ${pct(summary.reduction.bytesUncompressed)}, ${pct(summary.reduction.bytesOnTheWire)} | ${rareSeen} / ${RARE.length} | ${summary.clientReports.exact ? "yes" : "NO"} (${received.reportedDrops}) |`);
} finally {
  await relay.stop();
  upstream.close();
}
