import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseEnvelope } from "../../src/envelope/parse";
import { EVENT_ID, fakeUpstream, post, relay, sentryAuth } from "./support/harness";

let upstream: ReturnType<typeof fakeUpstream>;
beforeEach(() => {
  upstream = fakeUpstream();
});
afterEach(() => upstream.restore());

const TOKEN = "RsT0kEn9x7Q";
const EMAIL = "jane@example.com";
const PASSWORD = "hunter2hunter2";
const IP = "73.133.27.120";
const IP6 = "2001:db8:85a3::8a2e:370:7334";
const SECRETS = [TOKEN, EMAIL, PASSWORD, IP, IP6];
const link = `https://app.example.com/reset?token=${TOKEN}`;

/** One item of each type that reached the upstream unscrubbed before, each carrying the same four kinds of personal data. */
const ITEMS: Record<string, unknown> = {
  security: {
    csp: { document_uri: link, blocked_uri: `http://${IP}/x.js`, effective_directive: "script-src" },
    user: { email: EMAIL, ip_address: IP },
    extra: { password: PASSWORD },
  },
  raw_security: {
    "csp-report": { "document-uri": link, referrer: `mailto:${EMAIL}`, "source-file": `http://${IP6}/app.js` },
    password: PASSWORD,
  },
  nel: [{ age: 0, url: link, body: { server_ip: IP, referrer: EMAIL, phase: "connection" }, auth: { password: PASSWORD } }],
  profile: {
    transaction: { name: "POST /reset", note: `sent ${link} to ${EMAIL}` },
    device: { client_ip: IP },
    options: { password: PASSWORD },
    profile: { samples: [], stacks: [], frames: [] },
  },
  otel_span: {
    name: "POST /reset",
    attributes: { "http.url": link, "user.email": EMAIL, "net.peer.ip": IP },
    credentials: { password: PASSWORD },
  },
  otel_log: { body: `reset link ${link} mailed to ${EMAIL} from ${IP}`, attributes: { password: { value: PASSWORD, type: "string" } } },
  x_custom: { user: { email: EMAIL, password: PASSWORD }, link, peer: IP6 },
};

// Spaced out, so any re-encoding would show.
const clientReport = '{ "timestamp": 1764028800, "discarded_events": [ { "reason": "sample_rate", "category": "error", "quantity": 2 } ] }';

describe("every JSON item is scrubbed unless listed as carrying no personal data", () => {
  it("scrubs security, raw_security, nel, profile, otel_span, otel_log and an unknown JSON item; passes client_report byte for byte", async () => {
    const lines = [`{"event_id":"${EVENT_ID}"}`, '{"type":"event"}', `{"message":"reset requested by ${EMAIL}"}`];
    for (const [type, payload] of Object.entries(ITEMS)) lines.push(JSON.stringify({ type }), JSON.stringify(payload));
    lines.push('{"type":"client_report"}', clientReport);
    const res = await relay(post("/api/42/envelope/", lines.join("\n"), sentryAuth()));
    expect(res.status).toBe(200);

    const text = upstream.calls[0]!.text;
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    const items = parseEnvelope(upstream.calls[0]!.body).items;
    // Nothing was dropped to get there: every item arrived, scrubbed.
    expect(items.map((i) => i.header.type).filter((t) => t !== "client_report")).toEqual(["event", ...Object.keys(ITEMS)]);
    const payload = (type: string) => JSON.parse(new TextDecoder().decode(items.find((i) => i.header.type === type)!.payload));
    expect(payload("x_custom")).toMatchObject({ user: { email: "[email]", password: "[Filtered]" }, link: "https://app.example.com/reset?token=[Filtered]" });
    expect(payload("raw_security")).toMatchObject({ password: "[Filtered]" });
    expect(payload("otel_log").attributes.password.value).toBe("[Filtered]");
    // The SDK's own client report is forwarded exactly as it came.
    expect(items.some((i) => i.header.type === "client_report" && new TextDecoder().decode(i.payload) === clientReport)).toBe(true);
  });
});
