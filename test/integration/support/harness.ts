import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { vi } from "vitest";
import worker from "../../../src/index";
import type { Env } from "../../../src/env";
import type { SpoolMessage } from "../../../src/forward/spool";

/**
 * A recording stand-in for the SPOOL queue: tests see what was spooled and
 * feed it to the Worker's own queue() handler when they choose, instead of a
 * real consumer delivering it in the middle of another test.
 */
export class FakeQueue {
  messages: Array<{ id: string; body: SpoolMessage; attempts: number }> = [];
  private next = 0;
  async send(body: SpoolMessage): Promise<void> {
    this.messages.push({ id: `m${++this.next}`, body: structuredClone(body), attempts: 1 });
  }
  async sendBatch(batch: Iterable<{ body: SpoolMessage }>): Promise<void> {
    for (const message of batch) await this.send(message.body);
  }
  clear(): void {
    this.messages = [];
  }
}

export const spool = new FakeQueue();

/**
 * Runs one batch of the spool through the Worker's queue() handler: acked
 * messages leave, retried ones stay with one more attempt. Returns the
 * requested delays.
 */
export async function drainSpoolOnce(config: string = testConfig(), queueName = "edge-relay-spool", overrides: Partial<Env> = {}): Promise<{ acked: number; retried: Array<{ id: string; delaySeconds?: number }> }> {
  const taken = spool.messages;
  spool.messages = [];
  if (taken.length === 0) return { acked: 0, retried: [] };
  // A MessageBatch of our own, so every ack and every retry delay is observable.
  const decisions = new Map<string, { delaySeconds?: number } | "ack">();
  const batch = {
    queue: queueName,
    messages: taken.map((m) => ({
      id: m.id,
      timestamp: new Date(),
      attempts: m.attempts,
      body: m.body,
      ack: () => void decisions.set(m.id, "ack"),
      retry: (options?: QueueRetryOptions) => void decisions.set(m.id, { delaySeconds: options?.delaySeconds }),
    })),
    ackAll: () => taken.forEach((m) => decisions.set(m.id, "ack")),
    retryAll: (options?: QueueRetryOptions) => taken.forEach((m) => decisions.set(m.id, { delaySeconds: options?.delaySeconds })),
  } as unknown as MessageBatch<SpoolMessage>;
  const ctx = createExecutionContext();
  await worker.queue!(batch, { ...(env as Env), RELAY_CONFIG: config, SPOOL: spool as unknown as Queue<SpoolMessage>, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  // Anything neither acked nor retried is retried by the queue, as Cloudflare does.
  const retried = taken
    .filter((m) => decisions.get(m.id) !== "ack")
    .map((m) => ({ id: m.id, delaySeconds: (decisions.get(m.id) as { delaySeconds?: number } | undefined)?.delaySeconds }));
  for (const retry of retried) {
    const message = taken.find((m) => m.id === retry.id)!;
    spool.messages.push({ ...message, attempts: message.attempts + 1 });
  }
  return { acked: taken.length - retried.length, retried };
}

export const KEY = "0123456789abcdef0123456789abcdef";
export const KEY2 = "11111111111111111111111111111111";
export const OTHER_KEY = "fedcba9876543210fedcba9876543210";
export const UPSTREAM_KEY = "abcdefabcdefabcdefabcdefabcdef00";
export const UPSTREAM_DSN = `https://${UPSTREAM_KEY}@upstream.example.com/4501`;

/** Projects: 42 forwards upstream, 43 only archives, 44 does both, 45 is for upstream rate limits (cached per isolate). */
export function testConfig(extra: Record<string, unknown> = {}, projectExtra: Record<string, unknown> = {}) {
  return JSON.stringify({
    projects: {
      "42": { keys: [KEY, KEY2], upstream: UPSTREAM_DSN, allowedOrigins: ["https://app.example.com"], ...projectExtra },
      "43": { keys: [KEY], archive: true },
      "44": { keys: [KEY], upstream: UPSTREAM_DSN, archive: true },
      "45": { keys: [KEY], upstream: UPSTREAM_DSN },
    },
    ...extra,
  });
}

/** Sends a request through the real worker entry, with a chosen config. */
export async function relay(request: Request, config: string = testConfig(), overrides: Partial<Env> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const testEnv: Env = { ...(env as Env), RELAY_CONFIG: config, SPOOL: spool as unknown as Queue<SpoolMessage>, ...overrides };
  const response = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, testEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export interface UpstreamCall {
  /** Set by a test's responder when it wants to know what the upstream answered. */
  status?: number;
  url: string;
  headers: Headers;
  /** The body as sent on the wire. */
  wire: Uint8Array;
  /** The body after undoing Content-Encoding. */
  body: Uint8Array;
  text: string;
}

type Responder = (call: UpstreamCall, signal: AbortSignal | undefined) => Response | Promise<Response>;

/**
 * Replaces the isolate's global fetch (the worker runs in the test's isolate)
 * with a recording fake upstream.
 */
export function fakeUpstream(responder: Responder = () => Response.json({ id: "upstream" })) {
  const calls: UpstreamCall[] = [];
  let respond = responder;
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input as RequestInfo, init as RequestInit);
    const wire = new Uint8Array(await request.arrayBuffer());
    const encoding = request.headers.get("content-encoding");
    const body = encoding ? await decompress(wire, encoding as "gzip") : wire;
    const call = { url: request.url, headers: request.headers, wire, body, text: new TextDecoder().decode(body) };
    calls.push(call);
    return respond(call, init?.signal ?? undefined);
  });
  return {
    calls,
    respondWith(next: Responder) {
      respond = next;
    },
    restore: () => spy.mockRestore(),
  };
}

async function decompress(bytes: Uint8Array, format: "gzip" | "deflate" | "deflate-raw"): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream(format));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export async function compress(bytes: Uint8Array | string, format: "gzip" | "deflate" | "deflate-raw"): Promise<Uint8Array> {
  const input = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  const stream = new Blob([input]).stream().pipeThrough(new CompressionStream(format));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export const EVENT_ID = "9ec79c33ec9942ab8353589fcb2e04dc";

/** A JS-SDK-style envelope: no trailing newline, no `length`. */
export function errorEnvelope(options: { dsn?: string; eventId?: string; message?: string } = {}): string {
  const header: Record<string, unknown> = { event_id: options.eventId ?? EVENT_ID, sent_at: "2026-11-23T08:00:00.000Z" };
  if (options.dsn) header.dsn = options.dsn;
  const event = {
    event_id: options.eventId ?? EVENT_ID,
    level: "error",
    exception: { values: [{ type: "TypeError", value: options.message ?? "x is undefined" }] },
  };
  return `${JSON.stringify(header)}\n{"type":"event"}\n${JSON.stringify(event)}`;
}

export function post(path: string, body: BodyInit, headers: Record<string, string> = {}): Request {
  return new Request(`http://relay.test${path}`, { method: "POST", body, headers });
}

export function sentryAuth(key: string = KEY): Record<string, string> {
  return { "x-sentry-auth": `Sentry sentry_version=7, sentry_key=${key}, sentry_client=sentry.javascript.node/11.12.0` };
}
