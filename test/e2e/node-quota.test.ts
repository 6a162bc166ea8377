import * as Sentry from "@sentry/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeUpstream } from "./support/fake-upstream";
import { startStack, type Stack } from "./support/stack";

const WINDOW = 4;

let stack: Stack;
let upstream: FakeUpstream;
const statuses: Array<number | undefined> = [];

beforeAll(async () => {
  stack = await startStack({ quotas: [{ id: "errors", categories: ["error"], window: WINDOW, limit: 2 }] });
  upstream = stack.upstream;
  Sentry.init({ dsn: stack.dsn, sendClientReports: false });
  Sentry.getClient()!.on("afterSendEvent", (_event, response) => statuses.push(response.statusCode));
});

afterAll(async () => {
  await Sentry.close(2000);
  await stack?.stop();
});

/** Requests the relay itself saw, from wrangler's request log. */
const relayRequests = (status: number) =>
  stack.relay.output().split("\n").filter((line) => line.includes("POST /api/7/envelope/") && line.includes(` ${status} `)).length;

const errorsAtUpstream = () => upstream.items("event").length;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("@sentry/node against a quota", () => {
  it("gets 429 with X-Sentry-Rate-Limits, stops sending errors itself, and resumes after the retry time", async () => {
    for (let i = 0; i < 3; i++) {
      Sentry.captureException(new Error(`quota e2e ${i}`));
      await Sentry.flush(3000);
    }
    expect(statuses).toEqual([200, 200, 429]);
    await upstream.waitFor(() => errorsAtUpstream() === 2 || undefined);

    // The SDK now knows: these never leave the process (its transport reports no status).
    for (let i = 0; i < 5; i++) {
      Sentry.captureException(new Error(`held back ${i}`));
      await Sentry.flush(3000);
    }
    expect(statuses).toEqual([200, 200, 429, undefined, undefined, undefined, undefined, undefined]);
    await sleep(300); // let wrangler print its request log
    expect(relayRequests(429)).toBe(1);
    expect(relayRequests(200)).toBe(2);

    // Other categories are not limited, by the relay or by the SDK.
    Sentry.captureFeedback({ message: "still heard", email: "x@example.com" });
    await Sentry.flush(3000);
    await upstream.waitFor(() => upstream.items("feedback")[0]);

    // After the retry time the SDK sends errors again, and the window has room.
    await sleep(WINDOW * 1000 + 500);
    const id = Sentry.captureException(new Error("after the window"));
    await Sentry.flush(3000);
    await upstream.waitFor(() => upstream.items("event").find(({ item }) => item.json().event_id === id));
    expect(errorsAtUpstream()).toBe(3);
  });
});
