import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { servePage } from "./support/browser-page";
import type { FakeUpstream, ReceivedEnvelope } from "./support/fake-upstream";
import { freePort } from "./support/ports";
import { RELAY_KEY, RELAY_PROJECT, UPSTREAM_KEY, UPSTREAM_PROJECT, startStack, type Stack } from "./support/stack";

/**
 * The real @sentry/browser (bundled from node_modules) in Debian's headless
 * Chromium, on a page whose origin differs from the relay's, so every send is
 * a cross-origin request and the relay's CORS answers decide what the SDK
 * can read. `?mode=tunnel` inits with `tunnel: <relay>/tunnel`, `?mode=direct`
 * sends to the DSN's envelope endpoint (key in the query string).
 */
const pageHtml = (dsn: string, tunnel: string) => `<!doctype html>
<html><head><script src="/sentry.js"></script></head><body><script>
  window.statuses = [];
  const mode = new URLSearchParams(location.search).get("mode");
  Sentry.init({
    dsn: ${JSON.stringify(dsn)},
    tunnel: mode === "tunnel" ? ${JSON.stringify(tunnel)} : undefined,
    release: "web@2.0.0",
    environment: "e2e-browser",
    // Dropped by the SDK itself: it then owes the server a client report.
    beforeSend: (event) => (event.message === "dropped in the page" ? null : event),
  });
  Sentry.getClient().on("afterSendEvent", (event, response) => window.statuses.push(response.statusCode));
  window.run = async (tag) => {
    const exceptionId = Sentry.captureException(new TypeError("e2e exception from the browser " + tag));
    const messageId = Sentry.captureMessage("e2e message from the browser " + tag);
    await Sentry.flush(5000);
    return { exceptionId, messageId, statuses: window.statuses };
  };
  window.dropAndReport = async () => {
    Sentry.captureMessage("dropped in the page");
    await Sentry.flush(2000);
    // The SDK sends its client report when the page is hidden.
    Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
    await Sentry.flush(2000);
  };
</script></body></html>`;

const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

let stack: Stack;
let upstream: FakeUpstream;
let page: Awaited<ReturnType<typeof servePage>>;
let browser: Browser;

beforeAll(async () => {
  // The page's origin must be known before the relay starts, to allow it.
  const pagePort = await freePort();
  stack = await startStack({ allowedOrigins: [`http://127.0.0.1:${pagePort}`] });
  upstream = stack.upstream;
  page = await servePage(pageHtml(stack.dsn, `${stack.relay.url}/tunnel`), pagePort);
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
});

afterAll(async () => {
  try {
    await browser?.close();
  } finally {
    await page?.close();
    await stack?.stop();
  }
});

interface PageResult {
  exceptionId: string;
  messageId: string;
  statuses: number[];
}

interface SeenResponse {
  method: string;
  path: string;
  status: number;
  contentType: string | null;
  allowOrigin: string | null;
  exposeHeaders: string | null;
}

/** Loads the page from `origin`, runs it, and returns what the SDK and the browser's network saw from the relay. */
async function runPage(origin: string, mode: "tunnel" | "direct", tag: string): Promise<{ result: PageResult; responses: SeenResponse[] }> {
  const tab = await browser.newPage();
  const responses: SeenResponse[] = [];
  const pending: Promise<void>[] = [];
  tab.on("response", (response) => {
    if (!response.url().startsWith(stack.relay.url)) return;
    pending.push(
      (async () => {
        const url = new URL(response.url());
        responses.push({
          method: response.request().method(),
          path: url.pathname + url.search,
          status: response.status(),
          contentType: await response.request().headerValue("content-type"),
          allowOrigin: await response.headerValue("access-control-allow-origin"),
          exposeHeaders: await response.headerValue("access-control-expose-headers"),
        });
      })(),
    );
  });
  try {
    await tab.goto(`${origin}/?mode=${mode}`);
    const result = await tab.evaluate((t) => (globalThis as unknown as { run(tag: string): Promise<PageResult> }).run(t), tag);
    await Promise.all(pending);
    return { result, responses };
  } finally {
    await tab.close();
  }
}

function expectForwardedAsUpstream(envelope: ReceivedEnvelope): void {
  expect(envelope.path).toBe(`/api/${UPSTREAM_PROJECT}/envelope/`);
  expect(envelope.headers["x-sentry-auth"]).toMatch(new RegExp(`^Sentry sentry_version=7, sentry_key=${UPSTREAM_KEY}, sentry_client=edge-relay/\\S+$`));
  if (envelope.header.dsn !== undefined) expect(envelope.header.dsn).toBe(stack.upstreamDsn);
  const trace = envelope.header.trace as { public_key?: string } | undefined;
  if (trace?.public_key !== undefined) expect(trace.public_key).toBe(UPSTREAM_KEY);
  expect(envelope.raw.toString("latin1")).not.toContain(RELAY_KEY);
}

