/**
 * `npm run corpus`: drives real, unmodified Sentry clients against a local
 * recorder and writes what they sent to test/fixtures/corpus/ (one file per
 * request, an index.json, and README.md with the client × item-type table).
 */
import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { startWrangler } from "../../test/e2e/support/wrangler";
import { driveBrowser } from "./browser";
import { toFixture, type CorpusEntry } from "./fixtures";
import { Recorder } from "./recorder";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const OUT = join(ROOT, "test/fixtures/corpus");
const KEY = "0123456789abcdef0123456789abcdef";
const PROJECT = "42";
const PORT = Number(process.env.CORPUS_PORT ?? 9931);
const PAGE_PORT = PORT + 1;

mkdirSync(OUT, { recursive: true });
const recorder = await new Recorder(PORT).start();
// A host name, not an address: real clients send to names, and an address in
// every URL would only show the IP scrubber at work.
const url = `http://localhost:${PORT}`;
const dsn = `http://${KEY}@localhost:${PORT}/${PROJECT}`;
const skipped: string[] = [];

async function client(name: string, drive: () => Promise<unknown>): Promise<void> {
  recorder.begin(name);
  try {
    await drive();
  } catch (err) {
    const message = (err as { stderr?: string; message: string }).stderr || (err as Error).message;
    skipped.push(`${name}: ${message.trim().split("\n").slice(-3).join(" / ")}`);
  }
}

const node = (file: string, args: string[]) => run(process.execPath, [join(import.meta.dirname, "clients", file), ...args], { cwd: ROOT, timeout: 60_000 });

for (const [name, module] of [["node-7", "sentry-node-7"], ["node-8", "sentry-node-8"], ["node-9", "sentry-node-9"], ["node-10", "sentry-node-10"], ["node-11", "@sentry/node"]] as const) {
  await client(name, () => node("node-sdk.cjs", [module, dsn, url]));
}
await client("raven-node", () => node("raven-node.cjs", [dsn, url]));
await client("python", () => run("/usr/bin/python3", [join(import.meta.dirname, "clients/python-sdk.py"), dsn, url], { cwd: ROOT, timeout: 60_000 }));

for (const [name, bin] of [["cli-2", "node_modules/sentry-cli-2/bin/sentry-cli"], ["cli-3", "node_modules/sentry-cli-3/bin/sentry-cli"]] as const) {
  await client(name, async () => {
    const env = { ...process.env, SENTRY_DSN: dsn, SENTRY_LOAD_DOTENV: "0" };
    const cli = (args: string[]) => run(process.execPath, [join(ROOT, bin), ...args], { cwd: ROOT, env, timeout: 60_000 });
    await fetch(`${url}/__step/message`);
    await cli(["send-event", "-m", "corpus message from sentry-cli", "--release", "corpus@1.0.0", "--env", "corpus", "--no-environ"]);
    await fetch(`${url}/__step/exception`);
    const file = join(ROOT, "scripts/corpus/clients/exception.envelope");
    await cli(["send-envelope", file]);
  });
}

await client("cloudflare", async () => {
  const worker = await startWrangler({
    configPath: join(import.meta.dirname, "cloudflare/wrangler.toml"),
    vars: { SENTRY_DSN: dsn, RECORDER: url },
    readyPath: "/ready",
  });
  try {
    for (const what of ["exception", "message", "transaction", "log", "feedback", "attachment", "check-in"]) {
      const response = await fetch(`${worker.url}/${what}`);
      if (!response.ok) throw new Error(`worker answered ${response.status} to /${what}: ${await response.text()}`);
    }
  } finally {
    await worker.stop();
  }
});

await client("browser", () => driveBrowser(recorder, { dsn, recorderUrl: url, pagePort: PAGE_PORT }));

await recorder.close();

// Recordings are replaced; expected-changes.json (reviewed by hand) stays.
for (const entry of readdirSync(OUT, { withFileTypes: true })) {
  if (entry.isDirectory() || entry.name === "index.json") rmSync(join(OUT, entry.name), { recursive: true, force: true });
}
const index: CorpusEntry[] = [];
const counters = new Map<string, number>();
for (const request of recorder.requests) {
  const n = (counters.get(request.client) ?? 0) + 1;
  const fixture = toFixture(request, n, KEY, ROOT);
  if (!fixture) continue;
  counters.set(request.client, n);
  mkdirSync(join(OUT, request.client), { recursive: true });
  writeFileSync(join(OUT, request.client, fixture.name), fixture.bytes);
  index.push(fixture.entry);
}
writeFileSync(join(OUT, "index.json"), `${JSON.stringify(index, null, 2)}\n`);

const table = itemTable(index);
writeFileSync(join(OUT, "README.md"), `${table}\n`);
console.log(table);
console.log(`\n${index.length} requests recorded in test/fixtures/corpus/`);
if (skipped.length) console.log(`\nNot recorded:\n${skipped.map((s) => `- ${s}`).join("\n")}`);

function itemTable(entries: CorpusEntry[]): string {
  const clients = [...new Set(entries.map((e) => e.client))];
  const types = [...new Set(entries.flatMap((e) => e.items))].sort();
  const count = (client: string, type: string) => entries.filter((e) => e.client === client).flatMap((e) => e.items).filter((t) => t === type).length;
  const endpoints = (client: string) => [...new Set(entries.filter((e) => e.client === client).map((e) => e.path.replace(/^\/api\/\d+/, "")))].join(" ");
  const rows = clients.map((c) => `| ${c} | ${types.map((t) => count(c, t) || "").join(" | ")} | ${endpoints(c)} |`);
  return [`| client | ${types.join(" | ")} | endpoints |`, `|---|${types.map(() => "---:").join("|")}|---|`, ...rows].join("\n");
}
