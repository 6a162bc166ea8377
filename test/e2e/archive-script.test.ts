import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRelay, type RunningRelay } from "./support/relay";
import { RELAY_KEY } from "./support/stack";

const run = promisify(execFile);

/** The token `npm start` gives `wrangler dev`, read from package.json: the script must default to the same. */
const startScript = (JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> }).scripts.start!;
const LOCAL_TOKEN = /--var ADMIN_TOKEN:(\S+)/.exec(startScript)?.[1];

let relay: RunningRelay;

beforeAll(async () => {
  relay = await startRelay({ config: { projects: { "1": { keys: [RELAY_KEY], archive: true } } }, vars: { ADMIN_TOKEN: LOCAL_TOKEN! } });
});

afterAll(async () => {
  await relay?.stop();
});

/** The script as a person runs it: no --token, no ADMIN_TOKEN in the environment. */
async function archive(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const { ADMIN_TOKEN: _unset, ...env } = process.env;
  return run("npx", ["tsx", "scripts/archive.ts", ...args, "--url", relay.url], { env: { ...env, NO_COLOR: "1" } });
}

describe("npm run archive", () => {
  it("npm start sets a local admin token", () => {
    expect(startScript).toMatch(/^wrangler dev --port 8787 /);
    expect(LOCAL_TOKEN).toBe("local-dev-token");
  });

  it("lists what was archived and prints an envelope, by key and by event id", async () => {
    const ids = ["ab".repeat(16), "cd".repeat(16)];
    for (const id of ids) {
      const res = await fetch(`${relay.url}/api/1/envelope/`, {
        method: "POST",
        headers: { "x-sentry-auth": `Sentry sentry_version=7, sentry_key=${RELAY_KEY}` },
        body: `{"event_id":"${id}"}\n{"type":"event"}\n{"event_id":"${id}","message":"archived for ${id.slice(0, 2)}, mail bob@example.com"}`,
      });
      expect(res.status).toBe(200);
    }

    const listed = await archive("list", "--project", "1", "--page", "1");
    const lines = listed.stdout.trim().split("\n").map((line) => line.split("\t"));
    expect(lines.map((fields) => fields[1]!.split("/").pop())).toEqual(ids.map((id) => `${id}.envelope`));
    for (const fields of lines) {
      expect(Date.parse(fields[0]!)).not.toBeNaN();
      expect(fields[1]).toMatch(/^1\/\d{4}\/\d{2}\/\d{2}\/\d{2}\//);
      expect(fields[2]).toMatch(/^\d+ B$/);
      expect(fields[3]).toBe("error");
      expect(fields[4]).toMatch(/^[0-9a-f]{32}$/);
    }
    expect(listed.stderr).toContain("2 archived envelopes");

    const byKey = await archive("get", "--key", lines[0]![1]!);
    expect(byKey.stdout).toContain(`"message":"archived for ab, mail [email]"`);
    const byEvent = await archive("get", "--project", "1", "--event", ids[1]!);
    expect(byEvent.stdout.split("\n")[0]).toBe(`{"event_id":"${ids[1]}"}`);
    expect(byEvent.stdout).toContain(`"message":"archived for cd, mail [email]"`);
  });

  it("says what went wrong", async () => {
    await expect(archive("get", "--project", "1", "--event", "ef".repeat(16))).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining(`no archived envelope with event id ${"ef".repeat(16)} in project 1`),
    });
    await expect(archive("list", "--project", "1", "--token", "wrong")).rejects.toMatchObject({
      stderr: expect.stringContaining("the relay answered 401: invalid bearer token"),
    });
  });
});
