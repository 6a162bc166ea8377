import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EVENT_ID, KEY, UPSTREAM_DSN, fakeUpstream, post, relay, sentryAuth } from "./support/harness";

let upstream: ReturnType<typeof fakeUpstream>;
beforeEach(() => {
  upstream = fakeUpstream();
});
afterEach(() => upstream.restore());

const config = (filters: Record<string, unknown>) => JSON.stringify({ projects: { "42": { keys: [KEY], upstream: UPSTREAM_DSN, filters } } });
const envelope = (event: unknown, extra = "") => `{"event_id":"${EVENT_ID}"}\n{"type":"event"}\n${JSON.stringify(event)}${extra}`;

describe("inbound filters in the pipeline", () => {
  it("answers 200 to a filtered event, as Sentry does, and forwards nothing", async () => {
    const event = { request: { url: "https://app.example.com/", headers: { "User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1)" } }, message: "x" };
    const res = await relay(post("/api/42/envelope/", envelope(event), sentryAuth()), config({}));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: EVENT_ID });
    expect(upstream.calls).toHaveLength(0);
  });

  it("drops the event's attachments with it and keeps unrelated items", async () => {
    const event = { exception: { values: [{ type: "ValueError", value: "connection reset by peer" }] } };
    const extra = '\n{"type":"attachment","length":3,"filename":"a.txt"}\nabc\n{"type":"session"}\n{"sid":"s","status":"ok"}';
    const res = await relay(post("/api/42/envelope/", envelope(event, extra), sentryAuth()), config({ errorMessages: ["*connection reset*"] }));
    expect(res.status).toBe(200);
    expect(upstream.calls[0]!.text).not.toContain('"type":"event"');
    expect(upstream.calls[0]!.text).not.toContain('"type":"attachment"');
    expect(upstream.calls[0]!.text).toContain('"type":"session"');
  });

  it("lets through what no filter matches", async () => {
    const res = await relay(post("/api/42/envelope/", envelope({ message: "real problem", release: "web@1.0.0" }), sentryAuth()), config({ releases: ["*-beta*"] }));
    expect(res.status).toBe(200);
    expect(upstream.calls).toHaveLength(1);
  });

  it("refuses a bad filter config naming the field", async () => {
    const res = await relay(post("/api/42/envelope/", envelope({ message: "x" }), sentryAuth()), config({ localhost: "yes" }));
    expect(res.status).toBe(500);
    expect(((await res.json()) as { detail: string }).detail).toContain("projects.42.filters.localhost");
  });
});
