// Drives one @sentry/node major, unmodified, against the corpus recorder.
// argv: <module name> <dsn> <recorder url>. Each step is announced to the
// recorder first (GET /__step/<what>) so the requests it then sees are named.
const Sentry = require(process.argv[2]);
const dsn = process.argv[3];
const recorder = process.argv[4];

async function step(what, send) {
  await fetch(`${recorder}/__step/${what}`);
  try {
    await send();
  } catch (err) {
    console.error(`${process.argv[2]}: ${what}: ${err && err.message}`);
  }
  await Sentry.flush(3000);
}

async function main() {
  Sentry.init({
    dsn,
    release: "corpus@1.0.0",
    environment: "corpus",
    tracesSampleRate: 1,
    sendClientReports: false,
    autoSessionTracking: false,
    enableLogs: true,
    _experiments: { enableLogs: true },
  });
  await step("exception", () => Sentry.captureException(new TypeError("corpus exception from node")));
  await step("message", () => Sentry.captureMessage("corpus message from node", "warning"));
  await step("transaction", () => {
    if (Sentry.startSpan) return Sentry.startSpan({ name: "corpus transaction", op: "task" }, () => Sentry.startSpan({ name: "child", op: "db" }, () => 1));
    const t = Sentry.startTransaction({ name: "corpus transaction", op: "task" });
    t.startChild({ op: "db", description: "child" }).finish();
    t.finish();
  });
  if (Sentry.logger && Sentry.logger.info) await step("log", () => Sentry.logger.info("corpus log from node", { answer: 42 }));
  if (Sentry.captureFeedback) {
    await step("feedback", () => Sentry.captureFeedback({ message: "corpus feedback", name: "Jane Doe", email: "jane@example.com" }));
  } else if (Sentry.captureUserFeedback) {
    const eventId = Sentry.captureMessage("corpus message with user report");
    await Sentry.flush(3000);
    await step("user-report", () => Sentry.captureUserFeedback({ event_id: eventId, name: "Jane Doe", email: "jane@example.com", comments: "corpus feedback" }));
  }
  await step("attachment", () =>
    Sentry.withScope((scope) => {
      scope.addAttachment({ filename: "corpus.txt", data: "attachment text\n", contentType: "text/plain" });
      Sentry.captureException(new Error("corpus exception with attachment"));
    }),
  );
  if (Sentry.captureCheckIn) {
    await step("check-in", () => Sentry.captureCheckIn({ monitorSlug: "corpus-job", status: "ok", duration: 1.5 }, { schedule: { type: "crontab", value: "0 * * * *" } }));
  }
  await step("session", () => {
    Sentry.startSession({ ignoreDuration: true });
    Sentry.captureSession();
    Sentry.endSession();
  });
  await Sentry.close(3000);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
