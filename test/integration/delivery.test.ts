import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readArchived } from "../../src/forward/archive";
import { breakers, FAILURES_TO_OPEN } from "../../src/forward/breaker";
import { KEY, drainSpoolOnce, fakeUpstream, post, relay, sentryAuth, spool, type UpstreamCall } from "./support/harness";

let upstream: ReturnType<typeof fakeUpstream>;
beforeEach(() => {
  upstream = fakeUpstream();
  spool.clear();
});
afterEach(() => upstream.restore());

/** Each test gets its own upstream host, so one test's open breaker is not another's. */
let nextHost = 1;
function project(settings: Record<string, unknown> = {}) {
  const host = `up-${nextHost++}.example.com`;
  const config = JSON.stringify({ projects: { "42": { keys: [KEY], upstream: `https://${"ab".repeat(16)}@${host}/4501`, ...settings } } });
  return { host, config, send: (body: string) => relay(post("/api/42/envelope/", body, sentryAuth()), config) };
}

let counter = 0;
function envelope(): { id: string; body: string } {
  const id = (++counter).toString(16).padStart(32, "0");
  return { id, body: `{"event_id":"${id}"}\n{"type":"event"}\n{"event_id":"${id}","message":"delivery ${counter}"}` };
}

const deliveredIds = (calls: UpstreamCall[]) =>
  calls.filter((c) => c.status === 200).map((c) => /"event_id":"([0-9a-f]{32})"/.exec(c.text)?.[1]).filter(Boolean);

/** Upstream answers recorded with their status, so only what it accepted counts as delivered. */
function answer(status: number, headers: Record<string, string> = {}) {
  return (call: UpstreamCall) => {
    call.status = status;
    return new Response(status === 200 ? '{"id":"x"}' : '{"detail":"no"}', { status, headers });
  };
}

