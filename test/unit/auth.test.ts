import { describe, expect, it } from "vitest";
import { relayConfigSchema } from "../../src/config/schema";
import { authenticate, parseAuthHeader, parseDsn, requestPublicKey } from "../../src/ingest/auth";
import { RelayError } from "../../src/http/errors";

const KEY = "0123456789abcdef0123456789abcdef";
const OTHER = "fedcba9876543210fedcba9876543210";
const config = relayConfigSchema.parse({ projects: { "42": { keys: [KEY], archive: true } } });

function refusal(fn: () => unknown): { status: number; detail: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof RelayError) return { status: err.status, detail: err.detail };
    throw err;
  }
  throw new Error("expected a RelayError");
}

describe("parseDsn", () => {
  it.each([
    ["https://abc@o1.ingest.example.com/4501", { publicKey: "abc", projectId: "4501", base: "https://o1.ingest.example.com" }],
    ["http://abc:secret@127.0.0.1:9000/sentry/7/", { publicKey: "abc", projectId: "7", base: "http://127.0.0.1:9000/sentry" }],
  ])("%s", (dsn, expected) => expect(parseDsn(dsn)).toEqual(expected));
  it.each(["nope", "https://example.com/1", "https://k@example.com/"])("rejects %s", (dsn) => {
    expect(parseDsn(dsn)).toBeUndefined();
  });
});

describe("request credentials", () => {
  it("parses X-Sentry-Auth with and without the sentry_ prefix", () => {
    expect(parseAuthHeader(`Sentry sentry_key=${KEY}, sentry_version=7, sentry_client=raven/1`)).toMatchObject({ key: KEY, version: "7", client: "raven/1" });
    expect(parseAuthHeader(`Sentry key=${KEY},version=7`)).toMatchObject({ key: KEY, version: "7" });
  });
  it("prefers X-Sentry-Auth, then Authorization: Sentry, then the query", () => {
    const url = new URL(`http://relay/api/42/envelope/?sentry_key=${OTHER}`);
    expect(requestPublicKey(new Headers({ "x-sentry-auth": `Sentry sentry_key=${KEY}` }), url)).toBe(KEY);
    expect(requestPublicKey(new Headers({ authorization: `Sentry sentry_key=${KEY}` }), url)).toBe(KEY);
    expect(requestPublicKey(new Headers({ authorization: "Bearer x" }), url)).toBe(OTHER);
    expect(requestPublicKey(new Headers(), new URL("http://relay/"))).toBeUndefined();
  });
});

describe("authenticate", () => {
  it("accepts the request key for the path's project", () => {
    expect(authenticate(config, { pathProjectId: "42", requestKey: KEY }).projectId).toBe("42");
  });
  it("falls back to the envelope dsn only when the request has no key", () => {
    const auth = authenticate(config, { envelopeDsn: `https://${KEY}@relay.example.com/42` });
    expect(auth).toMatchObject({ projectId: "42", publicKey: KEY });
  });
  it.each([
    [{ pathProjectId: "42" }, 401, "missing authorization information"],
    [{ pathProjectId: "42", requestKey: OTHER }, 401, "unknown public key for project 42"],
    [{ pathProjectId: "42", requestKey: "short" }, 401, "invalid public key"],
    [{ pathProjectId: "7", requestKey: KEY }, 403, "unknown project 7"],
    [{ requestKey: KEY }, 400, "missing project id"],
    [{ pathProjectId: "42", requestKey: KEY, envelopeDsn: `https://${OTHER}@relay/42` }, 401, "does not match"],
    [{ pathProjectId: "42", requestKey: KEY, envelopeDsn: `https://${KEY}@relay/43` }, 400, "does not match the URL"],
    [{ envelopeDsn: "not a dsn" }, 401, "invalid dsn in envelope header"],
    [{ envelopeDsn: `https://${KEY}@relay/7` }, 403, "unknown project 7"],
  ])("refuses %j with %i", (sources, status, detail) => {
    const result = refusal(() => authenticate(config, sources));
    expect(result.status).toBe(status);
    expect(result.detail).toContain(detail);
  });
});
