import { FakeUpstream } from "./fake-upstream";
import { startRelay, type RunningRelay } from "./relay";

export const RELAY_KEY = "0123456789abcdef0123456789abcdef";
export const RELAY_PROJECT = "7";
export const UPSTREAM_KEY = "fedcba9876543210fedcba9876543210";
export const UPSTREAM_PROJECT = "4501";

export interface Stack {
  upstream: FakeUpstream;
  relay: RunningRelay;
  /** The DSN an SDK uses to send through the relay. */
  dsn: string;
  /** The DSN the relay forwards to (what the envelope header's `dsn` becomes). */
  upstreamDsn: string;
  stop(): Promise<void>;
}

/**
 * A recording fake upstream and the relay under `wrangler dev`, with one
 * project (id 7, key RELAY_KEY) forwarding to the upstream's project 4501;
 * `project` overrides or adds to that project's config.
 */
export async function startStack(project: Record<string, unknown> = {}, top: Record<string, unknown> = {}): Promise<Stack> {
  const upstream = await new FakeUpstream().start();
  const upstreamDsn = upstream.dsn(UPSTREAM_KEY, UPSTREAM_PROJECT);
  try {
    const relay = await startRelay({
      config: {
        ...top,
        projects: {
          [RELAY_PROJECT]: { keys: [RELAY_KEY], upstream: upstreamDsn, archive: false, allowedOrigins: ["*"], ...project },
        },
      },
    });
    return {
      upstream,
      relay,
      dsn: `http://${RELAY_KEY}@127.0.0.1:${relay.port}/${RELAY_PROJECT}`,
      upstreamDsn,
      stop: async () => {
        try {
          await relay.stop();
        } finally {
          await upstream.close();
        }
      },
    };
  } catch (err) {
    await upstream.close();
    throw err;
  }
}
