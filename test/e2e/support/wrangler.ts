import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports";

export interface RunningWorker {
  url: string;
  port: number;
  /** Where wrangler keeps this Worker's local R2, Durable Object and other state. */
  stateDir: string;
  /** Everything wrangler printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Runs a Worker for real under `wrangler dev`, as `npm start` does, on a free
 * loopback port with its own local state, and waits until `readyPath` answers.
 * Wrangler logs a DNS error at start on a machine without internet: harmless.
 */
export async function startWrangler(options: {
  vars?: Record<string, string>;
  configPath?: string;
  readyPath?: string;
  timeoutMs?: number;
}): Promise<RunningWorker> {
  const port = await freePort();
  const state = mkdtempSync(join(tmpdir(), "edge-relay-wrangler-"));
  const args = ["wrangler", "dev", "--port", String(port), "--ip", "127.0.0.1", "--persist-to", state, "--show-interactive-dev-session=false"];
  if (options.configPath) args.push("--config", options.configPath);
  for (const [name, value] of Object.entries(options.vars ?? {})) args.push("--var", `${name}:${value}`);

  const child: ChildProcess = spawn("npx", args, {
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let log = "";
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  let exited = false;
  child.on("exit", () => (exited = true));

  const stop = async () => {
    if (!exited) {
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {
        // already gone
      }
      await new Promise((resolve) => {
        const timer = setTimeout(() => {
          try {
            process.kill(-child.pid!, "SIGKILL");
          } catch {
            // already gone
          }
          resolve(undefined);
        }, 5000);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
    }
    rmSync(state, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  while (Date.now() < deadline && !exited) {
    try {
      const res = await fetch(`${url}${options.readyPath ?? "/healthz"}`);
      if (res.status < 500) return { url, port, stateDir: state, output: () => log, stop };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await stop();
  throw new Error(`wrangler dev did not come up on ${url}:\n${log.slice(-3000)}`);
}
