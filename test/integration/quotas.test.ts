import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { counterFailures } from "../../src/limits/failures";
import { EVENT_ID, KEY, KEY2, UPSTREAM_DSN, errorEnvelope, fakeUpstream, post, relay, sentryAuth } from "./support/harness";

let upstream: ReturnType<typeof fakeUpstream>;
beforeEach(() => {
  upstream = fakeUpstream();
});
afterEach(() => upstream.restore());

/** Each test gets a project of its own: counters and isolate caches are per project. */
let nextProject = 900;
function project(quotas: unknown[], extra: Record<string, unknown> = {}, limits: Record<string, unknown> = {}) {
  const id = String(nextProject++);
  const config = JSON.stringify({ projects: { [id]: { keys: [KEY, KEY2], upstream: UPSTREAM_DSN, quotas, ...extra } }, limits });
  const send = (body: BodyInit, key = KEY, overrides: Partial<Env> = {}) =>
    relay(post(`/api/${id}/envelope/`, body, sentryAuth(key)), config, overrides);
  return { id, config, send };
}

const session = '{}\n{"type":"session"}\n{"sid":"s","status":"ok"}';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("quotas", () => {
  it("hold exactly at the limit for a single client", async () => {
    const p = project([{ id: "errors", categories: ["error"], window: 60, limit: 5 }]);
    for (let i = 0; i < 5; i++) expect((await p.send(errorEnvelope())).status).toBe(200);
    const refused = await p.send(errorEnvelope());
    expect(refused.status).toBe(429);
    expect(await refused.json()).toEqual({ detail: "event submission rejected with_reason: rate limited" });
    expect(refused.headers.get("x-sentry-rate-limits")).toMatch(/^\d+:error:project:quota_exceeded$/);
    const retry = Number(refused.headers.get("retry-after"));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    expect(upstream.calls).toHaveLength(5);
  });

  it("answers in Sentry's exact header format", async () => {
    const p = project([{ id: "none", categories: ["transaction", "error"], window: 60, limit: 0 }]);
    const res = await p.send(errorEnvelope());
    expect(res.status).toBe(429);
    expect(res.headers.get("x-sentry-rate-limits")).toBe("60:transaction;error:project:quota_exceeded");
    expect(res.headers.get("retry-after")).toBe("60");
    expect(res.headers.get("access-control-expose-headers")).toContain("x-sentry-rate-limits");
  });

  it("roll: what the window dropped comes back when the window has moved on", async () => {
    const p = project([{ id: "tiny", categories: ["error"], window: 2, limit: 2 }]);
    expect((await p.send(errorEnvelope())).status).toBe(200);
    expect((await p.send(errorEnvelope())).status).toBe(200);
    const refused = await p.send(errorEnvelope());
    expect(refused.status).toBe(429);
    await sleep(Number(refused.headers.get("retry-after")) * 1000 + 100);
    expect((await p.send(errorEnvelope())).status).toBe(200);
  });

  it("count per DSN key with scope key, and across keys with scope project", async () => {
    const perKey = project([{ id: "per-key", categories: ["error"], scope: "key", window: 60, limit: 1 }]);
    expect((await perKey.send(errorEnvelope(), KEY)).status).toBe(200);
    const second = await perKey.send(errorEnvelope(), KEY);
    expect(second.status).toBe(429);
    expect(second.headers.get("x-sentry-rate-limits")).toMatch(/^\d+:error:key:quota_exceeded$/);
    expect((await perKey.send(errorEnvelope(), KEY2)).status).toBe(200);

    const shared = project([{ id: "shared", categories: ["error"], scope: "project", window: 60, limit: 1 }]);
    expect((await shared.send(errorEnvelope(), KEY)).status).toBe(200);
    expect((await shared.send(errorEnvelope(), KEY2)).status).toBe(429);
  });

  it("limit part of an envelope: the rest goes on and the answer names the limit", async () => {
    const p = project([{ id: "no-sessions", categories: ["session"], window: 60, limit: 0, reasonCode: "sessions_off" }]);
    const body = `${errorEnvelope()}\n{"type":"session"}\n{"sid":"s","status":"ok"}`;
    const res = await p.send(body);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: EVENT_ID });
    expect(res.headers.get("x-sentry-rate-limits")).toBe("60:session:project:sessions_off");
    expect(res.headers.get("retry-after")).toBeNull();
    expect(upstream.calls[0]!.text).toContain('"type":"event"');
    expect(upstream.calls[0]!.text).not.toContain('"type":"session"');
  });

  it("take an event's attachments down with it", async () => {
    const p = project([{ id: "errors", categories: ["error"], window: 60, limit: 0 }]);
    const body = `${errorEnvelope()}\n{"type":"attachment","length":3,"filename":"a.txt"}\nabc\n{"type":"session"}\n{"sid":"s"}`;
    const res = await p.send(body);
    expect(res.status).toBe(200);
    expect(upstream.calls[0]!.text).not.toContain('"type":"attachment"');
    expect(upstream.calls[0]!.text).toContain('"type":"session"');
    // What was dropped rides along as a client report, so the upstream's counts stay true.
    const report = JSON.parse(upstream.calls[0]!.text.trimEnd().split("\n").at(-1)!);
    expect(report.rate_limited_events).toEqual([
      { reason: "quota_exceeded", category: "error", quantity: 1 },
      { reason: "quota_exceeded", category: "attachment", quantity: 3 },
    ]);
  });

  it("count attachments in bytes", async () => {
    const p = project([{ id: "bytes", categories: ["attachment"], window: 60, limit: 10 }]);
    const attachment = (n: number) => `{}\n{"type":"attachment","length":${n},"filename":"a.bin"}\n${"x".repeat(n)}\n`;
    expect((await p.send(attachment(6))).status).toBe(200);
    expect((await p.send(attachment(6))).status).toBe(429);
    expect((await p.send(attachment(4))).status).toBe(200);
  });

  it("apply to every category when none are named", async () => {
    const p = project([{ id: "all", window: 60, limit: 0 }]);
    const res = await p.send(session);
    expect(res.status).toBe(429);
    expect(res.headers.get("x-sentry-rate-limits")).toBe("60::project:quota_exceeded");
  });

  it("leave projects without quotas alone", async () => {
    const p = project([]);
    for (let i = 0; i < 3; i++) expect((await p.send(errorEnvelope())).status).toBe(200);
  });
});

