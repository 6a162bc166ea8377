import { bundleForBrowser } from "../../test/e2e/support/browser-page";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";
import type { Recorder } from "./recorder";

const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"];

/** The page's steps, run in the browser with the SDK as `window.Sentry`. */
const sentryPage = (dsn: string, tunnel: string | undefined, recorderUrl: string) => `<!doctype html>
<html><head><script src="/sdk.js"></script></head><body><script>
  const step = (what) => fetch(${JSON.stringify(recorderUrl)} + "/__step/" + what);
  window.run = async () => {
    // The SDK starts a session when it starts: name it before init.
    await step("session");
    if (Sentry.addTracingExtensions) Sentry.addTracingExtensions();
    Sentry.init({
      dsn: ${JSON.stringify(dsn)},
      tunnel: ${JSON.stringify(tunnel)},
      release: "corpus@1.0.0",
      environment: "corpus",
      tracesSampleRate: 1,
      sendClientReports: false,
      enableLogs: true,
    });
    await Sentry.flush(3000);
    const errors = [];
    const send = async (what, fn) => {
      await step(what);
      try { await fn(); } catch (err) { errors.push(what + ": " + err.message); }
      await Sentry.flush(3000);
    };
    await send("exception", () => Sentry.captureException(new TypeError("corpus exception from the browser")));
    await send("message", () => Sentry.captureMessage("corpus message from the browser", "warning"));
    await send("transaction", () => Sentry.startSpan({ name: "corpus transaction", op: "task" }, () => Sentry.startSpan({ name: "child", op: "ui" }, () => 1)));
    if (Sentry.logger && Sentry.logger.info) await send("log", () => Sentry.logger.info("corpus log from the browser", { answer: 42 }));
    if (Sentry.captureFeedback) {
      await send("feedback", () => Sentry.captureFeedback({ message: "corpus feedback", name: "Jane Doe", email: "jane@example.com" }));
    } else if (Sentry.captureUserFeedback) {
      const eventId = Sentry.captureMessage("corpus message with user report");
      await Sentry.flush(3000);
      await send("user-report", () => Sentry.captureUserFeedback({ event_id: eventId, name: "Jane Doe", email: "jane@example.com", comments: "corpus feedback" }));
    }
    await send("attachment", () => Sentry.withScope((scope) => {
      scope.addAttachment({ filename: "corpus.txt", data: "attachment text\\n", contentType: "text/plain" });
      Sentry.captureException(new Error("corpus exception with attachment"));
    }));
    if (Sentry.captureCheckIn) await send("check-in", () => Sentry.captureCheckIn({ monitorSlug: "corpus-job", status: "ok" }));
    return errors;
  };
</script></body></html>`;

const ravenPage = (dsn: string, recorderUrl: string) => `<!doctype html>
<html><head><script src="/sdk.js"></script></head><body><script>
  const step = (what) => fetch(${JSON.stringify(recorderUrl)} + "/__step/" + what);
  const settle = () => new Promise((resolve) => setTimeout(resolve, 1000));
  window.run = async () => {
    Raven.config(${JSON.stringify(dsn)}, { release: "corpus@1.0.0", environment: "corpus", autoBreadcrumbs: false }).install();
    await step("exception");
    Raven.captureException(new TypeError("corpus exception from raven-js"));
    await settle();
    await step("message");
    Raven.captureMessage("corpus message from raven-js", { level: "warning" });
    await settle();
    return [];
  };
</script></body></html>`;

/** @sentry/browser 7 and 10 (DSN and tunnel) and raven-js 3 in Debian's headless Chromium. */
export async function driveBrowser(recorder: Recorder, options: { dsn: string; recorderUrl: string; pagePort: number }): Promise<void> {
  let page = { html: "", script: "" };
  const server = createServer((req, res) => {
    if (req.url === "/sdk.js") res.writeHead(200, { "content-type": "text/javascript" }).end(page.script);
    else res.writeHead(200, { "content-type": "text/html" }).end(page.html);
  });
  server.listen(options.pagePort, "::");
  await once(server, "listening");
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  const problems: string[] = [];
  try {
    const visit = async (client: string) => {
      recorder.begin(client);
      const context = await browser.newContext();
      const tab = await context.newPage();
      await tab.goto(`http://localhost:${options.pagePort}/`);
      const errors = (await tab.evaluate("window.run()")) as string[];
      problems.push(...errors.map((e) => `${client}: ${e}`));
      await context.close();
    };
    for (const [name, module] of [["browser-7", "sentry-browser-7"], ["browser-10", "sentry-browser-10"]] as const) {
      const script = await bundleForBrowser(module);
      page = { html: sentryPage(options.dsn, undefined, options.recorderUrl), script };
      await visit(name);
      page = { html: sentryPage(options.dsn, `${options.recorderUrl}/tunnel`, options.recorderUrl), script };
      await visit(`${name}-tunnel`);
    }
    const require = createRequire(import.meta.url);
    page = { html: ravenPage(options.dsn, options.recorderUrl), script: readFileSync(require.resolve("raven-js/dist/raven.js"), "utf8") };
    await visit("raven-js");
  } finally {
    await browser.close();
    server.closeAllConnections();
    server.close();
  }
  if (problems.length) console.error(problems.join("\n"));
}