describe("reliable delivery", () => {
  it.each([
    ["5xx", answer(503)],
    ["connection errors", (call: UpstreamCall) => ((call.status = 0), Promise.reject(new TypeError("connection refused")))],
  ])("spools on %s, answers 200, and delivers exactly once after recovery", async (_name, failing) => {
    const p = project();
    upstream.respondWith(failing as never);
    const sent = [envelope(), envelope(), envelope()];
    for (const e of sent) expect((await p.send(e.body)).status).toBe(200);
    expect(spool.messages).toHaveLength(3);
    expect(deliveredIds(upstream.calls)).toEqual([]);

    upstream.respondWith(answer(200));
    const drained = await drainSpoolOnce(p.config);
    expect(drained).toEqual({ acked: 3, retried: [] });
    expect(deliveredIds(upstream.calls).sort()).toEqual(sent.map((e) => e.id).sort());
    expect(spool.messages).toHaveLength(0);
  });

  it("spools on a timeout", async () => {
    const p = project();
    const config = p.config.replace('"projects"', '"upstreamTimeoutMs":50,"projects"');
    upstream.respondWith((_call, signal) => new Promise((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason))));
    expect((await relay(post("/api/42/envelope/", envelope().body, sentryAuth()), config)).status).toBe(200);
    expect(spool.messages[0]!.body.reason).toBe("timeout");
  });

  it("retries with backoff while the upstream stays down, and honours a 429's Retry-After", async () => {
    const p = project();
    upstream.respondWith(answer(502));
    await p.send(envelope().body);
    const first = await drainSpoolOnce(p.config);
    expect(first.acked).toBe(0);
    expect(first.retried[0]!.delaySeconds).toBeGreaterThanOrEqual(1);

    breakers.success(p.host); // a probe after the pause found it up, but busy
    upstream.respondWith(answer(429, { "retry-after": "120" }));
    const limited = await drainSpoolOnce(p.config);
    expect(limited.retried[0]!.delaySeconds).toBeGreaterThanOrEqual(120);
  });

  it("never retries a 400: the upstream will not take it, so it is dropped and reported as invalid", async () => {
    const p = project();
    upstream.respondWith(answer(503));
    await p.send(envelope().body);
    upstream.respondWith(answer(400));
    const drained = await drainSpoolOnce(p.config);
    expect(drained).toEqual({ acked: 1, retried: [] });
    // The next forwarded envelope carries the count.
    upstream.respondWith(answer(200));
    await p.send(envelope().body);
    const report = upstream.calls.at(-1)!.text.trimEnd().split("\n").at(-1)!;
    expect(JSON.parse(report).discarded_events).toEqual([{ reason: "upstream_rejected", category: "error", quantity: 1 }]);
  });

  it("opens a circuit breaker: after repeated failures the upstream is not called, envelopes go straight to the spool", async () => {
    const p = project();
    upstream.respondWith(answer(500));
    for (let i = 0; i < FAILURES_TO_OPEN; i++) await p.send(envelope().body);
    expect(upstream.calls).toHaveLength(FAILURES_TO_OPEN);
    for (let i = 0; i < 5; i++) expect((await p.send(envelope().body)).status).toBe(200);
    expect(upstream.calls).toHaveLength(FAILURES_TO_OPEN);
    expect(spool.messages).toHaveLength(FAILURES_TO_OPEN + 5);
    expect(spool.messages.at(-1)!.body.reason).toBe("circuit breaker open");
  });

  it("keeps retrying, never drops, an envelope whose project lost its upstream while it waited", async () => {
    const p = project();
    upstream.respondWith(answer(503));
    await p.send(envelope().body);
    const withoutUpstream = JSON.stringify({ projects: { "42": { keys: [KEY], archive: true } } });
    const drained = await drainSpoolOnce(withoutUpstream);
    expect(drained.acked).toBe(0);
    expect(spool.messages).toHaveLength(1);
  });

  it("keeps dead letters in R2, and the archive still holds the envelope", async () => {
    const p = project({ archive: true });
    upstream.respondWith(answer(503));
    const e = envelope();
    await p.send(e.body);
    // After max_retries the queue hands the message to the dead-letter queue's consumer.
    await drainSpoolOnce(p.config, "edge-relay-dlq");
    const bucket = (env as { ARCHIVE: R2Bucket }).ARCHIVE;
    const dead = (await bucket.list({ prefix: "dead-letter/42/" })).objects.find((o) => o.key.endsWith(`${e.id}.envelope`));
    expect(dead).toBeDefined();
    expect(new TextDecoder().decode(await (await bucket.get(dead!.key))!.arrayBuffer())).toContain(e.id);
    const archived = (await bucket.list({ prefix: "42/" })).objects.find((o) => o.key.endsWith(`${e.id}.envelope`));
    expect(new TextDecoder().decode(await readArchived((await bucket.get(archived!.key))!))).toContain(e.id);
  });

  it("loses and duplicates nothing across an outage: 1,000 envelopes, the upstream down for a third of them", { timeout: 120_000 }, async () => {
    const p = project();
    const sent: string[] = [];
    for (let i = 0; i < 1_000; i++) {
      upstream.respondWith(i >= 300 && i < 650 ? answer(503) : answer(200));
      if (i === 650) breakers.success(p.host); // the upstream is back and a probe went through
      const e = envelope();
      sent.push(e.id);
      expect((await p.send(e.body)).status).toBe(200);
    }
    const direct = deliveredIds(upstream.calls).length;
    const spooledCount = spool.messages.length;
    expect(direct + spooledCount).toBe(1_000);

    upstream.respondWith(answer(200));
    for (let round = 0; round < 5 && spool.messages.length > 0; round++) {
      breakers.success(p.host);
      await drainSpoolOnce(p.config);
    }
    const delivered = deliveredIds(upstream.calls);
    expect(spool.messages).toHaveLength(0);
    expect(delivered).toHaveLength(1_000);
    expect(new Set(delivered).size).toBe(1_000);
    expect([...delivered].sort()).toEqual([...sent].sort());
  });
});
