import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readArchived } from "../../src/forward/archive";
import { KEY, UPSTREAM_DSN, fakeUpstream, post, relay, sentryAuth, type UpstreamCall } from "./support/harness";

let upstream: ReturnType<typeof fakeUpstream>;
beforeEach(() => {
  upstream = fakeUpstream();
});
afterEach(() => upstream.restore());

let nextProject = 9400;
function project(scrub: Record<string, unknown> = {}) {
  const id = String(nextProject++);
  const config = JSON.stringify({ projects: { [id]: { keys: [KEY], upstream: UPSTREAM_DSN, archive: true, scrub } } });
  return { id, send: (body: string) => relay(post(`/api/${id}/envelope/`, body, sentryAuth()), config) };
}

const FEEDBACK_ID = "fb".repeat(16);
const EVENT_ID = "ec".repeat(16);

/** A feedback as @sentry/browser's widget sends it, and a user report tied to an error, in one envelope each. */
const feedbackEnvelope = [
  JSON.stringify({ event_id: FEEDBACK_ID, sent_at: "2026-11-25T04:00:00.000Z" }),
  JSON.stringify({ type: "feedback" }),
  JSON.stringify({
    event_id: FEEDBACK_ID,
    type: "feedback",
    platform: "javascript",
    contexts: { feedback: { contact_email: "jane@example.com", name: "Jane", message: "Checkout fails; my colleague sam@example.com saw it too" } },
    user: { email: "jane@example.com" },
  }),
].join("\n");

const reportEnvelope = [
  JSON.stringify({ event_id: EVENT_ID }),
  JSON.stringify({ type: "event" }),
  JSON.stringify({ event_id: EVENT_ID, message: "crash for bob@example.com" }),
  JSON.stringify({ type: "user_report" }),
  JSON.stringify({ event_id: EVENT_ID, name: "Bob", email: "bob@example.com", comments: "it crashed, cc ann@example.com" }),
].join("\n");

/** The JSON payloads of one forwarded envelope, by item type. */
function items(call: UpstreamCall): Record<string, Record<string, unknown>> {
  const lines = call.text.split("\n");
  const out: Record<string, Record<string, unknown>> = {};
  for (let i = 1; i + 1 < lines.length; i += 2) out[(JSON.parse(lines[i]!) as { type: string }).type] = JSON.parse(lines[i + 1]!);
  return out;
}

/** The archived feedback envelope of a project, uncompressed. */
async function archivedFeedback(projectId: string): Promise<string> {
  const bucket = (env as { ARCHIVE: R2Bucket }).ARCHIVE;
  const listed = (await bucket.list({ prefix: `${projectId}/` })).objects.filter((o) => o.key.endsWith(`/${FEEDBACK_ID}.envelope`));
  expect(listed).toHaveLength(1);
  return new TextDecoder().decode(await readArchived((await bucket.get(listed[0]!.key))!));
}

describe("feedback and user-report e-mails through the pipeline", () => {
  it("keeps the typed address by default, upstream and in the archive; other addresses go", async () => {
    const p = project();
    expect((await p.send(feedbackEnvelope)).status).toBe(200);
    const feedback = items(upstream.calls[0]!).feedback as { contexts: { feedback: Record<string, string> }; user: Record<string, string> };
    expect(feedback.contexts.feedback).toEqual({ contact_email: "jane@example.com", name: "Jane", message: "Checkout fails; my colleague [email] saw it too" });
    expect(feedback.user).toEqual({ email: "[email]" });
    const archived = await archivedFeedback(p.id);
    expect(archived).toContain('"contact_email":"jane@example.com"');
    expect(archived).not.toContain("sam@example.com");

    const q = project();
    expect((await q.send(reportEnvelope)).status).toBe(200);
    const forwarded = items(upstream.calls[1]!);
    expect(forwarded.user_report).toEqual({ event_id: EVENT_ID, name: "Bob", email: "bob@example.com", comments: "it crashed, cc [email]" });
    expect(forwarded.event).toEqual({ event_id: EVENT_ID, message: "crash for [email]" });
  });

  it('scrubs it with feedbackEmail: "scrub"', async () => {
    const p = project({ feedbackEmail: "scrub" });
    expect((await p.send(feedbackEnvelope)).status).toBe(200);
    expect(await p.send(reportEnvelope).then((res) => res.status)).toBe(200);
    const texts = upstream.calls.map((call) => call.text).join("\n");
    for (const address of ["jane@example.com", "bob@example.com", "sam@example.com", "ann@example.com"]) expect(texts).not.toContain(address);
    expect((items(upstream.calls[0]!).feedback as { contexts: { feedback: Record<string, string> } }).contexts.feedback.contact_email).toBe("[email]");
    expect(items(upstream.calls[1]!).user_report!.email).toBe("[email]");
    expect(await archivedFeedback(p.id)).not.toContain("jane@example.com");
  });
});
