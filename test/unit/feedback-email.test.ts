import { describe, expect, it } from "vitest";
import { relayConfigSchema } from "../../src/config/schema";
import { newItem } from "../../src/envelope/envelope";
import type { EnvelopeItem } from "../../src/envelope/types";
import { compileScrubber } from "../../src/scrub/compile";
import { scrubEnvelope } from "../../src/scrub/envelope";

const KEY = "0123456789abcdef0123456789abcdef";
const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function scrubbed(item: EnvelopeItem, scrub: Record<string, unknown> = {}): { item: EnvelopeItem; json: unknown } {
  const config = relayConfigSchema.parse({ projects: { "1": { keys: [KEY], archive: true, scrub } } });
  const out = scrubEnvelope({ header: {}, items: [item] }, compileScrubber(config.projects["1"]!.scrub)).envelope.items[0]!;
  return { item: out, json: JSON.parse(dec(out.payload)) };
}

/** What @sentry/browser's feedback widget sends (`captureFeedback`), with addresses in other places too. */
const feedback = (contactEmail: unknown) => ({
  event_id: "f".repeat(32),
  type: "feedback",
  contexts: {
    feedback: { contact_email: contactEmail, name: "Jane", message: "Broken checkout, write to jane.other@example.com", url: "https://shop.example.com/cart" },
    trace: { trace_id: "a".repeat(32) },
  },
  user: { email: "jane@example.com", ip_address: "73.133.27.120" },
  tags: { from: "bob@example.com" },
});

describe("the address a user typed so the team can answer", () => {
  it("is kept by default in a feedback; every other address in it is scrubbed", () => {
    const { json } = scrubbed(newItem({ type: "feedback" }, JSON.stringify(feedback("jane@example.com"))));
    expect(json).toEqual({
      event_id: "f".repeat(32),
      type: "feedback",
      contexts: {
        feedback: { contact_email: "jane@example.com", name: "Jane", message: "Broken checkout, write to [email]", url: "https://shop.example.com/cart" },
        trace: { trace_id: "a".repeat(32) },
      },
      user: { email: "[email]", ip_address: null },
      tags: { from: "[email]" },
    });
  });

  it("is kept by default in a user report; its comments are still scrubbed", () => {
    const report = { event_id: "e".repeat(32), name: "Bob", email: "bob@example.com", comments: "or bob@work.example, card 4111 1111 1111 1111" };
    const { json } = scrubbed(newItem({ type: "user_report" }, JSON.stringify(report)));
    expect(json).toEqual({ ...report, comments: "or [email], card [Filtered]" });
  });

  it('is scrubbed with feedbackEmail: "scrub"', () => {
    expect((scrubbed(newItem({ type: "feedback" }, JSON.stringify(feedback("jane@example.com"))), { feedbackEmail: "scrub" }).json as ReturnType<typeof feedback>)
      .contexts.feedback.contact_email).toBe("[email]");
    const report = { name: "Bob", email: "bob@example.com", comments: "hi" };
    expect(scrubbed(newItem({ type: "user_report" }, JSON.stringify(report)), { feedbackEmail: "scrub" }).json).toEqual({ ...report, email: "[email]" });
  });

  it("still loses what other rules find in it, and what explicit rules ask for", () => {
    const typed = "jane@example.com password=hunter2 from 73.133.27.120";
    const kept = scrubbed(newItem({ type: "feedback" }, JSON.stringify(feedback(typed))));
    expect((kept.json as ReturnType<typeof feedback>).contexts.feedback.contact_email).toBe("jane@example.com password=[Filtered] from [ip]");
    const explicit = scrubbed(newItem({ type: "feedback" }, JSON.stringify(feedback("jane@example.com"))), {
      rules: [{ selector: "contexts.feedback.contact_email", rule: "@email:hash" }],
    });
    expect((explicit.json as ReturnType<typeof feedback>).contexts.feedback.contact_email).toMatch(/^[0-9A-F]{40}$/);
    const anywhere = scrubbed(newItem({ type: "user_report" }, JSON.stringify({ email: "bob@example.com" })), { rules: [{ selector: "$string", rule: "@email" }] });
    expect(anywhere.json).toEqual({ email: "[email]" });
  });

  it("keeps an item's bytes when the typed address was the only thing to scrub", () => {
    const payload = ' {"name": "Bob",  "email": "bob@example.com", "comments": "thanks"} ';
    const item = newItem({ type: "user_report" }, payload);
    const out = scrubbed(item).item;
    expect(out).toBe(item);
    const onlyContact = newItem({ type: "feedback" }, JSON.stringify({ contexts: { feedback: { contact_email: "a@b.example", message: "hi" } } }));
    expect(scrubbed(onlyContact).item).toBe(onlyContact);
  });

  it("leaves the same key elsewhere, and a value of another type, to the usual rules", () => {
    // `contact_email` is the typed address only under contexts.feedback of a feedback item.
    const event = { contexts: { feedback: { contact_email: "jane@example.com" } }, extra: { contact_email: "x@y.example" } };
    expect(scrubbed(newItem({ type: "event" }, JSON.stringify(event))).json).toEqual({ contexts: { feedback: { contact_email: "[email]" } }, extra: { contact_email: "[email]" } });
    const odd = { contexts: { feedback: { contact_email: ["jane@example.com"] } }, extra: { contact_email: "x@y.example" } };
    expect(scrubbed(newItem({ type: "feedback" }, JSON.stringify(odd))).json).toEqual({ contexts: { feedback: { contact_email: ["[email]"] } }, extra: { contact_email: "[email]" } });
    const listed = { contexts: [{ feedback: { contact_email: "jane@example.com" } }] };
    expect(scrubbed(newItem({ type: "feedback" }, JSON.stringify(listed))).json).toEqual({ contexts: [{ feedback: { contact_email: "[email]" } }] });
  });

  it("is a schema setting with two values, keep by default", () => {
    const parse = (scrub: Record<string, unknown>) => relayConfigSchema.safeParse({ projects: { "1": { keys: [KEY], archive: true, scrub } } });
    const parsed = parse({});
    expect(parsed.success && parsed.data.projects["1"]!.scrub.feedbackEmail).toBe("keep");
    expect(parse({ feedbackEmail: "scrub" }).success).toBe(true);
    expect(parse({ feedbackEmail: "hash" }).success).toBe(false);
  });
});
