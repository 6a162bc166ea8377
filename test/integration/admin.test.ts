import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tokensEqual } from "../../src/admin/auth";
import { KEY, UPSTREAM_DSN, errorEnvelope, fakeUpstream, post, relay, sentryAuth } from "./support/harness";

const TOKEN = "s3cret-admin-token";
let upstream: ReturnType<typeof fakeUpstream>;
beforeEach(() => {
  upstream = fakeUpstream();
});
afterEach(() => upstream.restore());

let nextProject = 700;
function project(quotas: unknown[] = []) {
  const id = String(nextProject++);
  const config = JSON.stringify({ projects: { [id]: { keys: [KEY], upstream: UPSTREAM_DSN, quotas } } });
  const admin = (method: string, body?: unknown, token: string | null = TOKEN, env: Record<string, unknown> = { ADMIN_TOKEN: TOKEN }) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    return relay(new Request(`http://relay.test/admin/projects/${id}/quotas`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    }), config, env);
  };
  const send = () => relay(post(`/api/${id}/envelope/`, errorEnvelope(), sentryAuth()), config);
  return { id, admin, send };
}

describe("admin API authentication", () => {
  it("is disabled without an ADMIN_TOKEN secret", async () => {
    const res = await project().admin("GET", undefined, TOKEN, {});
    expect(res.status).toBe(404);
    expect(((await res.json()) as { detail: string }).detail).toContain("admin API disabled");
  });

  it.each([
    ["no token", null, "missing bearer token"],
    ["a wrong token", "s3cret-admin-tokeX", "invalid bearer token"],
    ["a prefix of the token", "s3cret", "invalid bearer token"],
    ["a longer token", `${TOKEN}x`, "invalid bearer token"],
  ])("refuses %s with 401", async (_name, token, detail) => {
    const res = await project().admin("GET", undefined, token);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
    expect(((await res.json()) as { detail: string }).detail).toBe(detail);
  });

  it("compares tokens by digest, so any length compares in constant time", async () => {
    expect(await tokensEqual(TOKEN, TOKEN)).toBe(true);
    expect(await tokensEqual("", TOKEN)).toBe(false);
    expect(await tokensEqual(`${TOKEN}${"x".repeat(1000)}`, TOKEN)).toBe(false);
  });
});

describe("runtime quota overrides", () => {
  it("reads the configured quotas with their usage", async () => {
    const p = project([{ id: "errors", categories: ["error"], window: 60, limit: 10 }]);
    await p.send();
    await p.send();
    const res = await p.admin("GET");
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      project: p.id,
      source: "config",
      quotas: [{ id: "errors", categories: ["error"], scope: "project", window: 60, limit: 10, reasonCode: "quota_exceeded" }],
      usage: [{ quota: "errors", limit: 10, window: 60 }],
    });
    // Leased units are counted when leased: at least what was sent.
    expect((body.usage as Array<{ used: number }>)[0]!.used).toBeGreaterThanOrEqual(2);
  });

  it("sets quotas without a deploy, and deleting the override restores the configuration", async () => {
    const p = project();
    expect((await p.send()).status).toBe(200);
    const put = await p.admin("PUT", { quotas: [{ id: "stop", categories: ["error"], window: 60, limit: 0 }] });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ source: "override", quotas: [{ id: "stop", limit: 0 }] });
    expect((await p.send()).status).toBe(429);
    expect((await (await p.admin("GET")).json()) as Record<string, unknown>).toMatchObject({ source: "override" });

    const del = await p.admin("DELETE");
    expect(del.status).toBe(200);
    expect(await del.json()).toMatchObject({ source: "config", quotas: [] });
    expect((await p.send()).status).toBe(200);
  });

  it.each([
    [{ quotas: [{ id: "x", window: 60 }] }, "quotas.0.limit"],
    [{ quotas: [{ id: "x", window: 60, limit: 1, categories: ["nope"] }] }, "quotas.0.categories.0"],
    [{ quotas: [{ id: "a", window: 60, limit: 1 }, { id: "a", window: 60, limit: 2 }] }, "duplicate quota id a"],
    [{ quota: [] }, "invalid quotas"],
  ])("refuses %j naming the field", async (body, message) => {
    const res = await project().admin("PUT", body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toContain(message);
  });

  it("answers 404 for a project that is not configured", async () => {
    const res = await relay(new Request("http://relay.test/admin/projects/123456/quotas", { headers: { authorization: `Bearer ${TOKEN}` } }), undefined, { ADMIN_TOKEN: TOKEN });
    expect(res.status).toBe(404);
  });
});
