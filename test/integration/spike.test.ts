import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KEY, UPSTREAM_DSN, fakeUpstream, post, relay, sentryAuth, type UpstreamCall } from "./support/harness";

let upstream: ReturnType<typeof fakeUpstream>;
beforeEach(() => {
  upstream = fakeUpstream();
});
afterEach(() => upstream.restore());

let nextProject = 500;
function project(settings: Record<string, unknown>) {
  const id = String(nextProject++);
  const config = JSON.stringify({ projects: { [id]: { keys: [KEY], upstream: UPSTREAM_DSN, ...settings } } });
  return (body: string) => relay(post(`/api/${id}/envelope/`, body, sentryAuth()), config);
}

let counter = 0;
/** An error event; `bug` picks the fingerprint, `trace` the trace id. */
function errorEvent(bug: string, trace?: string): string {
  const id = (++counter).toString(16).padStart(32, "0");
  const event = {
    event_id: id,
    exception: { values: [{ type: "TypeError", value: `${bug} is undefined (attempt ${counter})`, stacktrace: { frames: [{ function: bug, filename: "/srv/app.js", lineno: counter % 50, in_app: true }] } }] },
    ...(trace ? { contexts: { trace: { trace_id: trace, span_id: "a".repeat(16) } } } : {}),
  };
  return `{"event_id":"${id}"}\n{"type":"event"}\n${JSON.stringify(event)}`;
}

function items(call: UpstreamCall): Array<{ type: string; payload: any }> {
  const lines = call.text.trimEnd().split("\n");
  const out = [];
  for (let i = 1; i + 1 < lines.length; i += 2) out.push({ type: JSON.parse(lines[i]!).type, payload: JSON.parse(lines[i + 1]!) });
  return out;
}

const eventsAtUpstream = () => upstream.calls.flatMap(items).filter((i) => i.type === "event").map((i) => i.payload);
const reported = (field: string, reason: string) =>
  upstream.calls.flatMap(items).filter((i) => i.type === "client_report")
    .flatMap((i) => (i.payload[field] ?? []) as Array<{ reason: string; category: string; quantity: number }>)
    .filter((e) => e.reason === reason)
    .reduce((n, e) => n + e.quantity, 0);
const randomHex = (n: number) => Array.from(crypto.getRandomValues(new Uint8Array(n / 2)), (b) => b.toString(16).padStart(2, "0")).join("");

describe("spike protection", () => {
  it("keeps perFingerprint payloads of a 10,000-event burst, reports the rest exactly, and lets a new bug through", { timeout: 120_000 }, async () => {
    const send = project({ spike: { perFingerprint: 100, window: 60 } });
    let newBugAt = -1;
    for (let i = 0; i < 10_000; i++) {
      const res = await send(errorEvent("hotBug"));
      expect(res.status).toBe(200);
      if (i === 5_000) {
        newBugAt = upstream.calls.length;
        expect((await send(errorEvent("rareBug"))).status).toBe(200);
      }
    }
    // One more forwarded envelope carries the counts still pending.
    expect((await send(errorEvent("lastBug"))).status).toBe(200);

    const events = eventsAtUpstream();
    const hot = events.filter((e) => e.exception.values[0].value.startsWith("hotBug"));
    expect(hot.length).toBeLessThanOrEqual(100);
    expect(hot.length).toBeGreaterThan(90);
    expect(events.some((e) => e.exception.values[0].value.startsWith("rareBug"))).toBe(true);
    expect(upstream.calls.length).toBeGreaterThan(newBugAt);
    expect(reported("rate_limited_events", "spike_protection")).toBe(10_000 - hot.length);
  });
});

