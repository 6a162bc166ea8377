import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeUpstream } from "./support/fake-upstream";
import { startRelay, type RunningRelay } from "./support/relay";
import { RELAY_KEY } from "./support/stack";

const run = promisify(execFile);
const TOKEN = "e2e-replay-token";

let relay: RunningRelay;
let fresh: FakeUpstream;

beforeAll(async () => {
  fresh = await new FakeUpstream().start();
  // An archive-only project: nothing goes upstream until it is replayed.
  relay = await startRelay({ config: { projects: { "7": { keys: [RELAY_KEY], archive: true } } }, vars: { ADMIN_TOKEN: TOKEN } });
});

afterAll(async () => {
  await relay?.stop();
  await fresh?.close();
});

describe("npm run replay", () => {
  it("re-sends archived envelopes to a new upstream, page by page, with progress", async () => {
    const ids = Array.from({ length: 5 }, (_, i) => `ee${String(i).padStart(30, "0")}`);
    for (const id of ids) {
      const res = await fetch(`${relay.url}/api/7/envelope/`, {
        method: "POST",
        headers: { "x-sentry-auth": `Sentry sentry_version=7, sentry_key=${RELAY_KEY}` },
        body: `{"event_id":"${id}"}\n{"type":"event"}\n{"event_id":"${id}","message":"archived ${id}"}`,
      });
      expect(res.status).toBe(200);
    }
    const now = Date.now();
    const { stdout } = await run("npx", [
      "tsx", "scripts/replay.ts", "--url", relay.url, "--token", TOKEN, "--project", "7",
      "--from", new Date(now - 3_600_000).toISOString(), "--to", new Date(now + 3_600_000).toISOString(),
      "--upstream", fresh.dsn("ab".repeat(16), "99"), "--page", "2",
    ], { env: { ...process.env, NO_COLOR: "1" } });

    expect(stdout).toMatch(/page 1: 2 envelopes/);
    expect(stdout).toMatch(/page 3: 1 envelopes/);
    expect(stdout).toContain("done: 5 envelopes replayed: 5 delivered, 0 spooled for retry, 0 refused by the upstream");
    const received = fresh.items("event").map(({ item }) => item.json().event_id);
    expect(received.sort()).toEqual(ids);
    expect(fresh.received.every((e) => e.path === "/api/99/envelope/")).toBe(true);
  });
});
