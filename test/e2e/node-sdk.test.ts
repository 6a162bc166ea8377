import * as Sentry from "@sentry/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeUpstream } from "./support/fake-upstream";
import { RELAY_KEY, UPSTREAM_KEY, startStack, type Stack } from "./support/stack";

let stack: Stack;
let upstream: FakeUpstream;
const statuses: Array<number | undefined> = [];

beforeAll(async () => {
  stack = await startStack();
  upstream = stack.upstream;
  Sentry.init({
    dsn: stack.dsn,
    release: "e2e@1.0.0",
    environment: "e2e",
    sendClientReports: false,
  });
  // flush() resolves true even when sending failed; record what the relay answered.
  Sentry.getClient()!.on("afterSendEvent", (_event, response) => statuses.push(response.statusCode));
});

afterAll(async () => {
  await Sentry.close(2000);
  await stack?.stop();
});

describe("@sentry/node through the relay", () => {
  it("delivers an exception and a message to the upstream project with the upstream key", async () => {
    const exceptionId = Sentry.captureException(new TypeError("e2e exception from node"));
    const messageId = Sentry.captureMessage("e2e message from node", "warning");
    await Sentry.flush(5000);

    const exception = await upstream.waitFor(() => upstream.items("event").find(({ item }) => item.json().event_id === exceptionId));
    const message = await upstream.waitFor(() => upstream.items("event").find(({ item }) => item.json().event_id === messageId));

    expect(exception.item.json().exception.values[0]).toMatchObject({ type: "TypeError", value: "e2e exception from node" });
    expect(exception.item.json()).toMatchObject({ release: "e2e@1.0.0", environment: "e2e" });
    expect(message.item.json()).toMatchObject({ message: "e2e message from node", level: "warning" });
    for (const { envelope } of [exception, message]) {
      expect(envelope.path).toBe("/api/4501/envelope/");
      expect(envelope.headers["x-sentry-auth"]).toContain(`sentry_key=${UPSTREAM_KEY}`);
      expect(envelope.raw.toString("latin1")).not.toContain(RELAY_KEY);
    }
    expect(upstream.received.every((e) => !String(e.headers["x-sentry-auth"]).includes(RELAY_KEY))).toBe(true);
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
  });

  it("accepts the SDK's gzipped, chunked body for a large event and forwards it intact", async () => {
    const blob = "0123456789".repeat(6000); // 60 KB: over the SDK's 32 KiB gzip threshold
    const id = Sentry.captureException(new Error("large e2e event"), { extra: { blob } });
    await Sentry.flush(5000);
    const { item } = await upstream.waitFor(() => upstream.items("event").find(({ item }) => item.json().event_id === id));
    expect(item.json().extra.blob).toBe(blob);
    expect(statuses[statuses.length - 1]).toBe(200);
  });
});
