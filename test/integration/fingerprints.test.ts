import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { flushProject, recordOccurrence, setFlushDelay } from "../../src/stats/fingerprint-batch";
import type { FingerprintObservation, FingerprintRow, FingerprintStore } from "../../src/stats/fingerprint-do";
import { KEY, UPSTREAM_DSN, fakeUpstream, post, relay, sentryAuth } from "./support/harness";

const bindings = env as Env;
const TOKEN = "fingerprint-admin-token";
const fp = (n: number) => n.toString(16).padStart(32, "0");

let nextStore = 0;
function freshStore(): DurableObjectStub<FingerprintStore> {
  return bindings.FINGERPRINTS!.get(bindings.FINGERPRINTS!.idFromName(`fp-test-${nextStore++}`));
}

function seen(fingerprint: string, at: number, extra: Partial<FingerprintObservation> = {}): FingerprintObservation {
  return { fingerprint, count: 1, forwarded: 1, droppedBy: {}, firstSeen: at, lastSeen: at, title: "Error: boom", ...extra };
}

describe("fingerprint store", () => {
  it("reports a fingerprint new exactly once when many isolates flush it at the same time", async () => {
    const store = freshStore();
    const calls = Array.from({ length: 25 }, (_, i) => store.observe([seen(fp(1), 1000 + i), seen(fp(100 + i), 1000 + i)], 10_000));
    const results = await Promise.all(calls);
    expect(results.filter((r) => r.new.includes(fp(1)))).toHaveLength(1);
    // Each isolate's own fingerprint was new to it alone.
    results.forEach((r, i) => expect(r.new).toContain(fp(100 + i)));
    const [row] = (await store.list({ sort: "count", limit: 1, now: 2000 })) as FingerprintRow[];
    expect(row).toMatchObject({ fingerprint: fp(1), count: 25, forwarded: 25, status: "new" });
    expect((await store.observe([seen(fp(1), 5000)], 10_000)).new).toEqual([]);
  });

  it("counts drops by reason and keeps first and last release", async () => {
    const store = freshStore();
    await store.observe([seen(fp(2), 2000, { lastRelease: "1.1", firstRelease: "1.1" })], 100);
    await store.observe([seen(fp(2), 1000, { forwarded: 0, droppedBy: { sampled: 1 }, firstRelease: "1.0", lastRelease: "1.0" })], 100);
    await store.observe([seen(fp(2), 3000, { count: 3, forwarded: 0, droppedBy: { sampled: 1, spike_protected: 2 }, lastRelease: "1.2", lastEventId: "e1" })], 100);
    const [row] = await store.list({ sort: "last_seen", limit: 10, now: 4000 });
    expect(row).toMatchObject({
      count: 5, forwarded: 1, dropped: 4, droppedBy: { sampled: 2, spike_protected: 2 },
      firstRelease: "1.0", lastRelease: "1.2", firstSeen: new Date(1000).toISOString(), lastSeen: new Date(3000).toISOString(), lastEventId: "e1",
    });
  });

  it("reads as ongoing a day after it was first seen", async () => {
    const store = freshStore();
    await store.observe([seen(fp(3), 1000)], 100);
    const day = 24 * 3600 * 1000;
    expect((await store.list({ sort: "last_seen", limit: 1, now: 1000 + day - 1 }))[0]!.status).toBe("new");
    expect((await store.list({ sort: "last_seen", limit: 1, now: 1001 + day }))[0]!.status).toBe("ongoing");
    expect(await store.list({ sort: "last_seen", status: "ongoing", limit: 5, now: 1001 + day })).toHaveLength(1);
    expect(await store.list({ sort: "last_seen", status: "new", limit: 5, now: 1001 + day })).toHaveLength(0);
  });

  it("regresses a resolved fingerprint on its next occurrence", async () => {
    const store = freshStore();
    await store.observe([seen(fp(4), 1000)], 100);
    const now = Date.now();
    expect((await store.resolve(fp(4), undefined, now))!.status).toBe("resolved");
    expect((await store.observe([seen(fp(4), now - 10)], 100)).regressed).toEqual([]); // happened before the resolution
    expect((await store.observe([seen(fp(4), now + 10)], 100)).regressed).toEqual([fp(4)]);
    expect((await store.list({ sort: "last_seen", limit: 1, now }))[0]!.status).toBe("regressed");
    expect(await store.resolve(fp(5), undefined, now)).toBeNull();
  });

  it("resolved in a release: the old release still running is no regression, another release is", async () => {
    const store = freshStore();
    await store.observe([seen(fp(6), 1000, { firstRelease: "1.0", lastRelease: "1.0" })], 100);
    const now = Date.now();
    expect(await store.resolve(fp(6), "2.0", now)).toMatchObject({ status: "resolved", resolvedIn: "2.0" });
    expect((await store.observe([seen(fp(6), now + 1, { lastRelease: "1.0" })], 100)).regressed).toEqual([]);
    expect((await store.observe([seen(fp(6), now + 2)], 100)).regressed).toEqual([]); // no release: cannot tell
    expect((await store.observe([seen(fp(6), now + 3, { lastRelease: "2.0" })], 100)).regressed).toEqual([fp(6)]);
  });

  it("keeps at most the cap, forgetting the least recently seen", async () => {
    const store = freshStore();
    await store.observe([seen(fp(10), 1), seen(fp(11), 2), seen(fp(12), 3)], 3);
    await store.observe([seen(fp(10), 10)], 3);
    const result = await store.observe([seen(fp(13), 11)], 3);
    expect(result).toMatchObject({ new: [fp(13)], evicted: 1 });
    const rows = await store.list({ sort: "last_seen", limit: 10, now: 20 });
    expect(rows.map((r) => r.fingerprint)).toEqual([fp(13), fp(10), fp(12)]);
    // Many new at once beyond the cap: the oldest go, never one just reported new.
    const burst = await store.observe([seen(fp(20), 5), seen(fp(21), 5)], 3);
    expect(burst.evicted).toBe(2);
    const count = await runInDurableObject(store, (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM fingerprints").one().n);
    expect(count).toBe(3);
    expect((await store.list({ sort: "last_seen", limit: 10, now: 20 })).map((r) => r.fingerprint).sort()).toEqual([fp(13), fp(20), fp(21)].sort());
  });
});

describe("per-isolate batch", () => {
  it("sends one call per flush, and its answer says which fingerprints were new", async () => {
    const project = `batch-${nextStore++}`;
    const occurrence = (n: number, at: number) => ({ fingerprint: fp(n), at, fate: "forwarded" as const, title: "E: x" });
    for (let i = 0; i < 5; i++) recordOccurrence(bindings, project, occurrence(30, 100 + i), 100, undefined);
    recordOccurrence(bindings, project, { ...occurrence(31, 200), fate: { dropped: "sampled" } }, 100, undefined);
    const first = await flushProject(bindings, project, 100);
    expect(first.new.sort()).toEqual([fp(30), fp(31)]);
    recordOccurrence(bindings, project, occurrence(30, 300), 100, undefined);
    expect((await flushProject(bindings, project, 100)).new).toEqual([]);
    expect((await flushProject(bindings, project, 100)).new).toEqual([]); // nothing pending
    const store = bindings.FINGERPRINTS!.get(bindings.FINGERPRINTS!.idFromName(project));
    const rows = await store.list({ sort: "count", limit: 10, now: 400 });
    expect(rows.map((r) => [r.fingerprint, r.count, r.forwarded, r.dropped])).toEqual([[fp(30), 6, 6, 0], [fp(31), 1, 0, 1]]);
  });
});

describe("fingerprints through the pipeline and the admin API", () => {
  let upstream: ReturnType<typeof fakeUpstream>;
  beforeEach(() => {
    upstream = fakeUpstream();
    setFlushDelay(0);
  });
  afterEach(() => {
    upstream.restore();
    setFlushDelay(1000);
  });

  let nextProject = 900;
  function project(projectExtra: Record<string, unknown> = {}) {
    const id = String(nextProject++);
    const config = JSON.stringify({ projects: { [id]: { keys: [KEY], upstream: UPSTREAM_DSN, ...projectExtra } } });
    const send = (value: string, options: { type?: string; release?: string; eventId?: string } = {}) => {
      const eventId = options.eventId ?? crypto.randomUUID().replaceAll("-", "");
      const event = { event_id: eventId, level: "error", release: options.release, culprit: "app/checkout.js", exception: { values: [{ type: options.type ?? "TypeError", value }] } };
      return relay(post(`/api/${id}/envelope/`, `{"event_id":"${eventId}"}\n{"type":"event"}\n${JSON.stringify(event)}`, sentryAuth()), config);
    };
    const admin = (path: string, init: { method?: string; body?: string; token?: string | null } = {}) => {
      const headers: Record<string, string> = {};
      if (init.token !== null) headers.authorization = `Bearer ${init.token ?? TOKEN}`;
      return relay(new Request(`http://relay.test/admin/projects/${id}/fingerprints${path}`, { method: init.method ?? "GET", headers, body: init.body }), config, { ADMIN_TOKEN: TOKEN });
    };
    const list = async (query = "") => {
      const res = await admin(query);
      expect(res.status).toBe(200);
      return ((await res.json()) as { fingerprints: FingerprintRow[] }).fingerprints;
    };
    return { id, send, admin, list };
  }

  it("records forwarded events with scrubbed titles", async () => {
    const p = project();
    expect((await p.send("no account for jane.doe@example.com", { release: "1.0", eventId: "a".repeat(32) })).status).toBe(200);
    const rows = await p.list();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      title: "TypeError: no account for [email]", culprit: "app/checkout.js", level: "error", status: "new",
      count: 1, forwarded: 1, dropped: 0, firstRelease: "1.0", lastRelease: "1.0", lastEventId: "a".repeat(32),
    });
    expect(JSON.stringify(rows)).not.toContain("jane.doe");
  });

  it("records events spike protection dropped, titles scrubbed all the same", async () => {
    const p = project({ spike: { perFingerprint: 1, window: 60 } });
    await p.send("card for bob@example.org");
    await p.send("card for bob@example.org");
    const [row] = await p.list();
    expect(row).toMatchObject({ count: 2, forwarded: 1, dropped: 1, droppedBy: { spike_protected: 1 }, title: "TypeError: card for [email]" });
  });

  it("refuses requests without the admin token", async () => {
    const p = project();
    expect((await p.admin("", { token: null })).status).toBe(401);
    expect((await p.admin("", { token: "wrong" })).status).toBe(401);
    expect((await p.admin(`/${fp(1)}/resolve`, { method: "POST", token: null })).status).toBe(401);
  });

  it("sorts, filters by status and limits", async () => {
    const p = project();
    await p.send("a", { type: "AError" });
    for (let i = 0; i < 3; i++) await p.send("b", { type: "BError" });
    await p.send("c", { type: "CError" });
    await p.send("c", { type: "CError" });
    const titles = (rows: FingerprintRow[]) => rows.map((r) => r.title);
    expect(titles(await p.list("?sort=count"))).toEqual(["BError: b", "CError: c", "AError: a"]);
    expect(titles(await p.list("?sort=first_seen&limit=2"))).toHaveLength(2);
    expect(titles(await p.list("?limit=1&sort=count"))).toEqual(["BError: b"]);
    const b = (await p.list("?sort=count"))[0]!;
    const resolved = await p.admin(`/${b.fingerprint}/resolve`, { method: "POST", body: JSON.stringify({ release: "2.0" }) });
    expect(resolved.status).toBe(200);
    expect(await resolved.json()).toMatchObject({ status: "resolved", resolvedIn: "2.0" });
    expect(titles(await p.list("?status=resolved"))).toEqual(["BError: b"]);
    expect(titles(await p.list("?status=new&sort=count"))).toEqual(["CError: c", "AError: a"]);
    await p.send("b", { type: "BError", release: "2.0" });
    expect(titles(await p.list("?status=regressed"))).toEqual(["BError: b"]);
  });

  it("answers 400 naming the field, 404 for unknown fingerprints and projects", async () => {
    const p = project();
    const detail = async (res: Response, status: number) => {
      expect(res.status).toBe(status);
      return ((await res.json()) as { detail: string }).detail;
    };
    expect(await detail(await p.admin("?sort=title"), 400)).toContain("sort");
    expect(await detail(await p.admin("?limit=0"), 400)).toContain("limit");
    expect(await detail(await p.admin("?status=open"), 400)).toContain("status");
    expect(await detail(await p.admin("?colour=red"), 400)).toContain("colour");
    expect(await detail(await p.admin(`/${fp(7)}/resolve`, { method: "POST", body: JSON.stringify({ release: 3 }) }), 400)).toContain("release");
    expect(await detail(await p.admin(`/${fp(7)}/resolve`, { method: "POST", body: "{" }), 400)).toContain("not JSON");
    expect(await detail(await p.admin(`/${fp(7)}/resolve`, { method: "POST" }), 404)).toContain("unknown fingerprint");
    expect(await detail(await p.admin(`/not-a-fingerprint/resolve`, { method: "POST" }), 404)).toContain("unknown fingerprint");
    const other = await relay(new Request("http://relay.test/admin/projects/999999/fingerprints", { headers: { authorization: `Bearer ${TOKEN}` } }), JSON.stringify({ projects: {} }), { ADMIN_TOKEN: TOKEN });
    expect(await detail(other, 404)).toContain("unknown project");
  });
});