describe("sampling", () => {
  it("keeps about the configured share of errors", { timeout: 60_000 }, async () => {
    const send = project({ sampling: { error: 0.1, keepNewFingerprints: false } });
    for (let i = 0; i < 2_000; i++) expect((await send(errorEvent("sampledBug", randomHex(32)))).status).toBe(200);
    // Trace 000… is kept at any rate above 0, so this envelope carries the pending counts.
    await send(errorEvent("flush", "0".repeat(32)));
    const kept = eventsAtUpstream().filter((e) => e.exception.values[0].value.startsWith("sampledBug")).length;
    // 2,000 × 0.1 = 200, σ ≈ 13.4: ±45 is beyond 3σ.
    expect(kept).toBeGreaterThanOrEqual(155);
    expect(kept).toBeLessThanOrEqual(245);
    expect(reported("filtered_sampling_events", "edge_sampling")).toBe(2_000 - kept);
  });

  it("keeps or drops a trace whole", async () => {
    const send = project({ sampling: { error: 0.3, keepNewFingerprints: false } });
    const traces = Array.from({ length: 60 }, () => randomHex(32));
    for (const trace of traces) for (let i = 0; i < 4; i++) await send(errorEvent(`trace${i}`, trace));
    const keptPerTrace = new Map<string, number>();
    for (const event of eventsAtUpstream()) {
      const trace = event.contexts.trace.trace_id;
      keptPerTrace.set(trace, (keptPerTrace.get(trace) ?? 0) + 1);
    }
    expect([...keptPerTrace.values()].every((n) => n === 4)).toBe(true);
    expect(keptPerTrace.size).toBeGreaterThan(0);
    expect(keptPerTrace.size).toBeLessThan(60);
  });

  it("never hides a new fingerprint: its first event in a window is kept at any rate", async () => {
    const send = project({ sampling: { error: 0, keepNewFingerprints: true } });
    for (let bug = 0; bug < 30; bug++) for (let i = 0; i < 3; i++) await send(errorEvent(`bug${bug}`));
    const kept = eventsAtUpstream();
    expect(kept).toHaveLength(30);
    expect(new Set(kept.map((e) => e.exception.values[0].stacktrace.frames[0].function)).size).toBe(30);
  });
});

describe("client reports", () => {
  it("go upstream alone when a project's events have all been dropped for a minute", async () => {
    const { env } = await import("cloudflare:workers");
    const { parseConfig } = await import("../../src/config/load");
    const { runPipeline } = await import("../../src/pipeline");
    const { parseEnvelope } = await import("../../src/envelope/parse");
    const parsed = parseConfig(JSON.stringify({ projects: { "600": { keys: [KEY], upstream: UPSTREAM_DSN, filters: { errorMessages: ["*noise*"] } } } }));
    if (!parsed.ok) throw new Error(parsed.error);
    const noise = () => parseEnvelope(new TextEncoder().encode(`{}\n{"type":"event"}\n{"message":"noise ${Math.random()}"}`));
    // No ledger: its flush would be one more `waitUntil` than the report this test counts.
    const base = { config: parsed.config, env: { ...env, LEDGER: undefined } as never, projectId: "600", project: parsed.config.projects["600"]!, publicKey: KEY };
    const later: Promise<unknown>[] = [];

    await runPipeline(noise(), { ...base, now: new Date(), waitUntil: (p) => later.push(p) });
    expect(later).toHaveLength(0);
    await runPipeline(noise(), { ...base, now: new Date(Date.now() + 61_000), waitUntil: (p) => later.push(p) });
    expect(later).toHaveLength(1);
    await Promise.all(later);

    expect(upstream.calls).toHaveLength(1);
    const report = items(upstream.calls[0]!);
    expect(report).toEqual([{ type: "client_report", payload: expect.objectContaining({ filtered_events: [{ reason: "error-message", category: "error", quantity: 2 }] }) }]);
  });
});

describe("project spike mode", () => {
  it("tightens sampling while the project runs far above its baseline", { timeout: 60_000 }, async () => {
    const send = project({ spike: { perFingerprint: 100_000, projectFactor: 3, projectMinimum: 40, projectSampleRate: 0.1 }, sampling: { keepNewFingerprints: false } });
    for (let i = 0; i < 400; i++) expect((await send(errorEvent("steadyBug", randomHex(32)))).status).toBe(200);
    await send(errorEvent("flush", "0".repeat(32)));
    const kept = eventsAtUpstream().filter((e) => e.exception.values[0].value.startsWith("steadyBug")).length;
    // About the first 40 go through whole; the other ~360 at 10%.
    expect(kept).toBeGreaterThan(40);
    expect(kept).toBeLessThan(140);
    expect(reported("filtered_sampling_events", "project_spike")).toBe(400 - kept);
  });
});