async function expectBothDelivered(result: PageResult, tag: string): Promise<ReceivedEnvelope[]> {
  const exception = await upstream.waitForEvent(result.exceptionId);
  const message = await upstream.waitForEvent(result.messageId);
  expect(exception.item.json().exception.values[0]).toMatchObject({ type: "TypeError", value: `e2e exception from the browser ${tag}` });
  expect(exception.item.json()).toMatchObject({ release: "web@2.0.0", environment: "e2e-browser", platform: "javascript" });
  expect(exception.item.json().sdk.name).toBe("sentry.javascript.browser");
  expect(message.item.json()).toMatchObject({ message: `e2e message from the browser ${tag}`, level: "info" });
  return [exception.envelope, message.envelope];
}

function expectReadableCrossOrigin(responses: SeenResponse[], pathPrefix: string): void {
  const posts = responses.filter((r) => r.method === "POST");
  // At least the two events; the SDK's session update goes the same way.
  expect(posts.length).toBeGreaterThanOrEqual(2);
  for (const response of posts) {
    expect(response.path.startsWith(pathPrefix), response.path).toBe(true);
    expect(response).toMatchObject({ status: 200, contentType: "text/plain;charset=UTF-8", allowOrigin: page.origin });
    const exposed = (response.exposeHeaders ?? "").toLowerCase().split(/\s*,\s*/);
    expect(exposed).toEqual(expect.arrayContaining(["x-sentry-rate-limits", "retry-after"]));
  }
}

describe("@sentry/browser in Chromium through the relay", () => {
  it("delivers an exception and a message through the tunnel, cross-origin, to the upstream project with the upstream key", async () => {
    const { result, responses } = await runPage(page.origin, "tunnel", "via tunnel");
    const envelopes = await expectBothDelivered(result, "via tunnel");
    for (const envelope of envelopes) {
      expectForwardedAsUpstream(envelope);
      // With `tunnel` the SDK puts the DSN in the envelope header: the relay points it at the upstream.
      expect(envelope.header.dsn).toBe(stack.upstreamDsn);
    }
    // The SDK saw the relay accept both, and could read the answers across origins.
    expect(result.statuses).toEqual([200, 200]);
    expectReadableCrossOrigin(responses, "/tunnel");
  });

  it("delivers the same with the DSN alone (envelope endpoint, key in the query string)", async () => {
    const { result, responses } = await runPage(page.origin, "direct", "via dsn");
    for (const envelope of await expectBothDelivered(result, "via dsn")) expectForwardedAsUpstream(envelope);
    expect(result.statuses).toEqual([200, 200]);
    expectReadableCrossOrigin(responses, `/api/${RELAY_PROJECT}/envelope/?`);
    for (const response of responses) expect(response.path).toContain(`sentry_key=${RELAY_KEY}`);
  });

  it("forwards the SDK's own client report (sent when the page is hidden) through the tunnel", async () => {
    const before = upstream.requests.length;
    const tab = await browser.newPage();
    const statuses: number[] = [];
    tab.on("response", (response) => {
      if (response.url().startsWith(`${stack.relay.url}/tunnel`)) statuses.push(response.status());
    });
    try {
      await tab.goto(`${page.origin}/?mode=tunnel`);
      await tab.evaluate(() => (globalThis as unknown as { dropAndReport(): Promise<void> }).dropAndReport());
      const report = await upstream.waitFor(() =>
        upstream.requests
          .slice(before)
          .flatMap((r) => (r.envelope?.accepted ? r.envelope.items.map((item) => ({ envelope: r.envelope!, item })) : []))
          .find(({ item }) => item.header.type === "client_report" && (item.json().discarded_events ?? []).some((d: { reason: string }) => d.reason === "before_send")),
      );
      expect(report.item.json().discarded_events).toEqual(
        expect.arrayContaining([{ reason: "before_send", category: "error", quantity: 1 }]),
      );
      expectForwardedAsUpstream(report.envelope);
      expect(statuses.length).toBeGreaterThan(0);
      expect(statuses.every((s) => s === 200)).toBe(true);
    } finally {
      await tab.close();
    }
  });

  it("refuses an origin the project does not allow, and nothing reaches the upstream", async () => {
    const before = upstream.requests.length;
    // Same page, other origin: localhost is not 127.0.0.1 to a browser.
    const { result, responses } = await runPage(`http://localhost:${page.port}`, "tunnel", "refused");
    expect(result.statuses).toEqual([403, 403]);
    expect(responses.filter((r) => r.method === "POST").every((r) => r.status === 403)).toBe(true);
    // The refusal is still readable by the page (CORS headers on the 403).
    expect(responses.every((r) => r.allowOrigin === `http://localhost:${page.port}`)).toBe(true);
    expect(upstream.requests.length).toBe(before);
  });
});
