import { describe, expect, it } from "vitest";
import { DEFAULT_BACKOFF, retryDelaySeconds } from "../../src/forward/backoff";
import { Breakers, breakerTiming, DEFAULT_TIMING, throughBreaker, type BreakerTiming } from "../../src/forward/breaker";
import type { UpstreamResult } from "../../src/forward/upstream";
import { relayConfigSchema } from "../../src/config/schema";

const timing: BreakerTiming = { failuresToOpen: 3, openMs: 10_000, probeMs: 5_000 };
const HOST = "up.example";
const answer = (status: number): UpstreamResult => ({ kind: "response", status, headers: new Headers(), body: "" });

/** A breaker for HOST that has just opened at t=0, so the next request at t=openMs is the probe. */
function opened(): Breakers {
  const b = new Breakers();
  for (let i = 0; i < timing.failuresToOpen; i++) b.record(HOST, answer(503), 0, timing);
  expect(b.isOpen(HOST, 0)).toBe(true);
  return b;
}

describe("the circuit breaker's probe", () => {
  const T = timing.openMs;

  it.each([
    ["a 2xx", answer(200)],
    ["a 202", answer(202)],
    ["a 429", answer(429)],
    ["a 400", answer(400)],
    ["a 401", answer(401)],
    ["a 413", answer(413)],
  ])("answered with %s closes the breaker: the host is up", async (_name, result) => {
    const b = opened();
    const sent: string[] = [];
    const outcome = await throughBreaker(b, HOST, T, timing, async () => (sent.push("probe"), result));
    expect(outcome).toBe(result);
    expect(b.isOpen(HOST, T)).toBe(false);
    expect(b.probing(HOST, T)).toBe(false);
    // Every later request goes straight through.
    for (let i = 0; i < 5; i++) expect(b.allow(HOST, T + 1, timing)).toBe(true);
    expect(sent).toEqual(["probe"]);
  });

  it.each([
    ["a 500", answer(500)],
    ["a 503", answer(503)],
    ["a timeout", { kind: "timeout" } as const],
    ["a network error", { kind: "network", message: "connection refused" } as const],
  ])("answered with %s reopens the breaker for another pause, then probes again", async (_name, result) => {
    const b = opened();
    await throughBreaker(b, HOST, T, timing, async () => result);
    expect(b.probing(HOST, T)).toBe(false);
    expect(b.allow(HOST, T + 1, timing)).toBe(false);
    expect(b.allow(HOST, T + timing.openMs - 1, timing)).toBe(false);
    expect(b.allow(HOST, T + timing.openMs, timing)).toBe(true);
  });

  it("holds the host while it is out: one probe at a time", () => {
    const b = opened();
    expect(b.allow(HOST, T, timing)).toBe(true);
    expect(b.probing(HOST, T)).toBe(true);
    expect(b.allow(HOST, T + 1, timing)).toBe(false);
    expect(b.allow(HOST, T + timing.probeMs - 1, timing)).toBe(false);
  });

  it("that throws releases the host at once, and counts as no failure", async () => {
    const b = opened();
    await expect(throughBreaker(b, HOST, T, timing, async () => {
      throw new Error("boom in the relay");
    })).rejects.toThrow("boom in the relay");
    expect(b.probing(HOST, T)).toBe(false);
    expect(b.allow(HOST, T, timing)).toBe(true);
  });

  it("that never reports back expires: after probeMs the next request probes", () => {
    const b = opened();
    expect(b.allow(HOST, T, timing)).toBe(true);
    // Nothing recorded: the invocation that held the probe was cancelled.
    expect(b.allow(HOST, T + timing.probeMs - 1, timing)).toBe(false);
    expect(b.allow(HOST, T + timing.probeMs, timing)).toBe(true);
    b.record(HOST, answer(429), T + timing.probeMs, timing);
    expect(b.allow(HOST, T + timing.probeMs, timing)).toBe(true);
    expect(b.isOpen(HOST, T + timing.probeMs)).toBe(false);
  });

  it("is never sent while the breaker is open", async () => {
    const b = opened();
    let calls = 0;
    const outcome = await throughBreaker(b, HOST, 1, timing, async () => (calls++, answer(200)));
    expect(outcome).toEqual({ kind: "breaker-open" });
    expect(calls).toBe(0);
  });
});

describe("the breaker while closed", () => {
  it("thrown errors never open it: content that makes the relay throw cannot stop delivery", async () => {
    const b = new Breakers();
    for (let i = 0; i < 20; i++) {
      await expect(throughBreaker(b, HOST, i, timing, async () => {
        throw new Error("bad envelope");
      })).rejects.toThrow();
    }
    expect(b.isOpen(HOST, 20)).toBe(false);
  });

  it("4xx answers reset the failure count: only failures in a row open it", () => {
    const b = new Breakers();
    for (let i = 0; i < 10; i++) {
      b.record(HOST, answer(502), i, timing);
      b.record(HOST, answer(429), i, timing);
    }
    expect(b.isOpen(HOST, 10)).toBe(false);
  });
});

describe("delivery settings", () => {
  it("default to a 5-failure, 30 s breaker and 2 s backoff, and can be shortened", () => {
    const config = relayConfigSchema.parse({ projects: {} });
    expect(config.delivery).toEqual({ breakerFailures: 5, breakerOpenMs: 30_000, retryBaseSeconds: 2, retryMaxSeconds: 900 });
    expect(breakerTiming(config.delivery, config.upstreamTimeoutMs)).toEqual(DEFAULT_TIMING);
    const short = relayConfigSchema.parse({ projects: {}, upstreamTimeoutMs: 2000, delivery: { breakerOpenMs: 1500, retryBaseSeconds: 1, retryMaxSeconds: 3 } });
    expect(breakerTiming(short.delivery, short.upstreamTimeoutMs)).toEqual({ failuresToOpen: 5, openMs: 1500, probeMs: 7000 });
    const backoff = { baseSeconds: 1, maxSeconds: 3 };
    expect([1, 2, 3, 10].map((attempt) => retryDelaySeconds(attempt, undefined, () => 1, backoff))).toEqual([1, 2, 3, 3]);
    expect(retryDelaySeconds(10, undefined, () => 1, DEFAULT_BACKOFF)).toBe(900);
  });
});
