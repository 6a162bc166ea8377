import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { HOUR_MS, MINUTE_MS, type LedgerRow } from "../../src/stats/buckets";
import type { OutcomeLedger } from "../../src/stats/ledger-do";
import { flushNow } from "../../src/stats/recorder";
import { KEY, UPSTREAM_DSN, fakeUpstream, post, relay, sentryAuth } from "./support/harness";

const TOKEN = "stats-admin-token";
let upstream: ReturnType<typeof fakeUpstream>;
beforeEach(() => {
  upstream = fakeUpstream();
});
afterEach(() => upstream.restore());

const ledgers = (env as Env).LEDGER!;
const ledgerOf = (id: string) => ledgers.get(ledgers.idFromName(id));

let nextProject = 1200;
function project(extra: Record<string, unknown> = {}) {
  const id = String(nextProject++);
  const config = JSON.stringify({
    projects: {
      [id]: { keys: [KEY], upstream: UPSTREAM_DSN, ...extra },
    },
  });
  const send = (body: string) => relay(post(`/api/${id}/envelope/`, body, sentryAuth()), config);
  const admin = (path: string, token: string | null = TOKEN) => {
    const headers: Record<string, string> = {};
    if (token !== null) headers.authorization = `Bearer ${token}`;
    return relay(new Request(`http://relay.test/admin${path}`, { headers }), config, { ADMIN_TOKEN: TOKEN });
  };
  return { id, config, send, admin };
}

const event = (payload: string) => `{}\n{"type":"event"}\n${payload}`;

