import { startWrangler, type RunningWorker } from "./wrangler";

export type RunningRelay = RunningWorker;

/**
 * The relay itself (this repository's wrangler.toml) under `wrangler dev
 * --local`, with `config` as its RELAY_CONFIG, up once `GET /healthz`
 * answers 200. Call `stop()` in afterAll: it ends wrangler and workerd.
 */
export function startRelay(options: {
  config: unknown;
  vars?: Record<string, string>;
  timeoutMs?: number;
}): Promise<RunningRelay> {
  return startWrangler({
    vars: { ...options.vars, RELAY_CONFIG: typeof options.config === "string" ? options.config : JSON.stringify(options.config) },
    readyPath: "/healthz",
    isReady: (status) => status === 200,
    timeoutMs: options.timeoutMs ?? 60_000,
  });
}
