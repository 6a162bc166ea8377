import { describe, expect, it } from "vitest";
import { MAX_DELAY_SECONDS, parseRetryAfter, retryDelaySeconds } from "../../src/forward/backoff";
import { Breakers, FAILURES_TO_OPEN, OPEN_MS } from "../../src/forward/breaker";

describe("retry backoff", () => {
  it("grows exponentially with full jitter and a cap", () => {
    expect(retryDelaySeconds(1, undefined, () => 1)).toBe(2);
    expect(retryDelaySeconds(2, undefined, () => 1)).toBe(4);
    expect(retryDelaySeconds(5, undefined, () => 1)).toBe(32);
    expect(retryDelaySeconds(30, undefined, () => 1)).toBe(MAX_DELAY_SECONDS);
    expect(retryDelaySeconds(5, undefined, () => 0.5)).toBe(16);
    expect(retryDelaySeconds(5, undefined, () => 0)).toBe(1);
  });
  it("never retries sooner than the upstream's Retry-After", () => {
    expect(retryDelaySeconds(1, 120, () => 0.1)).toBe(120);
    expect(retryDelaySeconds(1, 7200, () => 0.1)).toBe(MAX_DELAY_SECONDS);
  });
  it("reads Retry-After as seconds or an HTTP date", () => {
    const now = Date.parse("2026-11-23T08:00:00Z");
    expect(parseRetryAfter("30", now)).toBe(30);
    expect(parseRetryAfter("Mon, 23 Nov 2026 08:01:00 GMT", now)).toBe(60);
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
  });
});

describe("circuit breaker", () => {
  it("opens after repeated failures, lets one probe through after the pause, closes on success", () => {
    const b = new Breakers();
    const now = 1_000_000;
    for (let i = 0; i < FAILURES_TO_OPEN - 1; i++) b.failure("up.example", now);
    expect(b.allow("up.example", now)).toBe(true);
    b.failure("up.example", now);
    expect(b.allow("up.example", now)).toBe(false);
    expect(b.allow("up.example", now + OPEN_MS - 1)).toBe(false);
    expect(b.allow("up.example", now + OPEN_MS)).toBe(true);
    expect(b.allow("up.example", now + OPEN_MS)).toBe(false); // one probe at a time
    b.success("up.example");
    expect(b.allow("up.example", now + OPEN_MS)).toBe(true);
    expect(b.allow("other.example", now)).toBe(true);
  });
  it("reopens when the probe fails", () => {
    const b = new Breakers();
    for (let i = 0; i < FAILURES_TO_OPEN; i++) b.failure("h", 0);
    expect(b.allow("h", OPEN_MS)).toBe(true);
    b.failure("h", OPEN_MS);
    expect(b.allow("h", OPEN_MS + 1)).toBe(false);
  });
});
