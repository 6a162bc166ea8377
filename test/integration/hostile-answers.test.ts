import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { errorEnvelope, fakeUpstream, KEY, post, relay, sentryAuth, testConfig, UPSTREAM_DSN } from "./support/harness";

let upstream: ReturnType<typeof fakeUpstream>;
beforeEach(() => {
  upstream = fakeUpstream();
});
afterEach(() => upstream.restore());

/** An upstream key and host no answer may ever repeat, in part or whole. */
const SECRET_KEY = "5ec7e75ec7e75ec7e75ec7e75ec7e75e";
const SECRET_HOST = "hidden-ingest.example.com";
const SECRET_DSN = `https://${SECRET_KEY}@${SECRET_HOST}/4501`;
const secretParts = [SECRET_KEY, SECRET_KEY.slice(0, 12), SECRET_KEY.slice(-12), SECRET_HOST, "hidden-ingest"];

const project = (extra: Record<string, unknown>) => ({ keys: [KEY], upstream: SECRET_DSN, ...extra });
const doc = (projects: Record<string, unknown>, extra: Record<string, unknown> = {}) => JSON.stringify({ projects, ...extra });

describe("a broken RELAY_CONFIG is never quoted in an answer", () => {
  it.each([
    ["a syntax error right after a DSN", `{"projects":{"42":{"keys":["${KEY}"],"upstream":"${SECRET_DSN}" "archive":true}}}`],
    ["a syntax error inside a DSN", `{"projects":{"42":{"keys":["${KEY}"],"upstream":"https://${SECRET_KEY}@${SECRET_HOST}/45\u0001"}}}`],
    ["a truncated document ending in a DSN", `{"projects":{"42":{"keys":["${KEY}"],"upstream":"${SECRET_DSN}`],
    ["a DSN with a scheme the schema refuses", doc({ "42": project({ upstream: `ftp://${SECRET_KEY}@${SECRET_HOST}/1` }) })],
    ["a DSN without a project id", doc({ "42": project({ upstream: `https://${SECRET_KEY}@${SECRET_HOST}/x` }) })],
    ["a DSN given as a public key", doc({ "42": project({ keys: [SECRET_DSN] }) })],
    ["a DSN given as an origin", doc({ "42": project({ allowedOrigins: [SECRET_DSN] }) })],
    ["a DSN given as a boolean", doc({ "42": project({ archive: SECRET_DSN }) })],
    ["a DSN as a project id", doc({ [SECRET_DSN]: project({}) })],
    ["a DSN as a scrub pattern", doc({ "42": project({ scrub: { rules: [{ selector: "$string", pattern: `(${SECRET_DSN}` }] } }) })],
    ["a DSN as a quota id", doc({ "42": project({ quotas: [{ id: SECRET_DSN, window: 60, limit: 1 }] }) })],
    ["a DSN as the tunnel path", doc({ "42": project({}) }, { tunnelPath: SECRET_DSN })],
    ["a DSN where a number belongs", doc({ "42": project({}) }, { limits: { maxEventBytes: SECRET_DSN } })],
    ["a DSN as a sampling category", doc({ "42": project({ sampling: { [SECRET_DSN]: 0.5 } }) })],
  ])("%s: /readyz and ingest name the field, not the text", async (_name, config) => {
    const answers = [
      await relay(new Request("http://relay.test/readyz"), config),
      await relay(post("/api/42/envelope/", errorEnvelope(), sentryAuth()), config),
      await relay(new Request("http://relay.test/admin/projects/42/quotas", { headers: { authorization: "Bearer t" } }), config, { ADMIN_TOKEN: "t" }),
    ];
    expect(answers.map((a) => a.status)).toEqual([503, 500, 500]);
    for (const answer of answers) {
      const text = `${[...answer.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n${await answer.text()}`;
      expect(text).toContain("invalid RELAY_CONFIG");
      for (const part of secretParts) expect(text).not.toContain(part);
    }
    expect(upstream.calls).toHaveLength(0);
  });

  it("names the failing field's path", async () => {
    const res = await relay(new Request("http://relay.test/readyz"), doc({ "42": project({ upstream: `ftp://${SECRET_KEY}@${SECRET_HOST}/1` }) }));
    expect(await res.json()).toEqual({ ok: false, detail: "invalid RELAY_CONFIG at projects.42.upstream (details in the worker log)" });
    const key = await relay(new Request("http://relay.test/readyz"), doc({ [SECRET_DSN]: project({}) }));
    expect(((await key.json()) as { detail: string }).detail).toBe("invalid RELAY_CONFIG at projects.* (details in the worker log)");
  });
});

const isPrintableAscii = (value: string) => [...value].every((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) <= 0x7e);

