import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { breakers, DEFAULT_TIMING, FAILURES_TO_OPEN, OPEN_MS } from "../../src/forward/breaker";
import { KEY, drainSpoolOnce, fakeUpstream, post, relay, sentryAuth, spool, type UpstreamCall } from "./support/harness";

/**
 * Each outcome of the half-open probe, made by the ingest pipeline and by the
 * spool consumer: any answer below 500 closes the breaker, a 5xx, timeout or
 * network error reopens it, and a probe that never reported back stops
 * holding the host once its lease expires. Isolate state (the breakers)
 * outlives a test, so each test has its own upstream host.
 */

let upstream: ReturnType<typeof fakeUpstream>;
beforeEach(() => {
  upstream = fakeUpstream();
  spool.clear();
});
afterEach(() => upstream.restore());

let nextHost = 1;
/**
 * Two projects on one upstream host, both new to the isolate: a 429 makes the
 * relay hold back the project it answered for (its Retry-After), so what
 * follows a probe is sent through the sibling, which only the breaker governs.
 */
function project() {
  const n = nextHost++;
  const host = `probe-${n}.example.com`;
  const id = String(9000 + 2 * n);
  const sibling = String(9001 + 2 * n);
  const upstream = `https://${"ab".repeat(16)}@${host}/4501`;
  const config = JSON.stringify({
    upstreamTimeoutMs: 200,
    projects: { [id]: { keys: [KEY], upstream }, [sibling]: { keys: [KEY], upstream } },
  });
  const to = (project: string) => (body: string) => relay(post(`/api/${project}/envelope/`, body, sentryAuth()), config);
  return { host, config, send: to(id), sendViaSibling: to(sibling) };
}

let counter = 0;
function envelope(): { id: string; body: string } {
  const id = (0xb0000 + ++counter).toString(16).padStart(32, "0");
  return { id, body: `{"event_id":"${id}"}\n{"type":"event"}\n{"event_id":"${id}","message":"probe ${counter}"}` };
}

function answer(status: number, headers: Record<string, string> = {}) {
  return (call: UpstreamCall) => {
    call.status = status;
    return new Response(status === 200 ? '{"id":"x"}' : '{"detail":"no"}', { status, headers });
  };
}
const networkError = (call: UpstreamCall) => ((call.status = 0), Promise.reject(new TypeError("connection refused")));
const neverAnswers = (_call: UpstreamCall, signal: AbortSignal | undefined) =>
  new Promise<Response>((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason)));

/** Opens the host's breaker as of a pause ago, so the next request to it is the probe. */
function openedLongAgo(host: string, ago: number = OPEN_MS + 1): void {
  breakers.success(host);
  const then = Date.now() - ago;
  for (let i = 0; i < FAILURES_TO_OPEN; i++) breakers.failure(host, then);
  expect(breakers.isOpen(host, Date.now())).toBe(false);
}

/** Opens the host's breaker now: requests to it are spooled without being sent. */
function openNow(host: string): void {
  for (let i = 0; i < FAILURES_TO_OPEN; i++) breakers.failure(host, Date.now());
}

const delivered = (calls: UpstreamCall[], id: string) => calls.filter((c) => c.status === 200 && c.text.includes(id)).length;

/** After the probe closed the breaker: the next envelope goes straight to the upstream. */
async function expectClosed(p: ReturnType<typeof project>): Promise<void> {
  expect(breakers.isOpen(p.host, Date.now())).toBe(false);
  expect(breakers.probing(p.host, Date.now())).toBe(false);
  upstream.respondWith(answer(200));
  const spooledBefore = spool.messages.length;
  const next = envelope();
  expect((await p.sendViaSibling(next.body)).status).toBe(200);
  expect(delivered(upstream.calls, next.id)).toBe(1);
  expect(spool.messages.length).toBe(spooledBefore);
}

/** After a failed probe: the breaker is open again, the next envelope is spooled unsent. */
async function expectReopened(p: ReturnType<typeof project>): Promise<void> {
  expect(breakers.isOpen(p.host, Date.now())).toBe(true);
  expect(breakers.probing(p.host, Date.now())).toBe(false);
  const calls = upstream.calls.length;
  expect((await p.sendViaSibling(envelope().body)).status).toBe(200);
  expect(upstream.calls.length).toBe(calls);
  expect(spool.messages.at(-1)!.body.reason).toBe("circuit breaker open");
}

const closing = [
  ["200", answer(200)],
  ["429 with Retry-After", answer(429, { "retry-after": "7" })],
  ["400", answer(400)],
  ["413", answer(413)],
] as const;
const failing = [
  ["500", answer(500)],
  ["503", answer(503)],
  ["a timeout", neverAnswers],
  ["a network error", networkError],
] as const;

