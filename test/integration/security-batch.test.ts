import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KEY, UPSTREAM_DSN, fakeUpstream, post, relay, type UpstreamCall } from "./support/harness";

let upstream: ReturnType<typeof fakeUpstream>;
beforeEach(() => {
  upstream = fakeUpstream();
});
afterEach(() => upstream.restore());

let nextProject = 7100;

/** A project of its own per test: quota counters and pending client reports outlive a test. */
function setup(settings: Record<string, unknown> = {}, limits: Record<string, unknown> = {}) {
  const id = String(nextProject++);
  const config = JSON.stringify({ projects: { [id]: { keys: [KEY], upstream: UPSTREAM_DSN, ...settings } }, limits });
  const send = (body: unknown) => relay(post(`/api/${id}/security/?sentry_key=${KEY}`, JSON.stringify(body), { "content-type": "application/reports+json" }), config);
  const admin = () => relay(new Request(`http://relay.test/admin/projects/${id}/quotas`, { headers: { authorization: "Bearer t" } }), config, { ADMIN_TOKEN: "t" });
  return { id, config, send, admin };
}

/** `n` Reporting API csp-violations, each blocking a different script, with a deprecation report mixed in. */
const batch = (n: number) => [
  { type: "deprecation", url: "https://app.example.com/", body: { id: "x" } },
  ...Array.from({ length: n }, (_, i) => ({
    type: "csp-violation",
    url: "https://app.example.com/page",
    body: { documentURL: "https://app.example.com/page", effectiveDirective: "script-src-elem", blockedURL: `https://cdn${i}.bad.example/x.js` },
  })),
];

const events = (calls: UpstreamCall[]) => calls.flatMap((call) => {
  const lines = call.text.split("\n");
  return lines.flatMap((line, i) => (line.startsWith('{"type":"event"') ? [JSON.parse(lines[i + 1]!)] : []));
});
const clientReports = (calls: UpstreamCall[]) => calls.flatMap((call) => {
  const lines = call.text.split("\n");
  return lines.flatMap((line, i) => (line.startsWith('{"type":"client_report"') ? [JSON.parse(lines[i + 1]!)] : []));
});

describe("security reports in batches", () => {
  it("takes the first 100 of 300 reports, one upstream request each, and reports the rest as dropped", async () => {
    const { send } = setup();
    const res = await send(batch(300));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ reports: 300, accepted: 100, rate_limited: 0, over_cap: 200 });
    // One event per envelope is all the protocol allows: 100 kept reports, 100 requests.
    expect(upstream.calls).toHaveLength(100);
    const blocked = events(upstream.calls).map((e) => e.csp.blocked_uri).sort();
    expect(blocked).toEqual(Array.from({ length: 100 }, (_, i) => `https://cdn${i}.bad.example/x.js`).sort());
    // The 200 dropped ride along, once, in a client report to the upstream.
    expect(clientReports(upstream.calls)).toEqual([
      expect.objectContaining({ discarded_events: [{ reason: "too_large", category: "security", quantity: 200 }] }),
    ]);
  });

  it("keeps the cap configurable", async () => {
    const { send } = setup({}, { maxSecurityReports: 5 });
    const res = await send(batch(8));
    expect(await res.json()).toEqual({ reports: 8, accepted: 5, rate_limited: 0, over_cap: 3 });
    expect(upstream.calls).toHaveLength(5);
  });

  it("counts the whole batch against quotas before anything is forwarded: a quota of 10 lets exactly 10 through", async () => {
    // Every category: security events travel as `event` items (see storeEventToEnvelope), counted as errors.
    const { send, admin } = setup({ quotas: [{ id: "all", categories: [], window: 3600, limit: 10 }] });
    const usedAtFirstForward: number[] = [];
    let asked = false;
    upstream.respondWith(async () => {
      if (!asked) {
        asked = true;
        const quotas = (await (await admin()).json()) as { usage: Array<{ used: number }> };
        usedAtFirstForward.push(quotas.usage[0]!.used);
      }
      return Response.json({ id: "upstream" });
    });
    const res = await send(batch(300));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ reports: 300, accepted: 10, rate_limited: 90, over_cap: 200 });
    expect(res.headers.get("x-sentry-rate-limits")).toMatch(/^\d+::project:quota_exceeded$/);
    expect(upstream.calls).toHaveLength(10);
    // When the first report left, all ten units were already taken.
    expect(usedAtFirstForward).toEqual([10]);
    const refused = clientReports(upstream.calls).flatMap((r) => r.rate_limited_events ?? []);
    expect(refused).toEqual([{ reason: "quota_exceeded", category: "error", quantity: 90 }]);

    // Spent: the next batch is refused whole, and nothing more goes upstream.
    const again = await send(batch(3));
    expect(again.status).toBe(429);
    expect(await again.json()).toEqual({ detail: "event submission rejected with_reason: rate limited", reports: 3, accepted: 0, rate_limited: 3, over_cap: 0 });
    expect(Number(again.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(upstream.calls).toHaveLength(10);
  });

  it("has at most 6 upstream requests in flight at once", async () => {
    const { send } = setup();
    let inFlight = 0;
    let most = 0;
    upstream.respondWith(async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight--;
      return Response.json({ id: "upstream" });
    });
    expect((await send(batch(40))).status).toBe(200);
    expect(upstream.calls).toHaveLength(40);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(6);
  });

  it("never answers 200 when a report was lost upstream", async () => {
    const { send } = setup();
    upstream.respondWith(() => (upstream.calls.length === 3
      ? Response.json({ detail: "bad event" }, { status: 400 })
      : Response.json({ id: "upstream" })));
    const res = await send(batch(5));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ reports: 5, accepted: 4, rate_limited: 0, over_cap: 0 });
    expect(upstream.calls).toHaveLength(5);
  });

  it("does not count reports the inbound filters drop", async () => {
    const { send } = setup({
      quotas: [{ id: "all", categories: [], window: 3600, limit: 2 }],
      filters: { errorMessages: ["*cdn0.bad*", "*cdn1.bad*"] },
    });
    const res = await send(batch(5));
    // Two filtered (answered as accepted, as Sentry does), two within the quota, one over it.
    expect(await res.json()).toEqual({ reports: 5, accepted: 4, rate_limited: 1, over_cap: 0 });
    expect(upstream.calls).toHaveLength(2);
    expect(events(upstream.calls).map((e) => e.csp.blocked_uri).sort()).toEqual(["https://cdn2.bad.example/x.js", "https://cdn3.bad.example/x.js"]);
  });

  it("refuses a body over maxEventBytes before parsing it, and one nested too deep", async () => {
    const { send } = setup({}, { maxEventBytes: 10_000 });
    expect((await send(batch(100))).status).toBe(413);
    const deep = await send(JSON.parse(`${"[".repeat(200)}${"]".repeat(200)}`));
    expect(deep.status).toBe(400);
    expect(((await deep.json()) as { detail: string }).detail).toBe("invalid security report: body is not JSON (too_deep)");
    expect(upstream.calls).toHaveLength(0);
  });
});