describe("the outcome ledger", () => {
  it("counts exactly what the pipeline did with a mixed workload", async () => {
    const p = project({
      filters: { errorMessages: ["*ignore me*"] },
      quotas: [{ id: "no-sessions", categories: ["session"], window: 60, limit: 0, reasonCode: "sessions_off" }],
      sampling: { transaction: 0, keepNewFingerprints: false },
    });
    const accepted = '{"message":"real problem"}';
    expect((await p.send(event(accepted))).status).toBe(200);
    expect((await p.send(event(accepted))).status).toBe(200);
    const ignored = '{"message":"please ignore me"}';
    expect((await p.send(event(ignored))).status).toBe(200);
    const session = '{"sid":"s","status":"ok"}';
    expect((await p.send(`{}\n{"type":"session"}\n${session}`)).status).toBe(429);
    expect((await p.send(event("{not json"))).status).toBe(400);
    const transaction = '{"type":"transaction","transaction":"/home","start_timestamp":1,"timestamp":2}';
    expect((await p.send(`{}\n{"type":"transaction"}\n${transaction}`)).status).toBe(200);
    // An attachment rides along with an accepted event: counted in bytes under `attachment`.
    expect((await p.send(`${event(accepted)}\n{"type":"attachment","length":5,"filename":"a.txt"}\nhello`)).status).toBe(200);
    expect(upstream.calls).toHaveLength(3);

    const res = await p.admin(`/projects/${p.id}/stats?resolution=minute`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { totals: Record<string, unknown>; series: Array<{ t: string }> };
    const bytes = accepted.length;
    expect(body.totals).toEqual({
      error: { received: 5, forwarded: 3, dropped: { "filtered/error-message": 1, "invalid/invalid_json": 1 }, bytesReceived: 3 * bytes + ignored.length + "{not json".length, bytesForwarded: 3 * bytes },
      session: { received: 1, forwarded: 0, dropped: { "rate_limited/sessions_off": 1 }, bytesReceived: session.length, bytesForwarded: 0 },
      transaction: { received: 1, forwarded: 0, dropped: { "sampled/edge_sampling": 1 }, bytesReceived: transaction.length, bytesForwarded: 0 },
      attachment: { received: 5, forwarded: 5, dropped: {}, bytesReceived: 5, bytesForwarded: 5 },
    });
    expect(body.series.length).toBeGreaterThanOrEqual(1);
    for (const point of body.series) expect(Date.parse(point.t) % MINUTE_MS).toBe(0);
  });

  it("batches: many requests from one isolate make few ledger calls", async () => {
    const p = project();
    const before = await ledgerOf(p.id).recordCalls();
    for (let i = 0; i < 40; i++) expect((await p.send(event('{"message":"m"}'))).status).toBe(200);
    await flushNow(env as Env, p.id);
    const calls = (await ledgerOf(p.id).recordCalls()) - before;
    // The first request flushes at once; the rest wait out the one-second interval (plus the final flush).
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThanOrEqual(2 + Math.ceil(40 / 20));
    const res = await p.admin(`/projects/${p.id}/stats`);
    const body = (await res.json()) as { totals: { error: { received: number; forwarded: number } } };
    expect(body.totals.error).toMatchObject({ received: 40, forwarded: 40 });
  });

  it("rolls minutes older than 48 hours into hours and deletes hours older than 90 days", async () => {
    const p = project();
    const now = Date.now();
    const hourStart = Math.floor((now - 72 * HOUR_MS) / HOUR_MS) * HOUR_MS;
    const row = (t: number, quantity: number): LedgerRow => ({ t, category: "error", outcome: "accepted", reason: "", quantity, bytes: quantity * 10 });
    const stub = ledgerOf(p.id);
    await stub.record([row(hourStart + 1 * MINUTE_MS, 2), row(hourStart + 30 * MINUTE_MS, 3), row(now - 91 * 24 * HOUR_MS, 7), row(now, 1)]);
    // The 91-day-old minute is first rolled into its hour, then that hour is expired: put an old hour directly too.
    await runInDurableObject(stub, (instance: OutcomeLedger, state) => {
      expect(instance).toBeDefined();
      state.storage.sql.exec("INSERT INTO hours VALUES (?, 'error', 'accepted', '', 4, 40)", Math.floor((now - 100 * 24 * HOUR_MS) / HOUR_MS) * HOUR_MS);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await runInDurableObject(stub, (_instance: OutcomeLedger, state) => {
      const minutes = state.storage.sql.exec<{ t: number; quantity: number }>("SELECT t, quantity FROM minutes ORDER BY t").toArray();
      const hours = state.storage.sql.exec<{ t: number; quantity: number; bytes: number }>("SELECT t, quantity, bytes FROM hours ORDER BY t").toArray();
      expect(minutes).toEqual([{ t: Math.floor(now / MINUTE_MS) * MINUTE_MS, quantity: 1 }]);
      expect(hours).toEqual([{ t: hourStart, quantity: 5, bytes: 50 }]);
    });
    // The rolled-up hour still answers queries, at hour granularity.
    const rows = await stub.query(now - 80 * HOUR_MS, now + MINUTE_MS, HOUR_MS);
    expect(rows.map((r) => [r.t, r.quantity])).toEqual([[hourStart, 5], [Math.floor(now / HOUR_MS) * HOUR_MS, 1]]);
  });
});

describe("the stats API", () => {
  it("needs the admin token", async () => {
    const p = project();
    expect((await p.admin(`/projects/${p.id}/stats`, null)).status).toBe(401);
    expect((await p.admin("/stats", "wrong")).status).toBe(401);
  });

  it.each([
    ["resolution=second", "resolution"],
    ["from=yesterday", "from"],
    ["to=2026-13-01T00:00:00Z", "to"],
    ["from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z", "from"],
    ["from=2026-01-01T00:00:00Z&to=2026-11-01T00:00:00Z&resolution=minute", "from"],
    ["bogus=1", "bogus"],
    ["resolution=hour&resolution=day", "resolution"],
  ])("refuses %s with a 400 naming %s", async (query, field) => {
    const p = project();
    const res = await p.admin(`/projects/${p.id}/stats?${query}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toContain(`invalid query: "${field}"`);
  });

  it("answers 404 for a project that is not configured", async () => {
    const p = project();
    expect((await p.admin("/projects/__proto__/stats")).status).toBe(404);
  });

  it("answers a series per resolution and every project's totals for the last day", async () => {
    const p = project();
    expect((await p.send(event('{"message":"one"}'))).status).toBe(200);
    const day = (await (await p.admin(`/projects/${p.id}/stats?resolution=day`)).json()) as { series: Array<{ t: string; categories: Record<string, unknown> }> };
    expect(day.series).toHaveLength(1);
    expect(Date.parse(day.series[0]!.t) % (24 * HOUR_MS)).toBe(0);
    expect(day.series[0]!.categories).toEqual({ error: { received: 1, forwarded: 1, dropped: {}, bytesReceived: 17, bytesForwarded: 17 } });

    const all = await p.admin("/stats");
    expect(all.status).toBe(200);
    expect(await all.json()).toMatchObject({ projects: { [p.id]: { error: { received: 1, forwarded: 1 } } } });
  });
});
