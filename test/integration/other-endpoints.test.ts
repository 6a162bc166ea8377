import { deflateSync } from "node:zlib";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readArchived } from "../../src/forward/archive";
import {
  EVENT_ID, KEY, UPSTREAM_DSN, UPSTREAM_KEY, errorEnvelope, fakeUpstream, post, relay, sentryAuth, testConfig,
} from "./support/harness";

let upstream: ReturnType<typeof fakeUpstream>;
beforeEach(() => {
  upstream = fakeUpstream();
});
afterEach(() => upstream.restore());

function forwardedItems(text: string): Array<{ header: Record<string, unknown>; payload: string }> {
  const [, ...lines] = text.split("\n");
  const items = [];
  for (let i = 0; i + 1 < lines.length; i += 2) {
    items.push({ header: JSON.parse(lines[i]!), payload: lines[i + 1]! });
  }
  return items;
}

describe("POST /api/:projectId/store/", () => {
  const event = { event_id: "aa".repeat(16), message: "legacy hello", platform: "python" };

  it("turns a JSON event into an envelope with one event item", async () => {
    const res = await relay(post("/api/42/store/", JSON.stringify(event), { ...sentryAuth(), "content-type": "application/json" }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: event.event_id });
    const call = upstream.calls[0]!;
    expect(call.url).toBe("https://upstream.example.com/api/4501/envelope/");
    const items = forwardedItems(call.text);
    expect(items).toHaveLength(1);
    expect(items[0]!.header.type).toBe("event");
    expect(JSON.parse(items[0]!.payload)).toMatchObject(event);
  });

  it("decodes base64 of zlib-deflated JSON, as raven-era SDKs send", async () => {
    const body = btoa(String.fromCharCode(...deflateSync(JSON.stringify(event))));
    const res = await relay(post(`/api/42/store/?sentry_key=${KEY}`, body));
    expect(res.status).toBe(200);
    expect(JSON.parse(forwardedItems(upstream.calls[0]!.text)[0]!.payload)).toMatchObject(event);
  });

  it("refuses a body that is neither, naming it", async () => {
    const res = await relay(post("/api/42/store/", "%%% not json %%%", sentryAuth()));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/store body/);
    expect(upstream.calls).toHaveLength(0);
  });

  it("requires a key in the request", async () => {
    const res = await relay(post("/api/42/store/", JSON.stringify(event)));
    expect(res.status).toBe(401);
  });
});

describe("POST /api/:projectId/security/", () => {
  it("turns a CSP report into a security event", async () => {
    const report = {
      "csp-report": {
        "document-uri": "https://app.example.com/page",
        "violated-directive": "script-src 'self'",
        "effective-directive": "script-src",
        "blocked-uri": "https://evil.example.net/x.js",
        "original-policy": "script-src 'self'; report-uri /api/42/security/",
      },
    };
    const res = await relay(post(`/api/42/security/?sentry_key=${KEY}&sentry_environment=prod`, JSON.stringify(report), {
      "content-type": "application/csp-report",
      "user-agent": "Mozilla/5.0 Test",
    }));
    expect(res.status).toBe(200);
    const items = forwardedItems(upstream.calls[0]!.text);
    expect(items).toHaveLength(1);
    const event = JSON.parse(items[0]!.payload);
    expect(event.csp).toMatchObject({ blocked_uri: "https://evil.example.net/x.js", effective_directive: "script-src" });
    expect(event.environment).toBe("prod");
    expect(JSON.stringify(event)).toContain("evil.example.net");
  });

  it("refuses a body that is not a report", async () => {
    const res = await relay(post(`/api/42/security/?sentry_key=${KEY}`, "{]"));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toContain("invalid security report");
  });
});

