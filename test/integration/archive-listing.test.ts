import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { archiveEnvelope, archiveKey } from "../../src/forward/archive";
import { KEY, fakeUpstream, post, relay, sentryAuth } from "./support/harness";

const TOKEN = "archive-admin-token";
const bucket = () => (env as { ARCHIVE: R2Bucket }).ARCHIVE;
let upstream: ReturnType<typeof fakeUpstream>;
beforeEach(() => {
  upstream = fakeUpstream();
});
afterEach(() => upstream.restore());

/** Each test a project of its own: the bucket outlives a test. */
let nextProject = 7800;
function project() {
  const id = String(nextProject++);
  const config = JSON.stringify({ projects: { [id]: { keys: [KEY], archive: true } } });
  const admin = (path: string, token: string | null = TOKEN, vars: Record<string, string> = { ADMIN_TOKEN: TOKEN }) =>
    relay(new Request(`http://relay.test/admin/projects/${id}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} }), config, vars);
  const send = (eventId: string, body = `{"event_id":"${eventId}","message":"archived ${eventId}"}`) =>
    relay(post(`/api/${id}/envelope/`, `{"event_id":"${eventId}"}\n{"type":"event"}\n${body}`, sentryAuth()), config);
  return { id, admin, send };
}

interface Listed {
  project: string;
  objects: Array<{ key: string; eventId: string; size: number; uploaded: string; metadata: Record<string, string> }>;
  done: boolean;
  cursor?: string;
}

const eventId = (n: number) => n.toString(16).padStart(32, "a");

describe("GET /admin/projects/:id/archive", () => {
  it("lists what was archived: key, event id, stored size, upload time and the object's metadata", async () => {
    const p = project();
    const before = Date.now();
    expect((await p.send(eventId(1))).status).toBe(200);
    const res = await p.admin("/archive");
    expect(res.status).toBe(200);
    const listed = (await res.json()) as Listed;
    expect(listed).toMatchObject({ project: p.id, done: true });
    expect(listed.cursor).toBeUndefined();
    expect(listed.objects).toHaveLength(1);
    const [object] = listed.objects;
    expect(object!.key).toMatch(new RegExp(`^${p.id}/\\d{4}/\\d{2}/\\d{2}/\\d{2}/${eventId(1)}\\.envelope$`));
    expect(object!.eventId).toBe(eventId(1));
    const stored = await bucket().head(object!.key);
    expect(object!.size).toBe(stored!.size);
    expect(Date.parse(object!.uploaded)).toBeGreaterThanOrEqual(before - 1000);
    expect(object!.metadata).toEqual(stored!.customMetadata);
    expect(object!.metadata).toMatchObject({ project: p.id, categories: "error" });
    expect(Number(object!.metadata.size)).toBeGreaterThan(object!.size - 200);
    expect(object!.metadata.fingerprint).toMatch(/^[0-9a-f]{32}$/);
  });

  it("pages by R2 cursor, every envelope once", async () => {
    const p = project();
    const sent = Array.from({ length: 7 }, (_, i) => eventId(100 + i));
    for (const id of sent) expect((await p.send(id)).status).toBe(200);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await p.admin(`/archive?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as Listed;
      expect(page.objects.length).toBeLessThanOrEqual(3);
      seen.push(...page.objects.map((o) => o.eventId));
      cursor = page.done ? undefined : page.cursor;
      if (!page.done) expect(cursor).toBeTruthy();
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(seen.sort()).toEqual(sent.sort());
  });

  it("keeps to the hours from..to, both included", async () => {
    const p = project();
    const hours = ["2020-01-01T09:30:00Z", "2020-01-01T10:05:00Z", "2020-01-01T11:59:59Z", "2020-01-01T12:00:00Z"];
    for (const [i, at] of hours.entries()) {
      await archiveEnvelope(bucket(), archiveKey(p.id, eventId(200 + i), new Date(at)), new TextEncoder().encode("{}\n"), { project: p.id });
    }
    const range = async (query: string) => ((await (await p.admin(`/archive?${query}`)).json()) as Listed).objects.map((o) => o.eventId);
    expect(await range("from=2020-01-01T11:30:00Z&to=2020-01-01T11:45:00Z")).toEqual([eventId(202)]);
    expect(await range("from=2020-01-01T10:00:00Z&to=2020-01-01T11:00:00Z")).toEqual([eventId(201), eventId(202)]);
    expect(await range("from=2020-01-01T12:00:00Z")).toEqual([eventId(203)]);
    expect(await range("to=2020-01-01T09:00:00Z")).toEqual([eventId(200)]);
    expect(await range("from=2020-01-01&to=2020-01-01")).toHaveLength(4);
    expect(await range("from=2021-01-01T00:00:00Z")).toEqual([]);
  });

  it("needs the admin token, and is off without one", async () => {
    const p = project();
    expect((await p.admin("/archive", null)).status).toBe(401);
    const wrong = await p.admin("/archive", "not-the-token");
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toContain("invalid_token");
    expect((await p.admin("/archive", TOKEN, {})).status).toBe(404);
    expect((await p.admin(`/archive/envelope?key=${p.id}/x.envelope`, null)).status).toBe(401);
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=1001", "limit"],
    ["limit=ten", "limit"],
    ["from=yesterday", "from"],
    ["from=2026-01-02&to=2026-01-01", "from is after to"],
  ])("refuses %s", async (query, message) => {
    const res = await project().admin(`/archive?${query}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toContain(message);
  });

  it("404 for a project that is not configured", async () => {
    const res = await relay(new Request("http://relay.test/admin/projects/__proto__/archive", { headers: { authorization: `Bearer ${TOKEN}` } }), undefined, { ADMIN_TOKEN: TOKEN });
    expect(res.status).toBe(404);
  });
});

describe("GET /admin/projects/:id/archive/envelope?key=", () => {
  it("gives back the archived envelope, uncompressed, as scrubbed", async () => {
    const p = project();
    expect((await p.send(eventId(300), `{"message":"mail bob@example.com"}`)).status).toBe(200);
    const [object] = ((await (await p.admin("/archive")).json()) as Listed).objects;
    const res = await p.admin(`/archive/envelope?key=${encodeURIComponent(object!.key)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-sentry-envelope");
    const text = await res.text();
    expect(text.split("\n")).toEqual([`{"event_id":"${eventId(300)}"}`, expect.stringContaining('"type":"event"'), '{"message":"mail [email]"}', ""]);
  });

  it("reads only its own project's archive", async () => {
    const p = project();
    const other = project();
    await other.send(eventId(301));
    const [object] = ((await (await other.admin("/archive")).json()) as Listed).objects;
    const res = await p.admin(`/archive/envelope?key=${encodeURIComponent(object!.key)}`);
    expect(res.status).toBe(400);
    expect((await p.admin(`/archive/envelope?key=${encodeURIComponent(`staging/${p.id}/x`)}`)).status).toBe(400);
    expect((await p.admin(`/archive/envelope?key=${encodeURIComponent(`${p.id}/2020/01/01/00/none.envelope`)}`)).status).toBe(404);
  });
});