describe("the probe made by the ingest pipeline", () => {
  it.each(closing)("answered %s closes the breaker", async (_name, respond) => {
    const p = project();
    openedLongAgo(p.host);
    upstream.respondWith(respond);
    const e = envelope();
    await p.send(e.body);
    expect(upstream.calls.filter((c) => c.text.includes(e.id))).toHaveLength(1);
    await expectClosed(p);
  });

  it.each(failing)("answered with %s reopens it, and the envelope waits in the spool", async (_name, respond) => {
    const p = project();
    openedLongAgo(p.host);
    upstream.respondWith(respond as never);
    const e = envelope();
    expect((await p.send(e.body)).status).toBe(200);
    expect(spool.messages.map((m) => m.body.eventId)).toEqual([e.id]);
    await expectReopened(p);
  });

  it("that never reported back stops holding the host once its lease expires", async () => {
    const p = project();
    openedLongAgo(p.host, OPEN_MS + DEFAULT_TIMING.probeMs + 2);
    // A probe taken a lease ago whose invocation never came back (cancelled mid-request).
    expect(breakers.allow(p.host, Date.now() - DEFAULT_TIMING.probeMs - 1)).toBe(true);
    upstream.respondWith(answer(200));
    const e = envelope();
    expect((await p.send(e.body)).status).toBe(200);
    expect(delivered(upstream.calls, e.id)).toBe(1);
    await expectClosed(p);
  });
});

describe("the probe made by the spool consumer", () => {
  /** One envelope spooled while the breaker was open, then the pause over: the consumer's send is the probe. */
  async function spooledThenProbe(p: ReturnType<typeof project>): Promise<{ id: string }> {
    openNow(p.host);
    const e = envelope();
    expect((await p.send(e.body)).status).toBe(200);
    expect(upstream.calls).toHaveLength(0);
    expect(spool.messages).toHaveLength(1);
    openedLongAgo(p.host);
    return e;
  }

  it("answered 200 closes the breaker and delivers the envelope", async () => {
    const p = project();
    const e = await spooledThenProbe(p);
    upstream.respondWith(answer(200));
    expect(await drainSpoolOnce(p.config)).toEqual({ acked: 1, retried: [] });
    expect(delivered(upstream.calls, e.id)).toBe(1);
    await expectClosed(p);
  });

  it("answered 429 closes the breaker, and the envelope is retried after its Retry-After, then delivered once", async () => {
    const p = project();
    const e = await spooledThenProbe(p);
    upstream.respondWith(answer(429, { "retry-after": "7" }));
    const limited = await drainSpoolOnce(p.config);
    expect(limited.acked).toBe(0);
    expect(limited.retried[0]!.delaySeconds).toBeGreaterThanOrEqual(7);
    await expectClosed(p);

    upstream.respondWith(answer(200));
    expect(await drainSpoolOnce(p.config)).toEqual({ acked: 1, retried: [] });
    expect(delivered(upstream.calls, e.id)).toBe(1);
  });

  it.each([
    ["400", answer(400)],
    ["413", answer(413)],
  ])("answered %s closes the breaker; the envelope the upstream refused is dropped as invalid", async (_name, respond) => {
    const p = project();
    await spooledThenProbe(p);
    upstream.respondWith(respond);
    expect(await drainSpoolOnce(p.config)).toEqual({ acked: 1, retried: [] });
    await expectClosed(p);
  });

  it.each(failing)("answered with %s reopens it, and the envelope stays in the spool", async (_name, respond) => {
    const p = project();
    const e = await spooledThenProbe(p);
    upstream.respondWith(respond as never);
    const drained = await drainSpoolOnce(p.config);
    expect(drained.acked).toBe(0);
    expect(spool.messages.map((m) => m.body.eventId)).toEqual([e.id]);
    await expectReopened(p);
  });

  it("lets every later message through once a 429 closed it: none is held back for the isolate's life", async () => {
    const p = project();
    openNow(p.host);
    const sent = Array.from({ length: 10 }, envelope);
    for (const e of sent) expect((await p.send(e.body)).status).toBe(200);
    expect(upstream.calls).toHaveLength(0);
    openedLongAgo(p.host);
    // The first message is the probe and meets a 429; the upstream is healthy from then on.
    let first = true;
    upstream.respondWith((call) => {
      if (first) {
        first = false;
        return answer(429, { "retry-after": "1" })(call);
      }
      return answer(200)(call);
    });
    const drained = await drainSpoolOnce(p.config);
    expect(drained.acked).toBe(9);
    expect(drained.retried).toHaveLength(1);
    expect(await drainSpoolOnce(p.config)).toEqual({ acked: 1, retried: [] });
    for (const e of sent) expect(delivered(upstream.calls, e.id)).toBe(1);
  });
});