describe("headers carry printable ASCII only", () => {
  it.each([
    ["CR LF", "/api/%0d%0a/envelope/"],
    ["a header injection", "/api/%0d%0aSet-Cookie:%20x=1/envelope/"],
    ["a snowman on store", "/api/%E2%98%83/store/"],
    ["NUL on security", "/api/%00/security/"],
    ["an emoji and LF", "/api/%F0%9F%92%A9%0A/envelope/"],
    ["2000 snowmen", `/api/${"9".repeat(10)}x${"%E2%98%83".repeat(2000)}/envelope/`],
  ])("%s in the project id → 400, an ASCII X-Sentry-Error, a bounded detail", async (_name, path) => {
    const res = await relay(post(path, errorEnvelope(), sentryAuth()));
    expect(res.status).toBe(400);
    const header = res.headers.get("x-sentry-error")!;
    expect(header).toMatch(/^invalid project id /);
    expect(isPrintableAscii(header)).toBe(true);
    expect(header.length).toBeLessThanOrEqual(300);
    expect(res.headers.get("set-cookie")).toBeNull();
    const { detail } = (await res.json()) as { detail: string };
    expect(isPrintableAscii(detail)).toBe(true);
    expect(detail.length).toBeLessThan(200);
  });

  it("escapes what it quotes, so the answer still says what was sent", async () => {
    const res = await relay(post("/api/%E2%98%83%0d%0a/envelope/", errorEnvelope(), sentryAuth()));
    expect(((await res.json()) as { detail: string }).detail).toBe('invalid project id "\\u2603\\u000d\\u000a" in the URL');
  });

  it("quotes a refused Origin escaped and bounded", async () => {
    const origin = `https://${"\u00e9".repeat(3000)}.example`;
    const res = await relay(post("/api/42/envelope/", errorEnvelope(), { ...sentryAuth(), origin: encodeURI(origin) }));
    expect(res.status).toBe(403);
    const header = res.headers.get("x-sentry-error")!;
    expect(isPrintableAscii(header)).toBe(true);
    expect(((await res.json()) as { detail: string }).detail.length).toBeLessThan(200);
  });
});

describe("project ids are looked up by own keys only", () => {
  const names = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "__defineGetter__"];

  it.each(names)("admin /admin/projects/%s/quotas → 404", async (name) => {
    for (const method of ["GET", "PUT", "DELETE"]) {
      const res = await relay(new Request(`http://relay.test/admin/projects/${name}/quotas`, {
        method,
        headers: { authorization: "Bearer t", "content-type": "application/json" },
        ...(method === "PUT" ? { body: JSON.stringify({ quotas: [] }) } : {}),
      }), testConfig(), { ADMIN_TOKEN: "t" });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { detail: string }).detail).toBe(`unknown project "${name}"`);
    }
    const replay = await relay(new Request(`http://relay.test/admin/projects/${name}/replay`, {
      method: "POST",
      headers: { authorization: "Bearer t" },
      body: JSON.stringify({ from: "2026-11-01", to: "2026-11-02" }),
    }), testConfig(), { ADMIN_TOKEN: "t" });
    expect(replay.status).toBe(404);
  });

  it.each(names)("ingest with %s as the project → 4xx, never 500", async (name) => {
    const answers = [
      await relay(post(`/api/${name}/envelope/`, errorEnvelope(), sentryAuth())),
      await relay(post(`/api/${name}/store/`, "{}", sentryAuth())),
      await relay(post(`/api/${name}/security/?sentry_key=${KEY}`, "{}")),
      await relay(post("/tunnel", errorEnvelope({ dsn: `https://${KEY}@relay.example/${name}` }))),
      await relay(post("/tunnel", errorEnvelope(), { "x-sentry-auth": `Sentry sentry_key=${KEY}, ${name}=1, __proto__=x` })),
    ];
    for (const answer of answers) {
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
    }
    expect(upstream.calls).toHaveLength(0);
  });

  it.each(names)("an event whose top-level key is %s is scrubbed and forwarded, never a 500", async (name) => {
    const event = `{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","${name}":{"stacktrace":{"frames":[{"vars":{"email":"jane@example.com"}}]},"0":{"a":1}}}`;
    const res = await relay(post("/api/42/envelope/", `{}\n{"type":"event"}\n${event}`, sentryAuth()));
    expect(res.status).toBe(200);
    expect(upstream.calls).toHaveLength(1);
    expect(upstream.calls[0]!.text).not.toContain("jane@example.com");
  });

  it("a project whose id is a number still resolves", async () => {
    const res = await relay(post("/api/42/envelope/", errorEnvelope(), sentryAuth()));
    expect(res.status).toBe(200);
    expect(upstream.calls[0]!.headers.get("x-sentry-auth")).toContain(UPSTREAM_DSN.slice(8, 40));
  });
});
