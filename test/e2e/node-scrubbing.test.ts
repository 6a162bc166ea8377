import * as Sentry from "@sentry/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readArchived } from "./support/archive";
import type { FakeUpstream } from "./support/fake-upstream";
import { startStack, type Stack } from "./support/stack";

const SECRETS = {
  email: "jane.doe@example.com",
  card: "4111 1111 1111 1111",
  password: "hunter2-correct-horse",
  token: "sk_live_51HxyzSECRET",
  ip: "73.133.27.120",
};

let stack: Stack;
let upstream: FakeUpstream;

beforeAll(async () => {
  stack = await startStack({ archive: true });
  upstream = stack.upstream;
  // v11 collects user info, headers and query strings by default (`dataCollection`):
  // keeping them private is the relay's job.
  Sentry.init({ dsn: stack.dsn, sendClientReports: false });
});

afterAll(async () => {
  await Sentry.close(2000);
  await stack?.stop();
});

describe("@sentry/node event with personal data, through the relay", () => {
  it("arrives at the upstream and in the R2 archive scrubbed, with the rest intact", async () => {
    const scope = Sentry.getIsolationScope();
    scope.setUser({ id: "user-42", email: SECRETS.email, ip_address: SECRETS.ip });
    scope.setExtra("password", SECRETS.password);
    scope.setExtra("plan", "enterprise");
    scope.setSDKProcessingMetadata({
      normalizedRequest: {
        url: "https://shop.example.com/checkout",
        method: "POST",
        headers: { authorization: `Bearer ${SECRETS.token}`, "user-agent": "e2e-agent/1.0" },
      },
    });
    Sentry.addBreadcrumb({ category: "payment", message: `charging card ${SECRETS.card}`, level: "info" });
    const eventId = Sentry.captureException(new Error(`checkout failed for ${SECRETS.email}`));
    await Sentry.flush(5000);

    const { item, envelope } = await upstream.waitFor(() => upstream.items("event").find(({ item }) => item.json().event_id === eventId));
    const archived = await readArchived(stack.relay, "7", eventId);

    for (const [where, text] of [["upstream", envelope.raw.toString("utf8")], ["archive", archived]] as const) {
      for (const [name, secret] of Object.entries(SECRETS)) {
        expect(text.includes(secret), `${name} reached the ${where}`).toBe(false);
      }
    }

    const event = item.json();
    expect(event.exception.values[0]).toMatchObject({ type: "Error", value: "checkout failed for [email]" });
    expect(event.user).toMatchObject({ id: "user-42", email: "[email]", ip_address: null });
    expect(event.extra).toMatchObject({ password: "[Filtered]", plan: "enterprise" });
    expect(event.breadcrumbs.find((b: { category: string }) => b.category === "payment").message).toBe("charging card [Filtered]");
    const headers = Object.fromEntries(Object.entries(event.request.headers as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
    expect(headers).toMatchObject({ authorization: "[Filtered]", "user-agent": "e2e-agent/1.0" });
    expect(event.request.url).toBe("https://shop.example.com/checkout");
    expect(event.sdk.name).toBe("sentry.javascript.node");
    expect(envelope.headers["x-forwarded-for"]).toBeUndefined();
  });
});