describe("POST /tunnel", () => {
  it("routes by the envelope header's dsn", async () => {
    const body = errorEnvelope({ dsn: `https://${KEY}@o1.relay.example/42` });
    const res = await relay(post("/tunnel", body, { "content-type": "text/plain;charset=UTF-8" }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: EVENT_ID });
    const call = upstream.calls[0]!;
    expect(call.url).toBe("https://upstream.example.com/api/4501/envelope/");
    expect(call.headers.get("x-sentry-auth")).toContain(`sentry_key=${UPSTREAM_KEY}`);
    expect(JSON.parse(call.text.split("\n")[0]!).dsn).toBe(UPSTREAM_DSN);
  });

  it("answers 401 to an envelope with no dsn, and 401/403 to bad ones", async () => {
    const none = await relay(post("/tunnel", errorEnvelope()));
    expect(none.status).toBe(401);
    expect(((await none.json()) as { detail: string }).detail).toContain("missing authorization information");
    const wrongKey = await relay(post("/tunnel", errorEnvelope({ dsn: `https://${"9".repeat(32)}@x/42` })));
    expect(wrongKey.status).toBe(401);
    const wrongProject = await relay(post("/tunnel", errorEnvelope({ dsn: `https://${KEY}@x/999` })));
    expect(wrongProject.status).toBe(403);
    expect(upstream.calls).toHaveLength(0);
  });

  it("routes a dsn-less client report by origin when exactly one project admits it", async () => {
    const report = '{}\n{"type":"client_report"}\n{"timestamp":1795420800,"discarded_events":[{"reason":"sample_rate","category":"transaction","quantity":3}]}';
    const routed = await relay(post("/tunnel", report, { origin: "https://app.example.com" }));
    expect(routed.status).toBe(200);
    expect(upstream.calls).toHaveLength(1);
    expect(upstream.calls[0]!.url).toBe("https://upstream.example.com/api/4501/envelope/");
    expect(upstream.calls[0]!.text).toContain('"discarded_events"');
    // Projects 43, 44 and 45 allow any origin: ambiguous, refused, nothing sent.
    const ambiguous = await relay(post("/tunnel", report, { origin: "https://elsewhere.example.org" }));
    expect(ambiguous.status).toBe(401);
    expect(((await ambiguous.json()) as { detail: string }).detail).toContain('3 projects accept origin "https://elsewhere.example.org"');
    expect(upstream.calls).toHaveLength(1);
  });

  it("listens on the configured tunnelPath only", async () => {
    const config = testConfig({ tunnelPath: "/monitoring" });
    const body = errorEnvelope({ dsn: `https://${KEY}@x/42` });
    expect((await relay(post("/monitoring", body), config)).status).toBe(200);
    expect((await relay(post("/tunnel", body), config)).status).toBe(404);
  });
});

