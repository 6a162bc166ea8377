import { describe, expect, it } from "vitest";
import { relayConfigSchema, type ScrubConfig } from "../../src/config/schema";
import { newItem } from "../../src/envelope/envelope";
import type { EnvelopeItem } from "../../src/envelope/types";
import { compileScrubber } from "../../src/scrub/compile";
import { NOT_SCRUBBED, scrubEnvelope } from "../../src/scrub/envelope";

const KEY = "0123456789abcdef0123456789abcdef";
const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function scrubber(scrub: Record<string, unknown> = {}) {
  const config = relayConfigSchema.parse({ projects: { "1": { keys: [KEY], archive: true, scrub } } });
  return compileScrubber(config.projects["1"]!.scrub as ScrubConfig);
}

function run(items: EnvelopeItem[], scrub: Record<string, unknown> = {}) {
  return scrubEnvelope({ header: {}, items }, scrubber(scrub));
}

const pii = JSON.stringify({ user: { email: "jane@example.com" }, extra: { password: "hunter2" }, note: "from 73.133.27.120" });

describe("scrubEnvelope: every JSON item unless exempt", () => {
  it("scrubs known JSON types that were passed before, and unknown types with JSON payloads", () => {
    for (const type of ["security", "raw_security", "nel", "profile", "profile_chunk", "otel_span", "otel_log", "otel_traces_data", "trace_metric", "metric_buckets", "x_custom"]) {
      const { envelope, outcomes } = run([newItem({ type }, pii)]);
      const text = dec(envelope.items[0]!.payload);
      expect([type, text]).toEqual([type, JSON.stringify({ user: { email: "[email]" }, extra: { password: "[Filtered]" }, note: "from [ip]" })]);
      expect(outcomes).toEqual([]);
    }
  });

  it("leaves each exempt type byte for byte, and gives a reason for each", () => {
    expect(Object.keys(NOT_SCRUBBED)).toEqual(["client_report"]);
    for (const reason of Object.values(NOT_SCRUBBED)) expect(reason.length).toBeGreaterThan(20);
    const report = newItem({ type: "client_report" }, ' { "discarded_events": [], "note": "73.133.27.120" } ');
    expect(run([report]).envelope.items[0]).toBe(report);
  });

  it("passes an unknown type whose payload is not JSON like an attachment: kept, or dropped when the project drops attachments", () => {
    const text = newItem({ type: "x_text" }, "plain text from jane@example.com");
    expect(run([text]).envelope.items[0]).toBe(text);
    expect(run([text], { attachments: "drop" })).toEqual({ envelope: { header: {}, items: [] }, outcomes: [] });
  });

  it("keeps replay recordings and statsd as they are, and drops crash archives with attachments", () => {
    const items = [newItem({ type: "replay_recording" }, "{bytes}"), newItem({ type: "statsd" }, "a:1|c"), newItem({ type: "unreal_report" }, "PK..")];
    const { envelope, outcomes } = run(items, { attachments: "drop" });
    expect(envelope.items).toEqual(items.slice(0, 2));
    expect(outcomes).toEqual([{ category: "error", quantity: 1, reason: "filtered", detail: "attachment_scrubbing" }]);
  });

  it("reads event-like items as $event and unknown types by paths only", () => {
    const rules = { defaults: false, scrubIpAddresses: false, rules: [{ selector: "$http.headers.x-secret", rule: "@anything:remove" }] };
    const payload = JSON.stringify({ request: { headers: { "x-secret": "s" } } });
    const { envelope } = run([newItem({ type: "security" }, payload), newItem({ type: "x_custom" }, payload)], rules);
    expect(JSON.parse(dec(envelope.items[0]!.payload))).toEqual({ request: { headers: { "x-secret": null } } });
    expect(dec(envelope.items[1]!.payload)).toBe(payload);
  });

  it("drops a JSON item it cannot read, too deep included, rather than forward it unscrubbed", () => {
    const deep = "[".repeat(200) + "]".repeat(200);
    const { envelope, outcomes } = run([newItem({ type: "otel_span" }, deep), newItem({ type: "x_custom" }, "{broken")]);
    expect(envelope.items).toEqual([]);
    expect(outcomes).toEqual([{ category: "span", quantity: 1, reason: "invalid", detail: "invalid_json" }]);
  });
});
