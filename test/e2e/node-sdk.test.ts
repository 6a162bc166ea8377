import * as Sentry from "@sentry/node";
import { createHash, randomBytes } from "node:crypto";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { ClientRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeUpstream, ReceivedEnvelope } from "./support/fake-upstream";
import { RELAY_KEY, UPSTREAM_KEY, UPSTREAM_PROJECT, startStack, type Stack } from "./support/stack";

/**
 * The real @sentry/node, with its own unmodified HTTP transport, pointed at the
 * relay. `flush()` resolves true even when sending failed, so every assertion
 * is on what the fake upstream received or on the status the SDK reported.
 */

let stack: Stack;
let upstream: FakeUpstream;

/** What the SDK learnt for each event, and whether the upstream already had it at that moment. */
const sent: Array<{ id: string; status: number | undefined; atUpstream: boolean }> = [];
/** The SDK's own requests to the relay, seen through Node's http diagnostics channel (the transport stays untouched). */
const sdkRequests: Array<{ path: string; contentEncoding: unknown; contentLength: unknown }> = [];
const onRequest = (message: unknown) => {
  const request = (message as { request: ClientRequest }).request;
  if (stack && request.getHeader("host") === `127.0.0.1:${stack.relay.port}`) {
    sdkRequests.push({
      path: request.path,
      contentEncoding: request.getHeader("content-encoding"),
      contentLength: request.getHeader("content-length"),
    });
  }
};

beforeAll(async () => {
  // At most 1 MiB of a request may be held in memory: the attachment test below can only pass streamed.
  stack = await startStack({}, { limits: { maxBufferedBytes: 1024 * 1024 } });
  upstream = stack.upstream;
  subscribe("http.client.request.start", onRequest);
  Sentry.init({
    dsn: stack.dsn,
    release: "e2e@1.0.0",
    environment: "e2e",
    // Client reports would arrive at any time and blur the counts below.
    sendClientReports: false,
  });
  Sentry.getClient()!.on("afterSendEvent", (event, response) => {
    sent.push({ id: event.event_id!, status: response.statusCode, atUpstream: upstream.event(event.event_id!) !== undefined });
  });
});

afterAll(async () => {
  unsubscribe("http.client.request.start", onRequest);
  await Sentry.close(2000);
  await stack?.stop();
});

function authParams(envelope: ReceivedEnvelope): Record<string, string> {
  const header = String(envelope.headers["x-sentry-auth"] ?? "");
  expect(header).toMatch(/^Sentry /);
  return Object.fromEntries(header.slice("Sentry ".length).split(/,\s*/).map((pair) => pair.split("=", 2) as [string, string]));
}

function expectForwardedAsUpstream(envelope: ReceivedEnvelope): void {
  expect(envelope.method).toBe("POST");
  expect(envelope.path).toBe(`/api/${UPSTREAM_PROJECT}/envelope/`);
  expect(authParams(envelope)).toMatchObject({ sentry_version: "7", sentry_key: UPSTREAM_KEY, sentry_client: expect.stringMatching(/^edge-relay\/\S+$/) });
  // The SDK sent no `dsn` (no tunnel); if the relay adds one it must be the upstream's.
  if (envelope.header.dsn !== undefined) expect(envelope.header.dsn).toBe(stack.upstreamDsn);
  // The dynamic sampling context names the project by key: it must be the upstream's too.
  const trace = envelope.header.trace as { public_key?: string } | undefined;
  if (trace?.public_key !== undefined) expect(trace.public_key).toBe(UPSTREAM_KEY);
  expect(envelope.raw.toString("latin1")).not.toContain(RELAY_KEY);
  expect(JSON.stringify(envelope.headers)).not.toContain(RELAY_KEY);
}

