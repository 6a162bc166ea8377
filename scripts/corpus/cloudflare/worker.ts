import * as Sentry from "@sentry/cloudflare";

interface Env {
  SENTRY_DSN: string;
  RECORDER: string;
}

/**
 * @sentry/cloudflare, unmodified, inside a Worker: `GET /<what>` announces the
 * step to the corpus recorder, sends that kind of payload, and flushes.
 */
export default Sentry.withSentry(
  (env: Env) => ({
    dsn: env.SENTRY_DSN,
    release: "corpus@1.0.0",
    environment: "corpus",
    tracesSampleRate: 1,
    sendClientReports: false,
  }),
  {
    async fetch(request: Request, env: Env): Promise<Response> {
      const what = new URL(request.url).pathname.slice(1);
      // wrangler's readiness probe: nothing to record.
      if (what === "ready") return new Response("ready");
      await fetch(`${env.RECORDER}/__step/${what}`);
      switch (what) {
        case "exception":
          Sentry.captureException(new TypeError("corpus exception from cloudflare"));
          break;
        case "message":
          Sentry.captureMessage("corpus message from cloudflare", "warning");
          break;
        case "transaction":
          Sentry.startSpan({ name: "corpus transaction", op: "task" }, () => Sentry.startSpan({ name: "child", op: "db" }, () => 1));
          break;
        case "log":
          Sentry.logger.info("corpus log from cloudflare", { answer: 42 });
          break;
        case "feedback":
          Sentry.captureFeedback({ message: "corpus feedback", name: "Jane Doe", email: "jane@example.com" });
          break;
        case "attachment":
          Sentry.withScope((scope) => {
            scope.addAttachment({ filename: "corpus.txt", data: "attachment text\n", contentType: "text/plain" });
            Sentry.captureException(new Error("corpus exception with attachment"));
          });
          break;
        case "check-in":
          Sentry.captureCheckIn({ monitorSlug: "corpus-job", status: "ok", duration: 1.5 }, { schedule: { type: "crontab", value: "0 * * * *" } });
          break;
        default:
          return new Response("unknown step", { status: 404 });
      }
      await Sentry.flush(3000);
      return new Response("sent");
    },
  },
);
