import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import type { RunningWorker } from "./wrangler";

const run = promisify(execFile);

/**
 * Reads an archived envelope from the running relay's local R2 with wrangler's
 * own CLI, as a person would. The key's hour is tried for now and the hour
 * before, in case the event was archived just before the hour turned. Objects
 * stored gzip-compressed (`contentEncoding: gzip`) come out of `--pipe` as
 * they are stored, so gzip is recognised by its magic bytes and undone.
 */
export async function readArchived(relay: RunningWorker, projectId: string, eventId: string): Promise<string> {
  const pad = (n: number) => String(n).padStart(2, "0");
  const errors: string[] = [];
  for (const offset of [0, 3_600_000]) {
    const at = new Date(Date.now() - offset);
    const key = `${projectId}/${at.getUTCFullYear()}/${pad(at.getUTCMonth() + 1)}/${pad(at.getUTCDate())}/${pad(at.getUTCHours())}/${eventId}.envelope`;
    try {
      const { stdout: bytes } = await run("npx", ["wrangler", "r2", "object", "get", `edge-relay-archive/${key}`, "--local", "--persist-to", relay.stateDir, "--pipe"], {
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
        maxBuffer: 16 * 1024 * 1024,
        encoding: "buffer",
      });
      const gzipped = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
      const stdout = (gzipped ? gunzipSync(bytes) : bytes).toString("utf8");
      if (stdout.includes(eventId)) return stdout;
      errors.push(`${key}: ${stdout.slice(0, 200)}`);
    } catch (err) {
      errors.push(`${key}: ${(err as Error).message.slice(0, 300)}`);
    }
  }
  throw new Error(`archived envelope ${eventId} not found:\n${errors.join("\n")}`);
}
