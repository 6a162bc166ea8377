import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load";

const KEY = "0123456789abcdef0123456789abcdef";
const doc = (projects: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({ projects, ...extra });

describe("parseConfig", () => {
  it("accepts the demo config and fills defaults", () => {
    const result = parseConfig(doc({ "1": { keys: [KEY], archive: true } }));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.tunnelPath).toBe("/tunnel");
    expect(result.config.limits).toEqual({
      maxCompressedBytes: 100 * 1024 * 1024,
      maxDecompressedBytes: 100 * 1024 * 1024,
      maxBufferedBytes: 16 * 1024 * 1024,
      streamItemBytes: 256 * 1024,
      maxEventBytes: 1024 * 1024,
      maxAttachmentBytes: 200 * 1024 * 1024,
      maxAttachmentsBytes: 200 * 1024 * 1024,
      maxClientReportBytes: 100 * 1024,
      maxCheckInBytes: 100 * 1024,
      maxSessionsBytes: 10 * 1024 * 1024,
      maxSessionCount: 100,
      maxProfileBytes: 50 * 1024 * 1024,
      maxLogBytes: 2 * 1024 * 1024,
      maxSpanBytes: 10 * 1024 * 1024,
      maxTraceMetricBytes: 1024 * 1024,
      maxContainerBytes: 12 * 1024 * 1024,
      maxStatsdBytes: 1024 * 1024,
      maxMetricBucketsBytes: 1024 * 1024,
      maxReplayCompressedBytes: 10 * 1024 * 1024,
      quotaTimeoutMs: 1000,
      quotaLeases: true,
      anonymousReportsPerMinute: 60,
      maxSecurityReports: 100,
      leaseBookKeys: 10_000,
      maxFingerprints: 10_000,
    });
    expect(result.config.projects["1"]!.allowedOrigins).toEqual(["*"]);
  });

  it("accepts the design notes' full example, whose later sections are ignored for now", () => {
    const result = parseConfig(doc({
      "42": {
        keys: [KEY],
        upstream: "https://upstreamkey@o1.ingest.example.com/4501",
        archive: true,
        allowedOrigins: ["https://app.example.com"],
        quotas: [{ id: "errors-minute", categories: ["error"], scope: "project", window: 60, limit: 1000 }],
      },
    }));
    expect(result.ok).toBe(true);
  });

  it.each([
    [undefined, "the variable is not set"],
    ["", "the variable is not set"],
    ["{not json", "not JSON"],
    [doc({ "1": { keys: ["nothex"], archive: true } }), "projects.1.keys.0: a DSN public key is 32 lowercase hex characters"],
    [doc({ "1": { keys: [], archive: true } }), "projects.1.keys: a project needs at least one public key"],
    [doc({ "1": { keys: [KEY] } }), 'projects.1: a project needs a destination'],
    [doc({ "1": { keys: [KEY], upstream: "ftp://k@h/1" } }), "projects.1.upstream: a DSN uses http or https"],
    [doc({ "1": { keys: [KEY], upstream: "https://h/1" } }), "projects.1.upstream: a DSN names its public key"],
    [doc({ "1": { keys: [KEY], upstream: "https://k@h/abc" } }), "projects.1.upstream: a DSN ends with a numeric project id"],
    [doc({ "1": { keys: [KEY], archive: "yes" } }), "projects.1.archive"],
    [doc({ abc: { keys: [KEY], archive: true } }), "projects.abc: project ids are numeric"],
    [doc({ "1": { keys: [KEY], archive: true, allowedOrigins: ["example.com/x"] } }), "projects.1.allowedOrigins.0"],
    [doc({ "1": { keys: [KEY], archive: true } }, { limits: { maxEventBytes: -1 } }), "limits.maxEventBytes"],
    [doc({ "1": { keys: [KEY], archive: true } }, { tunnelPath: "tunnel" }), "tunnelPath: tunnelPath is an absolute URL path"],
    [JSON.stringify({}), "projects"],
  ])("rejects %s naming the failing field", (text, message) => {
    const result = parseConfig(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatch(/^invalid RELAY_CONFIG: /);
    expect(result.error).toContain(message);
  });
});