describe("CORS for browser SDKs", () => {
  it("answers preflights", async () => {
    const res = await relay(new Request("http://relay.test/api/42/envelope/", {
      method: "OPTIONS",
      headers: { origin: "https://app.example.com", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    }));
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("x-sentry-auth");
  });

  it("lets an allowed origin post and read the rate-limit headers", async () => {
    const res = await relay(post("/api/42/envelope/", errorEnvelope(), { ...sentryAuth(), origin: "https://app.example.com" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(res.headers.get("access-control-expose-headers")).toBe("x-sentry-error,x-sentry-rate-limits,retry-after");
  });

  it("refuses an origin the project does not allow with a readable 403", async () => {
    const res = await relay(post("/api/42/envelope/", errorEnvelope(), { ...sentryAuth(), origin: "https://evil.example.net" }));
    expect(res.status).toBe(403);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://evil.example.net");
    expect(((await res.json()) as { detail: string }).detail).toContain(`origin "https://evil.example.net" is not allowed`);
    expect(upstream.calls).toHaveLength(0);
  });
});

describe("archive to R2", () => {
  it("writes the accepted envelope under <project>/<yyyy>/<mm>/<dd>/<hh>/<event_id>.envelope", async () => {
    const body = errorEnvelope({ eventId: "bb".repeat(16) });
    const res = await relay(post("/api/43/envelope/", body, sentryAuth()));
    expect(res.status).toBe(200);
    expect(upstream.calls).toHaveLength(0);
    const listed = await (env as { ARCHIVE: R2Bucket }).ARCHIVE.list({ prefix: "43/" });
    const key = listed.objects.map((o) => o.key).find((k) => k.endsWith(`${"bb".repeat(16)}.envelope`));
    expect(key).toMatch(/^43\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/b{32}\.envelope$/);
    const object = await (env as { ARCHIVE: R2Bucket }).ARCHIVE.get(key!);
    // Stored gzipped, with what a person listing the bucket wants to see.
    expect(object!.httpMetadata?.contentEncoding).toBe("gzip");
    expect(new TextDecoder().decode(await readArchived(object!))).toBe(body);
    expect(object!.customMetadata).toMatchObject({ project: "43", categories: "error", size: String(body.length) });
    expect(object!.customMetadata!.fingerprint).toMatch(/^[0-9a-f]{32}$/);
  });

  it("never lets a client's event_id shape the storage key", async () => {
    const body = '{"event_id":"../../etc/passwd"}\n{"type":"event"}\n{"message":"x"}';
    const res = await relay(post("/api/43/envelope/", body, sentryAuth()));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    const listed = await (env as { ARCHIVE: R2Bucket }).ARCHIVE.list({ prefix: "43/" });
    expect(listed.objects.every((o) => /^43\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/[0-9a-f]{32}\.envelope$/.test(o.key))).toBe(true);
  });
});

describe("upstream answers", () => {
  it("passes a 429 back, then enforces the upstream's limit itself without calling it", async () => {
    upstream.respondWith(() => new Response('{"detail":"quota"}', {
      status: 429,
      headers: { "retry-after": "60", "x-sentry-rate-limits": "60:error:organization:quota_exceeded" },
    }));
    const res = await relay(post("/api/45/envelope/", errorEnvelope(), sentryAuth()));
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("60");
    expect(res.headers.get("x-sentry-rate-limits")).toBe("60:error:organization:quota_exceeded");
    expect(upstream.calls).toHaveLength(1);

    const again = await relay(post("/api/45/envelope/", errorEnvelope(), sentryAuth()));
    expect(again.status).toBe(429);
    expect(again.headers.get("x-sentry-rate-limits")).toMatch(/^(60|59):error:organization:quota_exceeded$/);
    expect(upstream.calls).toHaveLength(1);

    // Other categories still go through.
    upstream.respondWith(() => Response.json({ id: null }));
    const session = '{}\n{"type":"session"}\n{"sid":"s","status":"ok"}';
    const other = await relay(post("/api/45/envelope/", session, sentryAuth()));
    expect(other.status).toBe(200);
    expect(upstream.calls).toHaveLength(2);
  });

  it("passes rate-limit headers on a 200 too, and keeps to them", async () => {
    upstream.respondWith(() => Response.json({ id: "x" }, { headers: { "x-sentry-rate-limits": "60:transaction:key" } }));
    const res = await relay(post("/api/44/envelope/", errorEnvelope(), sentryAuth()));
    expect(res.status).toBe(200);
    expect(res.headers.get("x-sentry-rate-limits")).toBe("60:transaction:key");
    const transaction = `{}\n{"type":"transaction"}\n{"type":"transaction","spans":[]}`;
    const limited = await relay(post("/api/44/envelope/", transaction, sentryAuth()));
    expect(limited.status).toBe(429);
    expect(upstream.calls).toHaveLength(1);
  });

  it.each([
    ["a 500", () => new Response("boom", { status: 500 })],
    ["a network error", () => Promise.reject(new TypeError("connection refused"))],
  ])("answers 503 for %s when nothing else kept the envelope", async (_name, respond) => {
    upstream.respondWith(respond);
    const res = await relay(post("/api/42/envelope/", errorEnvelope(), sentryAuth()), testConfig(), { SPOOL: undefined });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { detail: string }).detail).toContain("upstream unavailable");
  });

  it("answers 503 when the upstream does not answer in time", async () => {
    upstream.respondWith((_call, signal) => new Promise((_resolve, reject) => {
      signal?.addEventListener("abort", () => reject(signal.reason));
    }));
    const res = await relay(post("/api/42/envelope/", errorEnvelope(), sentryAuth()), testConfig({ upstreamTimeoutMs: 50 }), { SPOOL: undefined });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { detail: string }).detail).toContain("timed out");
  });

  it("answers 200 when the upstream fails but the archive kept the envelope", async () => {
    upstream.respondWith(() => new Response("boom", { status: 502 }));
    const body = errorEnvelope({ eventId: "cc".repeat(16) });
    const res = await relay(post("/api/44/envelope/", body, sentryAuth()));
    expect(res.status).toBe(200);
    const listed = await (env as { ARCHIVE: R2Bucket }).ARCHIVE.list({ prefix: "44/" });
    expect(listed.objects.some((o) => o.key.endsWith(`${"cc".repeat(16)}.envelope`))).toBe(true);
  });

  it("passes a 400 through and maps the relay's own credential failures to 502", async () => {
    upstream.respondWith(() => Response.json({ detail: "bad envelope" }, { status: 400 }));
    const bad = await relay(post("/api/42/envelope/", errorEnvelope(), sentryAuth()));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { detail: string }).detail).toContain("bad envelope");
    upstream.respondWith(() => Response.json({ detail: "invalid key" }, { status: 403 }));
    const denied = await relay(post("/api/42/envelope/", errorEnvelope(), sentryAuth()));
    expect(denied.status).toBe(502);
  });
});