describe("when the quota counter fails", () => {
  const broken = { QUOTAS: { idFromName: () => ({}), get: () => ({ lease: () => Promise.reject(new Error("boom")) }) } } as unknown as Partial<Env>;
  const hanging = { QUOTAS: { idFromName: () => ({}), get: () => ({ lease: () => new Promise(() => undefined) }) } } as unknown as Partial<Env>;

  it("fails open by default: accepted, forwarded, and counted", async () => {
    const p = project([{ id: "errors", categories: ["error"], window: 60, limit: 1 }]);
    expect((await p.send(errorEnvelope(), KEY, broken)).status).toBe(200);
    expect((await p.send(errorEnvelope(), KEY, broken)).status).toBe(200);
    expect(upstream.calls).toHaveLength(2);
    expect(counterFailures(p.id)).toMatchObject({ calls: 2, unitsAdmittedUncounted: 2, unitsRefused: 0, lastError: "boom" });
  });

  it("fails open on a counter that does not answer in time", async () => {
    const p = project([{ id: "errors", categories: ["error"], window: 60, limit: 1 }], {}, { quotaTimeoutMs: 50 });
    expect((await p.send(errorEnvelope(), KEY, hanging)).status).toBe(200);
  });

  it("fails closed when the project asks for it", async () => {
    const p = project([{ id: "errors", categories: ["error"], window: 60, limit: 100 }], { quotaFailure: "closed" });
    const res = await p.send(errorEnvelope(), KEY, broken);
    expect(res.status).toBe(429);
    expect(res.headers.get("x-sentry-rate-limits")).toBe("1:error:project:quota_unavailable");
    expect(upstream.calls).toHaveLength(0);
    expect(counterFailures(p.id)).toMatchObject({ calls: 1, unitsAdmittedUncounted: 0, unitsRefused: 1 });
    // Items no quota governs are not affected.
    expect((await p.send(session, KEY, broken)).status).toBe(200);
  });
});

describe("leases", () => {
  function countingQuotas(): { binding: Partial<Env>; calls: () => number } {
    let calls = 0;
    const real = (env as Env).QUOTAS!;
    const binding = {
      QUOTAS: {
        idFromName: (name: string) => real.idFromName(name),
        get: (id: DurableObjectId) => {
          const stub = real.get(id);
          return { lease: (requests: unknown) => ((calls++), stub.lease(requests as never)) };
        },
      },
    } as unknown as Partial<Env>;
    return { binding, calls: () => calls };
  }

  it("still stop exactly at the limit", async () => {
    const p = project([{ id: "errors", categories: ["error"], window: 60, limit: 150 }]);
    let accepted = 0;
    for (let i = 0; i < 200; i++) if ((await p.send(errorEnvelope())).status === 200) accepted++;
    expect(accepted).toBe(150);
  });

  it("make far fewer than one counter call per event in steady state", async () => {
    const counting = countingQuotas();
    const p = project([{ id: "errors", categories: ["error"], window: 60, limit: 100_000 }]);
    for (let i = 0; i < 300; i++) expect((await p.send(errorEnvelope(), KEY, counting.binding)).status).toBe(200);
    expect(counting.calls()).toBeLessThan(30);
  });

  it("stop calling the counter once a quota is known to be exhausted", async () => {
    const counting = countingQuotas();
    const p = project([{ id: "errors", categories: ["error"], window: 60, limit: 3 }]);
    for (let i = 0; i < 3; i++) expect((await p.send(errorEnvelope(), KEY, counting.binding)).status).toBe(200);
    expect((await p.send(errorEnvelope(), KEY, counting.binding)).status).toBe(429);
    const before = counting.calls();
    for (let i = 0; i < 50; i++) expect((await p.send(errorEnvelope(), KEY, counting.binding)).status).toBe(429);
    expect(counting.calls()).toBe(before);
  });

  it("without leasing ask the counter for every event", async () => {
    const counting = countingQuotas();
    const p = project([{ id: "errors", categories: ["error"], window: 60, limit: 1000 }], {}, { quotaLeases: false });
    for (let i = 0; i < 20; i++) expect((await p.send(errorEnvelope(), KEY, counting.binding)).status).toBe(200);
    expect(counting.calls()).toBe(20);
  });
});
