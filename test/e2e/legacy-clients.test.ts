import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeUpstream } from "./support/fake-upstream";
import { RELAY_KEY, RELAY_PROJECT, UPSTREAM_PROJECT, startStack, type Stack } from "./support/stack";

/**
 * Clients the other end-to-end tests never use, through `wrangler dev` with
 * the project's default filters and scrubbing: the legacy `raven` (node, v2),
 * which sends `exception` as a bare list to /store/, Debian's python3
 * sentry-sdk (1.x, also on /store/), and a browser's version-bearing user
 * agent. Every assertion is on what the recording upstream received.
 */

const run = promisify(execFile);
let stack: Stack;
let upstream: FakeUpstream;

beforeAll(async () => {
  stack = await startStack();
  upstream = stack.upstream;
});

afterAll(async () => {
  await stack?.stop();
});

/** The part of raven's (untyped) API this test uses. */
interface RavenModule {
  Client: new (
    dsn: string,
    options: { release?: string; autoBreadcrumbs?: boolean; dataCallback?: (data: Record<string, unknown>) => Record<string, unknown> },
  ) => { captureException(error: Error, kwargs: object, callback: (err: Error | null, eventId: string) => void): void };
}

/** What a JSON round trip makes of a value: the form it has on the wire. */
const wire = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

describe("raven (node, v2) through the relay", () => {
  it("delivers an exception in raven's bare-list shape, as sent", async () => {
    const Raven = createRequire(import.meta.url)("raven") as RavenModule;
    let sentData: Record<string, unknown> | undefined;
    // dataCallback sees the payload raven is about to send and passes it on unchanged.
    const client = new Raven.Client(stack.dsn, {
      release: "e2e@1.0.0",
      autoBreadcrumbs: false,
      dataCallback: (data: Record<string, unknown>) => {
        sentData = wire(data) as Record<string, unknown>;
        return data;
      },
    });
    const eventId = await new Promise<string>((resolve, reject) =>
      client.captureException(new TypeError("e2e exception from raven"), {}, (err: Error | null, id: string) => (err ? reject(err) : resolve(id))),
    );

    const { envelope, item } = await upstream.waitForEvent(eventId);
    expect(envelope.path).toBe(`/api/${UPSTREAM_PROJECT}/envelope/`);
    const event = item.json();
    expect(Array.isArray(sentData?.exception)).toBe(true);
    expect(Array.isArray(event.exception)).toBe(true);
    expect(event.exception).toEqual(sentData!.exception);
    expect(event.exception[0]).toMatchObject({ type: "TypeError", value: "e2e exception from raven" });
    expect(event.exception[0].stacktrace.frames.length).toBeGreaterThan(0);
    expect(event).toMatchObject({ message: sentData!.message, release: "e2e@1.0.0", platform: "node" });
    expect(envelope.raw.toString("latin1")).not.toContain(RELAY_KEY);
  });
});

/** Debian's python3-sentry-sdk in Debian's python (scripts/ensure-python-sdk.sh installs it). */
const pythonScript = `
import json, sys
import sentry_sdk

sent = {}
def before_send(event, hint):
    sent[event["event_id"]] = event
    return event

sentry_sdk.init(dsn=sys.argv[1], release="e2e@1.0.0", before_send=before_send, default_integrations=False)

def divide(a, b):
    return a / b

try:
    divide(1, 0)
except ZeroDivisionError:
    exception_id = sentry_sdk.capture_exception()
message_id = sentry_sdk.capture_message("e2e message from python", level="warning")
sentry_sdk.flush(10)

def frames(event):
    return [
        {k: f.get(k) for k in ("filename", "function", "module", "lineno", "context_line", "in_app")}
        for v in event.get("exception", {}).get("values", [])
        for f in v.get("stacktrace", {}).get("frames", [])
    ]

print(json.dumps({"exception_id": exception_id, "message_id": message_id, "frames": frames(sent[exception_id])}))
`;

describe("Debian's python sentry-sdk through the relay", () => {
  it("delivers an exception with its frames intact and a message", async () => {
    const { stdout } = await run("/usr/bin/python3", ["-c", pythonScript, stack.dsn], { timeout: 60_000 });
    const result = JSON.parse(stdout) as { exception_id: string; message_id: string; frames: Array<Record<string, unknown>> };
    expect(result.frames.length).toBeGreaterThan(0);

    const exception = (await upstream.waitForEvent(result.exception_id)).item.json();
    const value = exception.exception.values[0];
    expect(value).toMatchObject({ type: "ZeroDivisionError", value: "division by zero" });
    const forwardedFrames = value.stacktrace.frames.map((frame: Record<string, unknown>) =>
      Object.fromEntries(["filename", "function", "module", "lineno", "context_line", "in_app"].map((k) => [k, frame[k] ?? null])),
    );
    expect(forwardedFrames).toEqual(result.frames.map((frame) => Object.fromEntries(Object.entries(frame).map(([k, v]) => [k, v ?? null]))));
    expect(forwardedFrames.map((f: { function: unknown }) => f.function)).toContain("divide");
    expect(exception).toMatchObject({ platform: "python", release: "e2e@1.0.0", level: "error" });

    const message = (await upstream.waitForEvent(result.message_id)).item.json();
    expect(message).toMatchObject({ message: "e2e message from python", level: "warning", platform: "python" });
  });
});

describe("a version-bearing user agent through the relay", () => {
  it("reaches the upstream intact, with dotted versions left alone", async () => {
    const userAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
    const eventId = "6f1e2d3c4b5a49788796a5b4c3d2e1f0";
    const event = {
      event_id: eventId,
      platform: "javascript",
      level: "error",
      release: "web@2.1.0.4",
      exception: { values: [{ type: "TypeError", value: "version-bearing user agent" }] },
      request: { url: "https://app.example.com/checkout", headers: { "User-Agent": userAgent } },
      contexts: {
        browser: { name: "Chrome", version: "120.0.0.0" },
        os: { name: "Windows", version: "10.0.19045" },
        runtime: { name: "node", version: "v20.11.0", engine: { name: "v8", version: "11.3.244.8-node.38" } },
      },
      tags: { build: "2.1.0.4" },
    };
    const body = `${JSON.stringify({ event_id: eventId, sent_at: new Date().toISOString() })}\n{"type":"event"}\n${JSON.stringify(event)}`;
    const response = await fetch(`${stack.relay.url}/api/${RELAY_PROJECT}/envelope/`, {
      method: "POST",
      body,
      headers: { "content-type": "application/x-sentry-envelope", "user-agent": userAgent, "x-sentry-auth": `Sentry sentry_version=7, sentry_key=${RELAY_KEY}` },
    });
    expect(response.status).toBe(200);

    const forwarded = (await upstream.waitForEvent(eventId)).item.json();
    expect(forwarded.request.headers["User-Agent"]).toBe(userAgent);
    expect(forwarded.contexts).toEqual(event.contexts);
    expect(forwarded.release).toBe("web@2.1.0.4");
    expect(forwarded.tags).toEqual(event.tags);
  });
});
