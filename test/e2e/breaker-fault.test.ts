import * as Sentry from "@sentry/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeUpstream, RecordedRequest } from "./support/fake-upstream";
import { startStack, type Stack } from "./support/stack";

/**
 * A fault test through the real stack: @sentry/node → `wrangler dev` (the
 * real Queue consumer, with its delays) → the recording fake upstream. The
 * upstream fails with 503 until the relay's breaker opens, answers the probe
 * that follows the pause with 429 and a short Retry-After, then is healthy.
 * Every event must arrive, accepted, exactly once: the 429 must close the
 * breaker (the host is up) rather than leave it half-open with every later
 * envelope spooled and never sent. Assertions are on what the upstream
 * received only.
 */

const FAILURES_TO_OPEN = 5;
const OPEN_MS = 3000;

let stack: Stack;
let upstream: FakeUpstream;

/** The upstream's script: 503 × FAILURES_TO_OPEN, then 429 to the first request after the pause (the probe), then 200. */
const script = { failures: 0, openedAt: 0, probe: undefined as RecordedRequest | undefined };

beforeAll(async () => {
  stack = await startStack({}, {
    upstreamTimeoutMs: 5000,
    // A short pause and short retries, so the test runs in seconds, not the production minutes.
    delivery: { breakerFailures: FAILURES_TO_OPEN, breakerOpenMs: OPEN_MS, retryBaseSeconds: 1, retryMaxSeconds: 3 },
  });
  upstream = stack.upstream;
  upstream.respondWith((request) => {
    if (script.failures < FAILURES_TO_OPEN) {
      if (++script.failures === FAILURES_TO_OPEN) script.openedAt = Date.now();
      return { status: 503 };
    }
    if (!script.probe) {
      // Anything arriving before the pause is over was already under way when the breaker opened.
      if (Date.now() - script.openedAt < OPEN_MS - 200) return { status: 503 };
      script.probe = request;
      return { status: 429, headers: { "retry-after": "1" }, body: { detail: "slow down" } };
    }
    return { status: 200 };
  });
  Sentry.init({ dsn: stack.dsn, sendClientReports: false, release: undefined });
});

afterAll(async () => {
  await Sentry.close(2000);
  await stack?.stop();
});

const eventIdOf = (request: RecordedRequest): string | undefined => {
  const item = request.envelope?.items.find((i) => i.header.type === "event");
  return item ? String(item.json().event_id) : undefined;
};

describe("a breaker that opens, and a probe answered 429", () => {
  it("delivers every event the relay took exactly once, the upstream healthy again after the 429", { timeout: 90_000 }, async () => {
    const ids: string[] = [];
    // While the upstream fails: the first ones meet the 503s and open the breaker, the rest are spooled unsent.
    for (let i = 0; i < 8; i++) {
      ids.push(Sentry.captureException(new Error(`fault e2e ${i}`)));
      await Sentry.flush(5000);
    }
    // Nothing more from the SDK until the spool consumer has made the probe, so the probe is the consumer's.
    await upstream.waitFor(() => script.probe, 30_000);
    // Healthy from now on: envelopes sent straight through again.
    for (let i = 8; i < 11; i++) {
      ids.push(Sentry.captureException(new Error(`fault e2e ${i}`)));
      await Sentry.flush(5000);
    }

    const accepted = () => upstream.requests.filter((r) => r.status >= 200 && r.status < 300).map(eventIdOf).filter((id) => id !== undefined);
    await upstream.waitFor(() => ids.every((id) => accepted().includes(id)), 45_000);
    // Let any duplicate the queue might still send arrive before counting.
    await new Promise((resolve) => setTimeout(resolve, 1500));

    const delivered = accepted();
    for (const id of ids) expect(delivered.filter((d) => d === id), `event ${id}`).toHaveLength(1);
    expect(delivered.filter((id) => !ids.includes(id))).toEqual([]);

    // The scenario happened as scripted: the breaker opened (503s), a probe came after the pause and met the 429.
    const statuses = upstream.requests.map((r) => r.status);
    expect(statuses.slice(0, FAILURES_TO_OPEN)).toEqual(Array(FAILURES_TO_OPEN).fill(503));
    expect(statuses.filter((s) => s === 429)).toHaveLength(1);
    expect(eventIdOf(script.probe!)).toBeDefined();
    // The probed event was retried after its Retry-After and accepted once, like the rest.
    expect(delivered.filter((id) => id === eventIdOf(script.probe!))).toHaveLength(1);
  });
});
