import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EVENT_ID, fakeUpstream, post, relay, sentryAuth, testConfig } from "./support/harness";

/** Custom scrub patterns run on RE2 (re2js) inside workerd, as they will in production. */

let upstream: ReturnType<typeof fakeUpstream>;
beforeEach(() => {
  upstream = fakeUpstream();
});
afterEach(() => upstream.restore());

function envelopeWith(event: unknown): Uint8Array {
  return new TextEncoder().encode(`{"event_id":"${EVENT_ID}"}\n{"type":"event"}\n${JSON.stringify(event)}\n`);
}

function forwardedEvent(text: string): Record<string, any> {
  const lines = text.split("\n");
  return JSON.parse(lines[lines.findIndex((l) => l.startsWith('{"type":"event"')) + 1]!);
}

describe("custom scrub patterns in workerd", () => {
  it("redacts with a pattern and a key pattern, and a catastrophic-for-backtracking pattern costs nothing", async () => {
    const config = testConfig({}, {
      scrub: {
        rules: [
          { selector: "$string", pattern: "(x+x+)+y", text: "[xy]" },
          { selector: "$string", pattern: "tok_([a-z0-9]+)", replaceGroups: [1], method: "mask" },
          { selector: "**", keyPattern: "^customer" },
        ],
      },
    });
    const event = { event_id: EVENT_ID, message: "x".repeat(100_000), extra: { note: "tok_abc12 and xxxy", customer_ref: "c1" } };
    const res = await relay(post("/api/42/envelope/", envelopeWith(event), sentryAuth()), config);
    expect(res.status).toBe(200);
    const forwarded = forwardedEvent(upstream.calls[0]!.text);
    expect(forwarded.message).toBe("x".repeat(100_000));
    expect(forwarded.extra).toEqual({ note: "tok_***** and [xy]", customer_ref: "[Filtered]" });
  });

  it("refuses a pattern RE2 cannot run, naming the rule", async () => {
    const config = testConfig({}, { scrub: { rules: [{ selector: "$string", pattern: "(a)\\1" }, { selector: "**", keyPattern: "(?=x)" }] } });
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const res = await relay(post("/api/42/envelope/", envelopeWith({ event_id: EVENT_ID, message: "m" }), sentryAuth()), config);
    const detail = ((await res.json()) as { detail: string }).detail;
    // The answer names the rules; why each was refused goes to the log only.
    expect(res.status).toBe(500);
    expect(detail).toContain("projects.42.scrub.rules.0.pattern");
    expect(detail).toContain("projects.42.scrub.rules.1.keyPattern");
    const log = logged.mock.calls.flat().join("\n");
    logged.mockRestore();
    expect(log).toContain("projects.42.scrub.rules.0.pattern: invalid regular expression");
    expect(log).toContain("projects.42.scrub.rules.1.keyPattern: invalid regular expression");
    expect(upstream.calls).toHaveLength(0);
  });
});
