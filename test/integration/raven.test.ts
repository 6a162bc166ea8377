import { deflateSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KEY, UPSTREAM_DSN, fakeUpstream, post, relay, sentryAuth } from "./support/harness";

let upstream: ReturnType<typeof fakeUpstream>;
beforeEach(() => {
  upstream = fakeUpstream();
});
afterEach(() => upstream.restore());

const config = JSON.stringify({
  projects: { "42": { keys: [KEY], upstream: UPSTREAM_DSN, filters: { browserExtensions: true, webCrawlers: true, errorMessages: ["*ResizeObserver*"] } } },
});

/**
 * What the `raven` npm package (v2) sends: the exception as a bare list, not
 * `{"values": [...]}`, next to a legacy top-level `message`.
 */
const ravenEvent = {
  event_id: "5f1a7c0e9d2b4e6f8a1b3c5d7e9f0a2b",
  timestamp: "2026-11-23T08:00:00",
  level: "error",
  message: "TypeError: Cannot read properties of undefined (reading 'id')",
  culprit: "handleOrder(app/routes/orders)",
  platform: "node",
  logger: "",
  server_name: "worker-3",
  release: "orders@2.1.0",
  environment: "production",
  exception: [
    {
      type: "TypeError",
      value: "Cannot read properties of undefined (reading 'id')",
      stacktrace: {
        frames: [
          { filename: "node:internal/process/task_queues", function: "processTicksAndRejections", lineno: 95, colno: 5, in_app: false },
          { filename: "/srv/app/routes/orders.js", module: "app.routes:orders", function: "handleOrder", lineno: 41, colno: 23, in_app: true },
        ],
      },
    },
  ],
  extra: { node: "v20.11.1" },
  tags: {},
  sdk: { name: "raven-node", version: "2.6.4" },
};

function forwardedEvents(): unknown[] {
  return upstream.calls.flatMap((call) => {
    const [, ...lines] = call.text.split("\n");
    const events = [];
    for (let i = 0; i + 1 < lines.length; i += 2) if (JSON.parse(lines[i]!).type === "event") events.push(JSON.parse(lines[i + 1]!));
    return events;
  });
}

describe("the raven (v2) payload: exception as a bare list", () => {
  it("is accepted on /store/ as JSON and arrives upstream intact", async () => {
    const res = await relay(post("/api/42/store/", JSON.stringify(ravenEvent), { ...sentryAuth(), "content-type": "application/json" }), config);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: ravenEvent.event_id });
    expect(forwardedEvents()).toEqual([ravenEvent]);
  });

  it("is accepted on /store/ as base64 of zlib-deflated JSON, as raven sends it", async () => {
    const body = Buffer.from(deflateSync(JSON.stringify(ravenEvent))).toString("base64");
    const res = await relay(post("/api/42/store/", body, sentryAuth()), config);
    expect(res.status).toBe(200);
    expect(forwardedEvents()).toEqual([ravenEvent]);
  });

  it("is accepted in an envelope and arrives upstream intact", async () => {
    const envelope = `{"event_id":"${ravenEvent.event_id}"}\n{"type":"event"}\n${JSON.stringify(ravenEvent)}\n`;
    const res = await relay(post("/api/42/envelope/", envelope, sentryAuth()), config);
    expect(res.status).toBe(200);
    expect(forwardedEvents()).toEqual([ravenEvent]);
  });

  it("is still filtered when its top frame comes from a browser extension", async () => {
    const fromExtension = {
      ...ravenEvent,
      exception: [{ type: "TypeError", value: "x", stacktrace: { frames: [{ filename: "chrome-extension://abcdef/content.js", function: "inject" }] } }],
    };
    const res = await relay(post("/api/42/store/", JSON.stringify(fromExtension), sentryAuth()), config);
    expect(res.status).toBe(200);
    expect(upstream.calls).toHaveLength(0);
  });
});
