import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { servePage } from "./support/browser-page";
import type { FakeUpstream } from "./support/fake-upstream";
import { freePort } from "./support/ports";
import { RELAY_KEY, UPSTREAM_KEY, startStack, type Stack } from "./support/stack";
import type { RunningWorker } from "./support/wrangler";

/** The page: init the SDK with `tunnel`, capture, flush, report what the relay answered. */
const pageHtml = (dsn: string, tunnel: string) => `<!doctype html>
<html><head><script src="/sentry.js"></script></head><body><script>
  window.statuses = [];
  Sentry.init({ dsn: ${JSON.stringify(dsn)}, tunnel: ${JSON.stringify(tunnel)}, release: "web@2.0.0", environment: "e2e-browser" });
  Sentry.getClient().on("afterSendEvent", (event, response) => window.statuses.push(response.statusCode));
  window.run = async () => {
    const exceptionId = Sentry.captureException(new TypeError("e2e exception from the browser"));
    const messageId = Sentry.captureMessage("e2e message from the browser");
    await Sentry.flush(5000);
    return { exceptionId, messageId, statuses: window.statuses };
  };
</script></body></html>`;

const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

let stack: Stack;
let upstream: FakeUpstream;
let relay: RunningWorker;
let page: Awaited<ReturnType<typeof servePage>>;
let browser: Browser;

beforeAll(async () => {
  // The page's origin must be known before the relay starts, to allow it.
  const pagePort = await freePort();
  stack = await startStack({ allowedOrigins: [`http://127.0.0.1:${pagePort}`] });
  ({ upstream, relay } = stack);
  page = await servePage(pageHtml(stack.dsn, `${relay.url}/tunnel`), pagePort);
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await page?.close();
  await stack?.stop();
});

interface PageResult {
  exceptionId: string;
  messageId: string;
  statuses: number[];
}

async function runPage(origin: string): Promise<{ result: PageResult; tunnelResponses: Array<{ status: number; allowOrigin: string | null }>; tab: Page }> {
  const tab = await browser.newPage();
  const tunnelResponses: Array<{ status: number; allowOrigin: string | null }> = [];
  tab.on("response", async (response) => {
    if (response.url().startsWith(`${relay.url}/tunnel`)) {
      tunnelResponses.push({ status: response.status(), allowOrigin: await response.headerValue("access-control-allow-origin") });
    }
  });
  await tab.goto(`${origin}/`);
  const result = await tab.evaluate(() => (globalThis as unknown as { run(): Promise<PageResult> }).run());
  return { result, tunnelResponses, tab };
}

describe("@sentry/browser in Chromium through the relay's tunnel", () => {
  it("delivers an exception and a message cross-origin to the upstream project with the upstream key", async () => {
    const { result, tunnelResponses, tab } = await runPage(page.origin);
    await tab.close();

    const exception = await upstream.waitFor(() => upstream.items("event").find(({ item }) => item.json().event_id === result.exceptionId));
    const message = await upstream.waitFor(() => upstream.items("event").find(({ item }) => item.json().event_id === result.messageId));
    expect(exception.item.json().exception.values[0]).toMatchObject({ type: "TypeError", value: "e2e exception from the browser" });
    expect(exception.item.json()).toMatchObject({ release: "web@2.0.0", environment: "e2e-browser", platform: "javascript" });
    expect(message.item.json()).toMatchObject({ message: "e2e message from the browser" });
    for (const { envelope } of [exception, message]) {
      expect(envelope.path).toBe("/api/4501/envelope/");
      expect(envelope.headers["x-sentry-auth"]).toContain(`sentry_key=${UPSTREAM_KEY}`);
      expect(envelope.header.dsn).toBe(upstream.dsn(UPSTREAM_KEY, "4501"));
      expect(envelope.raw.toString("latin1")).not.toContain(RELAY_KEY);
    }
    // The SDK saw the relay accept both, and could read the answer across origins.
    expect(result.statuses).toEqual([200, 200]);
    expect(tunnelResponses.length).toBeGreaterThanOrEqual(2);
    for (const response of tunnelResponses) expect(response).toEqual({ status: 200, allowOrigin: page.origin });
  });

  it("refuses an origin the project does not allow, and nothing reaches the upstream", async () => {
    const before = upstream.received.length;
    // Same page, other origin: localhost is not 127.0.0.1 to a browser.
    const { result, tab } = await runPage(`http://localhost:${page.port}`);
    await tab.close();
    expect(result.statuses).toEqual([403, 403]);
    expect(upstream.received.length).toBe(before);
  });
});
