import { FakeUpstream } from "./fake-upstream";
import { startWrangler, type RunningWorker } from "./wrangler";

export const RELAY_KEY = "0123456789abcdef0123456789abcdef";
export const UPSTREAM_KEY = "fedcba9876543210fedcba9876543210";
export const UPSTREAM_PROJECT = "4501";

export interface Stack {
  upstream: FakeUpstream;
  relay: RunningWorker;
  /** The DSN an SDK uses to send through the relay. */
  dsn: string;
  stop(): Promise<void>;
}

/**
 * A recording fake upstream and the relay under `wrangler dev`, with one
 * project (id 7, key RELAY_KEY) forwarding to the upstream's project 4501.
 */
export async function startStack(project: Record<string, unknown> = {}): Promise<Stack> {
  const upstream = await new FakeUpstream().start();
  try {
    const relay = await startWrangler({
      vars: {
        RELAY_CONFIG: JSON.stringify({
          projects: { "7": { keys: [RELAY_KEY], upstream: upstream.dsn(UPSTREAM_KEY, UPSTREAM_PROJECT), ...project } },
        }),
      },
    });
    return {
      upstream,
      relay,
      dsn: `http://${RELAY_KEY}@127.0.0.1:${relay.port}/7`,
      stop: async () => {
        await relay.stop();
        await upstream.stop();
      },
    };
  } catch (err) {
    await upstream.stop();
    throw err;
  }
}
