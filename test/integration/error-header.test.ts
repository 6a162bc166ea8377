import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KEY, UPSTREAM_DSN, errorEnvelope, fakeUpstream, post, relay, sentryAuth } from "./support/harness";

let upstream: ReturnType<typeof fakeUpstream>;
beforeEach(() => {
  upstream = fakeUpstream();
});
afterEach(() => upstream.restore());

/** A project of its own per test: quota counters and remembered upstream limits outlive a test. */
let nextProject = 9300;
function project(settings: Record<string, unknown> = {}, limits: Record<string, unknown> = {}) {
  const id = String(nextProject++);
  const config = JSON.stringify({
    projects: { [id]: { keys: [KEY], upstream: UPSTREAM_DSN, allowedOrigins: ["https://app.example.com"], ...settings } },
    limits,
  });
  return { id, config };
}

const NONE_LEFT = [{ id: "none", categories: [], window: 60, limit: 0 }];

/** `X-Sentry-Error` is there, printable ASCII, and says what the body's detail says. */
async function expectErrorHeader(res: Response, status: number): Promise<string> {
  expect(res.status).toBe(status);
  const header = res.headers.get("x-sentry-error");
  expect(header).not.toBeNull();
  expect(header).toMatch(/^[\x20-\x7e]+$/);
  const body = (await res.json()) as { detail: string };
  expect(header).toBe(body.detail);
  return header!;
}

describe("X-Sentry-Error on every error answer", () => {
  it("429 from a quota, on the envelope endpoint", async () => {
    const { id, config } = project({ quotas: NONE_LEFT });
    const res = await relay(post(`/api/${id}/envelope/`, errorEnvelope(), sentryAuth()), config);
    expect(await expectErrorHeader(res, 429)).toBe("event submission rejected with_reason: rate limited");
    expect(res.headers.get("x-sentry-rate-limits")).toBe("60::project:quota_exceeded");
    expect(upstream.calls).toHaveLength(0);
  });

  it("429 from a quota, on the store endpoint, readable by a browser", async () => {
    const { id, config } = project({ quotas: NONE_LEFT });
    const res = await relay(post(`/api/${id}/store/`, '{"message":"hi"}', { ...sentryAuth(), origin: "https://app.example.com" }), config);
    await expectErrorHeader(res, 429);
    expect(res.headers.get("access-control-expose-headers")?.toLowerCase()).toContain("x-sentry-error");
  });

  it("429 for a security batch refused whole", async () => {
    const { id, config } = project({ quotas: NONE_LEFT });
    const report = { "csp-report": { "document-uri": "https://app.example.com/", "violated-directive": "script-src", "blocked-uri": "https://bad.example/x.js" } };
    const res = await relay(post(`/api/${id}/security/?sentry_key=${KEY}`, JSON.stringify(report), { "content-type": "application/csp-report" }), config);
    expect(res.status).toBe(429);
    expect(res.headers.get("x-sentry-error")).toBe("event submission rejected with_reason: rate limited");
    expect(await res.json()).toMatchObject({ detail: "event submission rejected with_reason: rate limited", rate_limited: 1 });
  });

  it("429 for a keyless client report past the allowance", async () => {
    const { config } = project({}, { anonymousReportsPerMinute: 0 });
    const body = '{}\n{"type":"client_report"}\n{"timestamp":1,"discarded_events":[{"reason":"before_send","category":"error","quantity":1}]}';
    const res = await relay(post("/tunnel", body, { origin: "https://app.example.com" }), config);
    expect(await expectErrorHeader(res, 429)).toContain("client report without a key rejected");
    expect(res.headers.get("x-sentry-rate-limits")).toBe("60:internal:project:anonymous_reports");
  });

  it("429 passed on from the upstream, and the 429 the relay then gives itself", async () => {
    const { id, config } = project();
    upstream.respondWith(() => new Response('{"detail":"quota"}', {
      status: 429,
      headers: { "retry-after": "60", "x-sentry-rate-limits": "60:error:organization:quota_exceeded" },
    }));
    const passed = await relay(post(`/api/${id}/envelope/`, errorEnvelope(), sentryAuth()), config);
    expect(await expectErrorHeader(passed, 429)).toBe("upstream rate limit reached");
    expect(passed.headers.get("retry-after")).toBe("60");

    const remembered = await relay(post(`/api/${id}/envelope/`, errorEnvelope(), sentryAuth()), config);
    expect(await expectErrorHeader(remembered, 429)).toBe("event submission rejected with_reason: rate limited");
    expect(upstream.calls).toHaveLength(1);
  });

  it("400 when every item is invalid, 413 when every item is too large", async () => {
    const { id, config } = project();
    const invalid = await relay(post(`/api/${id}/envelope/`, '{}\n{"type":"event"}\n{not json', sentryAuth()), config);
    expect(await expectErrorHeader(invalid, 400)).toContain("every item in the envelope was invalid");
    const big = project({}, { maxEventBytes: 10 });
    const tooLarge = await relay(post(`/api/${big.id}/envelope/`, errorEnvelope(), sentryAuth()), big.config);
    expect(await expectErrorHeader(tooLarge, 413)).toContain("too_large");
  });

  it("404 for a path or method the relay does not serve", async () => {
    const { id, config } = project();
    const res = await relay(new Request(`http://relay.test/api/${id}/envelope/`), config);
    expect(await expectErrorHeader(res, 404)).toBe("not found");
  });

  it("502 and 503 from the upstream, with the upstream's text made printable ASCII", async () => {
    const { id, config } = project();
    upstream.respondWith(() => Response.json({ detail: "bad key é\u2028" }, { status: 401 }));
    const refused = await relay(post(`/api/${id}/envelope/`, errorEnvelope(), sentryAuth()), config);
    expect(refused.status).toBe(502);
    expect(refused.headers.get("x-sentry-error")).toBe("upstream refused the envelope with 401: bad key ??");

    const archiveless = project({ upstream: undefined, archive: true });
    const unavailable = await relay(post(`/api/${archiveless.id}/envelope/`, errorEnvelope(), sentryAuth()), archiveless.config, { ARCHIVE: undefined });
    await expectErrorHeader(unavailable, 503);
  });
});
