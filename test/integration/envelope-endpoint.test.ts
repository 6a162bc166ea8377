import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  EVENT_ID, KEY, KEY2, OTHER_KEY, UPSTREAM_DSN, UPSTREAM_KEY, errorEnvelope, fakeUpstream, post, relay, sentryAuth, testConfig,
} from "./support/harness";

let upstream: ReturnType<typeof fakeUpstream>;
beforeEach(() => {
  upstream = fakeUpstream();
});
afterEach(() => upstream.restore());

describe("POST /api/:projectId/envelope/", () => {
  it("forwards to the project's upstream with its project id and key, byte-for-byte", async () => {
    const body = errorEnvelope();
    const res = await relay(post("/api/42/envelope/", body, sentryAuth()));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: EVENT_ID });
    expect(upstream.calls).toHaveLength(1);
    const call = upstream.calls[0]!;
    expect(call.url).toBe("https://upstream.example.com/api/4501/envelope/");
    expect(call.headers.get("x-sentry-auth")).toMatch(new RegExp(`^Sentry sentry_version=7, sentry_key=${UPSTREAM_KEY}, sentry_client=edge-relay/`));
    expect(call.headers.get("content-type")).toBe("application/x-sentry-envelope");
    expect(call.text).toBe(body);
    expect(call.text).not.toContain(KEY);
  });

  it("accepts the path without the trailing slash", async () => {
    const res = await relay(post("/api/42/envelope", errorEnvelope(), sentryAuth()));
    expect(res.status).toBe(200);
  });

  it.each([
    ["X-Sentry-Auth", "/api/42/envelope/", sentryAuth(KEY2)],
    ["Authorization: Sentry", "/api/42/envelope/", { authorization: `Sentry sentry_key=${KEY2}, sentry_version=7` }],
    ["the sentry_key query parameter", `/api/42/envelope/?sentry_key=${KEY2}&sentry_version=7`, {}],
  ])("authenticates with %s", async (_name, path, headers) => {
    const res = await relay(post(path, errorEnvelope(), headers));
    expect(res.status).toBe(200);
    expect(upstream.calls).toHaveLength(1);
  });

  it("authenticates with the envelope header's dsn and rewrites it to the upstream DSN", async () => {
    const body = errorEnvelope({ dsn: `http://${KEY}@relay.test/42` });
    const res = await relay(post("/api/42/envelope/", body));
    expect(res.status).toBe(200);
    const [header, ...rest] = upstream.calls[0]!.text.split("\n");
    expect(JSON.parse(header!).dsn).toBe(UPSTREAM_DSN);
    // Items are untouched even though the header changed.
    expect(rest.join("\n")).toBe(body.split("\n").slice(1).join("\n"));
  });

  it("rewrites the dynamic sampling context's public_key, as v11 SDKs send it", async () => {
    const header = { event_id: EVENT_ID, trace: { trace_id: "a6e035e923be4941b5d32be105070d71", public_key: KEY } };
    const body = `${JSON.stringify(header)}\n{"type":"event"}\n{"message":"dsc"}`;
    expect((await relay(post("/api/42/envelope/", body, sentryAuth()))).status).toBe(200);
    const forwarded = upstream.calls[0]!.text;
    expect(JSON.parse(forwarded.split("\n")[0]!).trace).toEqual({ trace_id: header.trace.trace_id, public_key: UPSTREAM_KEY });
    expect(forwarded).not.toContain(KEY);
  });

  it.each([
    ["no credentials", "/api/42/envelope/", {}, errorEnvelope(), 401, "missing authorization information"],
    ["an unknown key", "/api/42/envelope/", sentryAuth(OTHER_KEY), errorEnvelope(), 401, "unknown public key for project 42"],
    ["a malformed key", "/api/42/envelope/", sentryAuth("nope"), errorEnvelope(), 401, "invalid public key"],
    ["an unknown project", "/api/7/envelope/", sentryAuth(), errorEnvelope(), 403, "unknown project 7"],
    ["a non-numeric project", "/api/abc/envelope/", sentryAuth(), errorEnvelope(), 400, 'invalid project id "abc"'],
    ["a dsn disagreeing with the header key", "/api/42/envelope/", sentryAuth(KEY2), errorEnvelope({ dsn: `http://${KEY}@relay.test/42` }), 401, "does not match"],
    ["a dsn for another project", "/api/42/envelope/", {}, errorEnvelope({ dsn: `http://${KEY}@relay.test/43` }), 400, "does not match the URL"],
  ])("refuses %s in Sentry's shape", async (_name, path, headers, body, status, detail) => {
    const res = await relay(post(path, body, headers));
    expect(res.status).toBe(status);
    const json = (await res.json()) as { detail: string };
    expect(Object.keys(json)).toEqual(["detail"]);
    expect(json.detail).toContain(detail);
    expect(res.headers.get("x-sentry-error")).toBe(json.detail);
    expect(upstream.calls).toHaveLength(0);
  });

  it.each([
    ["an empty body", "", "empty"],
    ["a header that is not JSON", "{nope\n", "header"],
    ["an item header that is not JSON", `{}\n{"type":"event"\n{}`, "item 0"],
    ["an item without a type", `{}\n{"length":2}\n{}`, "item 0"],
    ["a length past the end", `{}\n{"type":"attachment","length":999}\nabc`, "item 0"],
  ])("answers 400 naming the problem for %s", async (_name, body, fragment) => {
    const res = await relay(post("/api/42/envelope/", body, sentryAuth()));
    expect(res.status).toBe(400);
    const { detail } = (await res.json()) as { detail: string };
    expect(detail).toMatch(/^invalid envelope: /);
    expect(detail.toLowerCase()).toContain(fragment);
    expect(upstream.calls).toHaveLength(0);
  });

  it("forwards unknown item types and binary attachments untouched", async () => {
    const binary = new Uint8Array(256).map((_, i) => i);
    const head = new TextEncoder().encode(
      `{"event_id":"${EVENT_ID}"}\n{"type":"future_thing","x":1}\n{"whatever":true}\n{"type":"attachment","length":256,"filename":"b.bin"}\n`,
    );
    const body = new Uint8Array([...head, ...binary, 10]);
    const res = await relay(post("/api/42/envelope/", body, sentryAuth()));
    expect(res.status).toBe(200);
    expect([...upstream.calls[0]!.body]).toEqual([...body]);
  });

  it("drops only the oversized event item and forwards the rest", async () => {
    const config = testConfig({ limits: { maxEventBytes: 100 } });
    const big = JSON.stringify({ message: "x".repeat(200) });
    const body = `{"event_id":"${EVENT_ID}"}\n{"type":"event","length":${big.length}}\n${big}\n{"type":"attachment","length":3}\nabc\n`;
    const res = await relay(post("/api/42/envelope/", body, sentryAuth()), config);
    expect(res.status).toBe(200);
    const forwarded = upstream.calls[0]!.text;
    expect(forwarded).not.toContain("xxxx");
    expect(forwarded).toContain('{"type":"attachment","length":3}\nabc\n');
  });

  it("answers 413 when every item is too large, 400 when every event is not JSON", async () => {
    const config = testConfig({ limits: { maxEventBytes: 10 } });
    const big = `{"event_id":"${EVENT_ID}"}\n{"type":"event"}\n{"message":"long enough"}`;
    const tooLarge = await relay(post("/api/42/envelope/", big, sentryAuth()), config);
    expect(tooLarge.status).toBe(413);
    expect(((await tooLarge.json()) as { detail: string }).detail).toContain("too_large");
    const notJson = await relay(post("/api/42/envelope/", `{}\n{"type":"event"}\nnot json`, sentryAuth()));
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { detail: string }).detail).toContain("invalid_json");
    expect(upstream.calls).toHaveLength(0);
  });

  it("answers 200 with no id for an envelope without items, forwarding nothing", async () => {
    const res = await relay(post("/api/42/envelope/", "{}\n", sentryAuth()));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    expect(upstream.calls).toHaveLength(0);
  });
});

describe("configuration", () => {
  it("answers 500 with the failing field's path on every request when the config is bad", async () => {
    const bad = JSON.stringify({ projects: { "42": { keys: [KEY], upstream: "nope" } } });
    const res = await relay(post("/api/42/envelope/", errorEnvelope(), sentryAuth()), bad);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { detail: string }).detail).toBe("invalid RELAY_CONFIG at projects.42.upstream (details in the worker log)");
    const ready = await relay(new Request("http://relay.test/readyz"), bad);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { detail: string }).detail).toContain("projects.42.upstream");
  });

  it("serves /healthz always and /readyz when the config is valid", async () => {
    expect((await relay(new Request("http://relay.test/healthz"), "{broken")).status).toBe(200);
    expect((await relay(new Request("http://relay.test/readyz"))).status).toBe(200);
  });

  it("answers unknown paths with 404 in Sentry's shape", async () => {
    const res = await relay(post("/nowhere", "x"));
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ detail: "not found" });
  });
});