describe("@sentry/node through the relay", () => {
  it("delivers an exception and a message to the upstream project with the upstream key, before answering 200", async () => {
    const exceptionId = Sentry.captureException(new TypeError("e2e exception from node"));
    const messageId = Sentry.captureMessage("e2e message from node", "warning");
    await Sentry.flush(5000);

    const exception = await upstream.waitForEvent(exceptionId);
    const message = await upstream.waitForEvent(messageId);

    const ex = exception.item.json();
    expect(ex.exception.values[0]).toMatchObject({ type: "TypeError", value: "e2e exception from node" });
    expect(ex.exception.values[0].stacktrace.frames.length).toBeGreaterThan(0);
    expect(ex).toMatchObject({ release: "e2e@1.0.0", environment: "e2e", platform: "node", level: "error" });
    expect(ex.sdk.name).toBe("sentry.javascript.node");
    expect(message.item.json()).toMatchObject({ message: "e2e message from node", level: "warning", release: "e2e@1.0.0" });
    for (const { envelope } of [exception, message]) expectForwardedAsUpstream(envelope);
    expect(upstream.requests.every((r) => !JSON.stringify(r.headers).includes(RELAY_KEY) && !r.body?.toString("latin1").includes(RELAY_KEY))).toBe(true);
    expect(upstream.requests.every((r) => r.path === `/api/${UPSTREAM_PROJECT}/envelope/`)).toBe(true);

    // The relay answered only after the upstream had each event (the two are sent concurrently).
    expect(sent.filter((s) => [exceptionId, messageId].includes(s.id)).sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      [exceptionId, messageId].sort().map((id) => ({ id, status: 200, atUpstream: true })),
    );
    // With a release set the SDK also sends session updates: forwarded the same way.
    await upstream.waitFor(() => upstream.items("session").length > 0 || upstream.items("sessions").length > 0);
    for (const envelope of upstream.received) expectForwardedAsUpstream(envelope);
    // What the SDK sent: the DSN's envelope endpoint with its key in the query, small bodies plain, no Content-Length.
    expect(sdkRequests.length).toBeGreaterThanOrEqual(2);
    for (const request of sdkRequests) {
      expect(request.path).toMatch(new RegExp(`^/api/7/envelope/\\?.*sentry_key=${RELAY_KEY}`));
      expect(request).toMatchObject({ contentEncoding: undefined, contentLength: undefined });
    }
  });

  it("accepts the SDK's gzipped, chunked body for a large event and forwards it intact", async () => {
    const blob = "0123456789".repeat(6000); // 60 KB: over the SDK's 32 KiB gzip threshold
    const before = sdkRequests.length;
    const id = Sentry.captureException(new Error("large e2e event"), { extra: { blob, unicode: "żółć 🚀" } });
    await Sentry.flush(5000);

    // The SDK really compressed it, and sent no Content-Length.
    const gzipped = sdkRequests.slice(before).filter((r) => r.contentEncoding === "gzip");
    expect(gzipped).toHaveLength(1);
    expect(gzipped[0]!.contentLength).toBeUndefined();
    const { item, envelope } = await upstream.waitForEvent(id);
    expect(item.json().extra).toEqual({ blob, unicode: "żółć 🚀" });
    expect(item.json().exception.values[0]).toMatchObject({ type: "Error", value: "large e2e event" });
    expectForwardedAsUpstream(envelope);
    expect(sent.at(-1)).toEqual({ id, status: 200, atUpstream: true });
  });

  it("streams a 5 MiB attachment through R2 staging, gzipped by the SDK, byte for byte to the upstream", async () => {
    const dump = randomBytes(5 * 1024 * 1024);
    const id = Sentry.withScope((scope) => {
      scope.addAttachment({ filename: "core.dmp", data: dump, contentType: "application/octet-stream" });
      return Sentry.captureException(new Error("crash with a dump"));
    });
    await Sentry.flush(15000);
    const { envelope } = await upstream.waitForEvent(id);
    const attachment = envelope.items.find((i) => i.header.type === "attachment")!;
    expect(attachment.header).toMatchObject({ filename: "core.dmp", length: dump.byteLength });
    expect(createHash("sha256").update(attachment.payload).digest("hex")).toBe(createHash("sha256").update(dump).digest("hex"));
    expectForwardedAsUpstream(envelope);
    expect(sent.at(-1)).toEqual({ id, status: 200, atUpstream: true });
  });

  it("never answers 200 for an event the upstream failed to take, unless it delivers it later", async () => {
    const before = upstream.received.length;
    let failed = 0;
    upstream.respondWith((request) =>
      failed === 0 && request.envelope?.items.some((i) => i.header.type === "event" && i.json().exception?.values?.[0]?.value === "e2e upstream failure")
        ? (failed++, { status: 500, body: { detail: "upstream is down" } })
        : undefined,
    );
    const id = Sentry.captureException(new Error("e2e upstream failure"));
    await Sentry.flush(5000);

    // The relay did try the upstream, which refused.
    const tried = await upstream.waitFor(() => upstream.received.slice(before).find((e) => e.status === 500));
    expect(tried.items.find((i) => i.header.type === "event")?.json().event_id).toBe(id);
    const outcome = sent.find((s) => s.id === id);
    expect(outcome?.status).toBeDefined();
    if (outcome!.status === 200) {
      // Accepted: then it must not be lost (spooled and retried), and arrive once, as the upstream's.
      const { envelope } = await upstream.waitForEvent(id, 30_000);
      expectForwardedAsUpstream(envelope);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(upstream.items("event").filter(({ item }) => item.json().event_id === id)).toHaveLength(1);
    } else {
      expect(outcome!.status).toBeGreaterThanOrEqual(500);
      expect(upstream.event(id)).toBeUndefined();
    }
    upstream.respondWith(undefined);
  });
});
