import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readArchived } from "../../src/forward/archive";
import { EVENT_ID, fakeUpstream, post, relay, sentryAuth, testConfig } from "./support/harness";

let upstream: ReturnType<typeof fakeUpstream>;
beforeEach(() => {
  upstream = fakeUpstream();
});
afterEach(() => upstream.restore());

const piiEvent = {
  event_id: EVENT_ID,
  message: "signup failed for jane@example.com",
  user: { id: "42", email: "jane@example.com", ip_address: "73.133.27.120" },
  extra: { password: "hunter2", plan: "pro" },
  request: { url: "https://app.example.com/cb?token=abc", headers: { Authorization: "Bearer sk_live_123", Accept: "*/*" } },
  breadcrumbs: { values: [{ category: "payment", message: "card 4111 1111 1111 1111 declined" }] },
};
const attachment = new Uint8Array([0, 1, 2, 10, 255, 254]);

function envelopeWith(event: unknown, extraItems: Uint8Array[] = []): Uint8Array {
  const head = new TextEncoder().encode(`{"event_id":"${EVENT_ID}"}\n{"type":"event"}\n${JSON.stringify(event)}\n`);
  const parts = [head, ...extraItems];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function attachmentItem(): Uint8Array {
  const header = new TextEncoder().encode(`{"type":"attachment","length":${attachment.byteLength},"filename":"dump.bin"}\n`);
  return new Uint8Array([...header, ...attachment, 10]);
}

function forwardedEvent(text: string): Record<string, any> {
  const lines = text.split("\n");
  const index = lines.findIndex((l) => l.startsWith('{"type":"event"'));
  return JSON.parse(lines[index + 1]!);
}

describe("scrubbing in the pipeline", () => {
  it("scrubs the event before it is forwarded and leaves other items byte-for-byte", async () => {
    const res = await relay(post("/api/42/envelope/", envelopeWith(piiEvent, [attachmentItem()]), sentryAuth()));
    expect(res.status).toBe(200);
    const text = upstream.calls[0]!.text;
    for (const secret of ["jane@example.com", "73.133.27.120", "hunter2", "sk_live_123", "4111 1111", "token=abc"]) {
      expect(text).not.toContain(secret);
    }
    const event = forwardedEvent(text);
    expect(event).toMatchObject({
      message: "signup failed for [email]",
      user: { id: "42", email: "[email]", ip_address: null },
      extra: { password: "[Filtered]", plan: "pro" },
      request: { url: "https://app.example.com/cb?token=[Filtered]", headers: { Authorization: "[Filtered]", Accept: "*/*" } },
      breadcrumbs: { values: [{ category: "payment", message: "card [Filtered] declined" }] },
    });
    const body = upstream.calls[0]!.body;
    const tail = body.subarray(body.byteLength - attachmentItem().byteLength);
    expect([...tail]).toEqual([...attachmentItem()]);
  });

  it("archives only scrubbed envelopes", async () => {
    const event = { ...piiEvent, event_id: "dd".repeat(16) };
    const body = new TextEncoder().encode(`{"event_id":"${"dd".repeat(16)}"}\n{"type":"event"}\n${JSON.stringify(event)}`);
    expect((await relay(post("/api/43/envelope/", body, sentryAuth()))).status).toBe(200);
    const listed = await (env as { ARCHIVE: R2Bucket }).ARCHIVE.list({ prefix: "43/" });
    const key = listed.objects.find((o) => o.key.endsWith(`${"dd".repeat(16)}.envelope`))!.key;
    const archived = new TextDecoder().decode(await readArchived((await (env as { ARCHIVE: R2Bucket }).ARCHIVE.get(key))!));
    expect(archived).not.toContain("jane@example.com");
    expect(archived).not.toContain("hunter2");
    expect(forwardedEvent(archived).user.email).toBe("[email]");
  });

  it("drops attachments with a filtered outcome when the project says so", async () => {
    const config = testConfig({}, { scrub: { attachments: "drop" } });
    const res = await relay(post("/api/42/envelope/", envelopeWith({ message: "ok" }, [attachmentItem()]), sentryAuth()), config);
    expect(res.status).toBe(200);
    expect(upstream.calls[0]!.text).not.toContain('"type":"attachment"');
  });

  it("drops a JSON item it cannot read instead of forwarding it unscrubbed", async () => {
    const log = new TextEncoder().encode('{"type":"log","item_count":1}\n{not json\n');
    const res = await relay(post("/api/42/envelope/", envelopeWith({ message: "ok" }, [log]), sentryAuth()));
    expect(res.status).toBe(200);
    expect(upstream.calls[0]!.text).not.toContain("not json");
    expect(forwardedEvent(upstream.calls[0]!.text).message).toBe("ok");
  });

  it("does not pass the client's address upstream while IP scrubbing is on", async () => {
    const headers = { ...sentryAuth(), "cf-connecting-ip": "73.133.27.120" };
    await relay(post("/api/42/envelope/", envelopeWith({ message: "ok" }), headers));
    expect(upstream.calls[0]!.headers.get("x-forwarded-for")).toBeNull();
    await relay(post("/api/42/envelope/", envelopeWith({ message: "ok" }), headers), testConfig({}, { scrub: { scrubIpAddresses: false } }));
    expect(upstream.calls[1]!.headers.get("x-forwarded-for")).toBe("73.133.27.120");
  });

  it("applies a project's custom rules", async () => {
    const config = testConfig({}, { scrub: { rules: [{ selector: "extra.plan", rule: "@anything:hash" }] } });
    await relay(post("/api/42/envelope/", envelopeWith(piiEvent), sentryAuth()), config);
    expect(forwardedEvent(upstream.calls[0]!.text).extra.plan).toMatch(/^[0-9A-F]{40}$/);
  });

  it("answers 500 naming the rule when a project's scrub rule is invalid", async () => {
    const config = testConfig({}, { scrub: { rules: [{ selector: "$string", pattern: "([a-z" }] } });
    const res = await relay(post("/api/42/envelope/", envelopeWith(piiEvent), sentryAuth()), config);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { detail: string }).detail).toBe("invalid RELAY_CONFIG at projects.42.scrub.rules.0.pattern (details in the worker log)");
  });
});
