import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports";

export interface RunningWorker {
  url: string;
  port: number;
  /** Wrangler's process id, also its process group's. */
  pid: number;
  /** Where wrangler keeps this Worker's local R2, Durable Object and other state. */
  stateDir: string;
  /** The file wrangler's stdout and stderr go to (removed by `stop()`). */
  logFile: string;
  /** Everything wrangler printed so far. */
  output(): string;
  stop(): Promise<void>;
}

export interface WranglerOptions {
  vars?: Record<string, string>;
  configPath?: string;
  readyPath?: string;
  /** Whether an answer to `readyPath` means "up". Default: any status below 500. */
  isReady?: (status: number) => boolean;
  timeoutMs?: number;
}

/** Processes still running in this test process, killed if it exits without `stop()`. */
const running = new Set<number>();
let exitHookInstalled = false;
function killOnExit(pid: number): void {
  running.add(pid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const group of running) {
      try {
        process.kill(-group, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
}

/**
 * Runs a Worker for real under `wrangler dev --local`, as `npm start` does, on
 * a free loopback port with its own local state, and waits until `readyPath`
 * answers. Wrangler runs in its own process group (workerd is its child), so
 * `stop()` ends all of it. Wrangler logs a DNS error at start on a machine
 * without internet: harmless, and not looked at.
 */
export async function startWrangler(options: WranglerOptions): Promise<RunningWorker> {
  // The port is chosen before wrangler binds it; should another process take
  // it in between, wrangler exits and one more port is tried.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      if (attempt >= 2 || !(err instanceof PortTaken)) throw err;
    }
  }
}

class PortTaken extends Error {}

/** Waits until no process of the group is left (killed ones may linger unreaped a moment). */
async function groupGone(pgid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) return;
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function startOnce(options: WranglerOptions): Promise<RunningWorker> {
  const port = await freePort();
  const state = mkdtempSync(join(tmpdir(), "edge-relay-wrangler-"));
  const logDir = mkdtempSync(join(tmpdir(), "edge-relay-wrangler-log-"));
  const logFile = join(logDir, "wrangler.log");
  const args = [
    "wrangler", "dev", "--local", "--port", String(port), "--ip", "127.0.0.1",
    "--persist-to", state, "--show-interactive-dev-session=false",
  ];
  if (options.configPath) args.push("--config", options.configPath);
  for (const [name, value] of Object.entries(options.vars ?? {})) args.push("--var", `${name}:${value}`);

  const fd = openSync(logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn("npx", args, {
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", fd, fd],
      detached: true,
    });
  } finally {
    closeSync(fd);
  }
  const output = () => {
    try {
      return readFileSync(logFile, "utf8");
    } catch {
      return "";
    }
  };
  let exited = false;
  let spawnError: Error | undefined;
  child.on("exit", () => {
    exited = true;
    running.delete(child.pid!);
  });
  child.on("error", (err) => {
    spawnError = err;
    exited = true;
  });
  if (child.pid) killOnExit(child.pid);

  let stopped: Promise<void> | undefined;
  const stop = (keepLog = false) =>
    (stopped ??= (async () => {
      if (!exited && child.pid) {
        const signal = (sig: NodeJS.Signals) => {
          try {
            process.kill(-child.pid!, sig);
          } catch {
            // already gone
          }
        };
        signal("SIGTERM");
        await new Promise((resolve) => {
          const timer = setTimeout(() => {
            signal("SIGKILL");
            resolve(undefined);
          }, 5000);
          child.once("exit", () => {
            clearTimeout(timer);
            resolve(undefined);
          });
        });
        // workerd may outlive wrangler by a moment: make sure the group is gone.
        signal("SIGKILL");
      }
      if (child.pid) await groupGone(child.pid, 5000);
      running.delete(child.pid!);
      rmSync(state, { recursive: true, force: true });
      if (!keepLog) rmSync(logDir, { recursive: true, force: true });
    })());

  const url = `http://127.0.0.1:${port}`;
  const readyPath = options.readyPath ?? "/healthz";
  const isReady = options.isReady ?? ((status: number) => status < 500);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  while (Date.now() < deadline && !exited) {
    try {
      const res = await fetch(`${url}${readyPath}`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (isReady(res.status)) {
        return { url, port, pid: child.pid!, stateDir: state, logFile, output, stop: () => stop() };
      }
      last = `GET ${readyPath} answered ${res.status}`;
    } catch (err) {
      last = `GET ${readyPath}: ${(err as Error).cause ?? (err as Error).message}`;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const log = output();
  const why = spawnError ? `could not start npx: ${spawnError.message}` : exited ? "wrangler exited" : `not ready within ${timeoutMs} ms (${last})`;
  await stop(true);
  if (exited && /EADDRINUSE|address already in use/i.test(log)) {
    rmSync(logDir, { recursive: true, force: true });
    throw new PortTaken(`port ${port} was taken`);
  }
  throw new Error(`wrangler dev did not come up on ${url}: ${why}; log ${logFile}, its tail:\n${log.slice(-3000)}`);
}
