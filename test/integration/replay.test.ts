import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KEY, drainSpoolOnce, fakeUpstream, post, relay, sentryAuth, spool, type UpstreamCall } from "./support/harness";

const TOKEN = "replay-admin-token";
let upstream: ReturnType<typeof fakeUpstream>;
beforeEach(() => {
  upstream = fakeUpstream();
  spool.clear();
});
afterEach(() => upstream.restore());

const NEW = `https://${"cd".repeat(16)}@new.example.com/2`;
const config = JSON.stringify({ projects: { "77": { keys: [KEY], archive: true } } });

let counter = 0;
function envelope(): { id: string; body: string } {
  const id = `77${(++counter).toString(16).padStart(30, "0")}`;
  return { id, body: `{"event_id":"${id}"}\n{"type":"event"}\n{"event_id":"${id}","message":"replay ${counter}"}` };
}

const replay = (body: unknown) => relay(new Request("http://relay.test/admin/projects/77/replay", {
  method: "POST",
  headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
  body: JSON.stringify(body),
}), config, { ADMIN_TOKEN: TOKEN });

const ids = (calls: UpstreamCall[]) => calls.map((c) => /"event_id":"([0-9a-f]{32})"/.exec(c.text)?.[1]);

describe("replay from the R2 archive", () => {
  it("re-sends a range of hours to a fresh upstream, a page at a time, each event once", async () => {
    const sent = Array.from({ length: 7 }, envelope);
    for (const e of sent) expect((await relay(post("/api/77/envelope/", e.body, sentryAuth()), config)).status).toBe(200);
    expect(upstream.calls).toHaveLength(0); // archive only

    const hour = new Date();
    const range = { from: new Date(hour.getTime() - 3_600_000).toISOString(), to: new Date(hour.getTime() + 3_600_000).toISOString(), upstream: NEW, limit: 3 };
    const pages: Array<Record<string, unknown>> = [];
    let cursor: string | undefined;
    do {
      const res = await replay({ ...range, ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      const page = (await res.json()) as Record<string, unknown>;
      pages.push(page);
      cursor = page.cursor as string | undefined;
    } while (cursor);

    expect(pages.length).toBeGreaterThanOrEqual(3);
    expect(pages.reduce((n, p) => n + (p.delivered as number), 0)).toBe(7);
    expect(pages.at(-1)!.done).toBe(true);
    expect(upstream.calls.every((c) => c.url === "https://new.example.com/api/2/envelope/")).toBe(true);
    expect(upstream.calls[0]!.headers.get("x-sentry-auth")).toContain(`sentry_key=${"cd".repeat(16)}`);
    expect(ids(upstream.calls).sort()).toEqual(sent.map((e) => e.id).sort());
  });

  it("skips hours outside the range", async () => {
    const e = envelope();
    await relay(post("/api/77/envelope/", e.body, sentryAuth()), config);
    const res = await replay({ from: "2020-01-01T00:00:00Z", to: "2020-01-01T05:00:00Z", upstream: NEW });
    expect(await res.json()).toMatchObject({ listed: 0, delivered: 0, done: true });
    expect(upstream.calls).toHaveLength(0);
  });

  it("spools what the new upstream cannot take yet", async () => {
    const e = envelope();
    await relay(post("/api/77/envelope/", e.body, sentryAuth()), config);
    upstream.respondWith(() => new Response("down", { status: 503 }));
    const now = new Date();
    const res = await replay({ from: new Date(now.getTime() - 3_600_000).toISOString(), to: now.toISOString(), upstream: NEW });
    const page = (await res.json()) as { spooled: number };
    expect(page.spooled).toBeGreaterThanOrEqual(1);
    expect(spool.messages.some((m) => m.body.reason === "replay")).toBe(true);
  });

  it.each([
    [{ from: "yesterday", to: "2026-01-01" }, "invalid replay request: from"],
    [{ from: "2026-01-01", to: "2026-01-02" }, "has no upstream"],
    [{ from: "2026-01-01", to: "2026-01-02", upstream: "ftp://x@y/1" }, "invalid upstream DSN"],
  ])("refuses %j", async (body, message) => {
    const res = await replay(body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toContain(message);
  });

  it("needs the admin token", async () => {
    const res = await relay(new Request("http://relay.test/admin/projects/77/replay", { method: "POST", body: "{}" }), config, { ADMIN_TOKEN: TOKEN });
    expect(res.status).toBe(401);
  });
});
