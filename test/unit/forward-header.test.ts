import { describe, expect, it } from "vitest";
import { headerForUpstream } from "../../src/forward/header";
import { upstreamTarget } from "../../src/forward/upstream";

const RELAY_KEY = "0123456789abcdef0123456789abcdef";
const target = upstreamTarget("https://abcdefabcdefabcdefabcdefabcdef00@o1.ingest.example.com/4501");

describe("headerForUpstream", () => {
  it("points dsn and the sampling context's public_key at the upstream project", () => {
    const header = {
      event_id: "x",
      dsn: `https://${RELAY_KEY}@relay.example.com/42`,
      trace: { trace_id: "t", public_key: RELAY_KEY, release: "r" },
    };
    expect(headerForUpstream(header, target, [RELAY_KEY])).toEqual({
      event_id: "x",
      dsn: "https://abcdefabcdefabcdefabcdefabcdef00@o1.ingest.example.com/4501",
      trace: { trace_id: "t", public_key: "abcdefabcdefabcdefabcdefabcdef00", release: "r" },
    });
  });

  it("returns the same header when nothing names the relay", () => {
    const header = { event_id: "x", trace: { trace_id: "t", public_key: "another-projects-key" } };
    expect(headerForUpstream(header, target, [RELAY_KEY])).toBe(header);
  });

  it("drops the password of a legacy upstream DSN", () => {
    expect(upstreamTarget("https://pub:secret@sentry.example.com/sentry/3")).toEqual({
      url: "https://sentry.example.com/sentry/api/3/envelope/",
      dsn: "https://pub@sentry.example.com/sentry/3",
      publicKey: "pub",
    });
  });
});
