import { createHash } from "node:crypto";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseEnvelope } from "../../src/envelope/parse";
import type { Env } from "../../src/env";
import { readArchived } from "../../src/forward/archive";
import { putStream } from "../../src/forward/r2-stream";
import { KEY, OTHER_KEY, drainSpoolOnce, fakeUpstream, post, relay, sentryAuth, spool, type UpstreamCall } from "./support/harness";

const MiB = 1024 * 1024;
const bucket = () => (env as Env).ARCHIVE!;

let upstream: ReturnType<typeof fakeUpstream>;
beforeEach(() => {
  upstream = fakeUpstream();
  spool.clear();
});
afterEach(() => upstream.restore());

/**
 * Projects that hold at most 1 MiB of a request: any attachment that got
 * through must have been streamed. Each test has its own project id and
 * upstream host (isolate state such as breakers outlives a test).
 */
let nextProject = 7100;
function project(settings: Record<string, unknown> = {}, limits: Record<string, unknown> = {}) {
  const id = String(nextProject++);
  const config = JSON.stringify({
    projects: { [id]: { keys: [KEY], upstream: `https://${"ab".repeat(16)}@stream-${id}.example.com/4501`, ...settings } },
    limits: { maxBufferedBytes: MiB, streamItemBytes: 64 * 1024, ...limits },
  });
  return { id, config };
}

/** An event and a large attachment of pseudo-random bytes, generated as it is sent; `sha256` is the attachment's. */
function largeEnvelope(size: number, options: { eventId?: string; dsn?: string; truncateAt?: number } = {}) {
  const eventId = options.eventId ?? crypto.randomUUID().replace(/-/g, "");
  const header = JSON.stringify({ event_id: eventId, ...(options.dsn ? { dsn: options.dsn } : {}) });
  const head = new TextEncoder().encode(
    `${header}\n{"type":"event"}\n{"event_id":"${eventId}","message":"with a dump"}\n{"type":"attachment","length":${size},"filename":"core.dmp","attachment_type":"event.minidump"}\n`,
  );
  const hash = createHash("sha256");
  const limit = options.truncateAt ?? size;
  let sent = 0;
  let headSent = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!headSent) {
        headSent = true;
        controller.enqueue(head);
        return;
      }
      if (sent >= limit) {
        if (options.truncateAt === undefined) controller.enqueue(new TextEncoder().encode("\n"));
        controller.close();
        return;
      }
      const chunk = new Uint8Array(Math.min(64 * 1024, limit - sent));
      crypto.getRandomValues(chunk);
      hash.update(chunk);
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  let digest: string | undefined;
  return { eventId, stream, sha256: () => (digest ??= hash.digest("hex")) };
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** What the upstream got: item types and the attachment's hash. */
function received(call: UpstreamCall) {
  const envelope = parseEnvelope(call.body);
  const attachment = envelope.items.find((i) => i.header.type === "attachment");
  return {
    types: envelope.items.map((i) => i.header.type),
    attachment: attachment && { length: attachment.payload.byteLength, sha256: sha256(attachment.payload) },
  };
}

const staged = async (projectId: string) => (await bucket().list({ prefix: `staging/${projectId}/` })).objects.length;

describe("bounded memory: large attachments are streamed through", () => {
  it("takes a 24 MiB attachment while holding at most 1 MiB, to the upstream and the gzipped archive, byte for byte", async () => {
    const p = project({ archive: true });
    const sent = largeEnvelope(24 * MiB);
    const response = await relay(post(`/api/${p.id}/envelope/`, sent.stream, sentryAuth()), p.config);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: sent.eventId });

    expect(upstream.calls).toHaveLength(1);
    expect(upstream.calls[0]!.headers.get("content-encoding")).toBe("gzip");
    expect(received(upstream.calls[0]!)).toEqual({ types: ["event", "attachment"], attachment: { length: 24 * MiB, sha256: sent.sha256() } });

    const listed = await bucket().list({ prefix: `${p.id}/`, include: ["customMetadata", "httpMetadata"] });
    expect(listed.objects).toHaveLength(1);
    const object = (await bucket().get(listed.objects[0]!.key))!;
    expect(object.httpMetadata?.contentEncoding).toBe("gzip");
    expect(object.customMetadata).toMatchObject({ project: p.id, categories: "error,attachment" });
    const archived = await readArchived(object);
    expect(Number(object.customMetadata!.size)).toBe(archived.byteLength);
    expect(sha256(parseEnvelope(archived).items[1]!.payload)).toBe(sent.sha256());
    // Staged payloads live only as long as the request.
    expect(await staged(p.id)).toBe(0);
  });

  it("refuses the same envelope with 413 when attachments are not streamed, which is what the 1 MiB cap means", async () => {
    const p = project({}, { streamItemBytes: 64 * MiB });
    const response = await relay(post(`/api/${p.id}/envelope/`, largeEnvelope(4 * MiB).stream, sentryAuth()), p.config);
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ detail: expect.stringContaining("maxBufferedBytes") });
    expect(upstream.calls).toHaveLength(0);
  });

  it("streams a gzipped request body through the decompressor as it arrives", async () => {
    const p = project();
    const sent = largeEnvelope(6 * MiB);
    const body = sent.stream.pipeThrough(new CompressionStream("gzip"));
    const response = await relay(post(`/api/${p.id}/envelope/`, body, { ...sentryAuth(), "content-encoding": "gzip" }), p.config);
    expect(response.status).toBe(200);
    expect(received(upstream.calls[0]!).attachment).toEqual({ length: 6 * MiB, sha256: sent.sha256() });
  });

  it("stops a streamed body at maxDecompressedBytes with 413, and deletes what it staged", async () => {
    const p = project({}, { maxDecompressedBytes: 3 * MiB });
    const response = await relay(post(`/api/${p.id}/envelope/`, largeEnvelope(4 * MiB).stream, sentryAuth()), p.config);
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ detail: `body exceeds ${3 * MiB} bytes` });
    expect(await staged(p.id)).toBe(0);
  });

  it("answers 400 for an attachment cut short, naming it, and deletes what it staged", async () => {
    const p = project();
    const sent = largeEnvelope(2 * MiB, { truncateAt: MiB });
    const response = await relay(post(`/api/${p.id}/envelope/`, sent.stream, sentryAuth()), p.config);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ detail: `invalid envelope: item 1: length ${2 * MiB} exceeds the remaining ${MiB} bytes` });
    expect(upstream.calls).toHaveLength(0);
    expect(await staged(p.id)).toBe(0);
  });

  it("writes nothing to R2 for a sender the envelope header does not authenticate", async () => {
    const p = project();
    const before = (await bucket().list({ prefix: "staging/" })).objects.length;
    const sent = largeEnvelope(2 * MiB, { dsn: `https://${OTHER_KEY}@relay.test/${p.id}` });
    const response = await relay(post("/tunnel", sent.stream), p.config);
    expect(response.status).toBe(401);
    expect((await bucket().list({ prefix: "staging/" })).objects.length).toBe(before);
  });

  it("counts a streamed attachment's bytes against an attachment quota, and drops it alone when over", async () => {
    const p = project({ quotas: [{ id: "dumps", categories: ["attachment"], scope: "project", window: 60, limit: MiB }] });
    const sent = largeEnvelope(2 * MiB);
    const response = await relay(post(`/api/${p.id}/envelope/`, sent.stream, sentryAuth()), p.config);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-sentry-rate-limits")).toMatch(/^\d+:attachment:project:quota_exceeded$/);
    const got = received(upstream.calls[0]!);
    expect(got.types[0]).toBe("event");
    expect(got.types).not.toContain("attachment");
    expect(got.attachment).toBeUndefined();
    expect(await staged(p.id)).toBe(0);
  });

  it("reads an event over maxEventBytes to nowhere: dropped as too_large, the rest delivered, never held", async () => {
    const p = project();
    const big = `{"message":"${"x".repeat(3 * MiB)}"}`;
    const session = '{"sid":"7d3a0c9e-2b4f-4e61-9a8d-5c1f0e2b3a4d","status":"ok","init":true,"started":"2026-11-23T08:00:00Z","attrs":{"release":"r@1"}}';
    const body = `{}\n{"type":"event","length":${big.length}}\n${big}\n{"type":"session"}\n${session}`;
    const response = await relay(post(`/api/${p.id}/envelope/`, body, sentryAuth()), p.config);
    expect(response.status).toBe(200);
    expect(received(upstream.calls[0]!).types).toEqual(["session", "client_report"]);
    expect(upstream.calls[0]!.text).toContain('"reason":"too_large","category":"error","quantity":1');

    const alone = await relay(post(`/api/${p.id}/envelope/`, `{}\n{"type":"event","length":${big.length}}\n${big}`, sentryAuth()), p.config);
    expect(alone.status).toBe(413);
    expect(await alone.json()).toEqual({ detail: "every item in the envelope was invalid (too_large)" });
  });

  it("spools a streamed envelope the upstream could not take into R2 and delivers it whole from there", async () => {
    const p = project();
    upstream.respondWith((call) => ((call.status = 503), new Response("down", { status: 503 })));
    const sent = largeEnvelope(3 * MiB);
    expect((await relay(post(`/api/${p.id}/envelope/`, sent.stream, sentryAuth()), p.config)).status).toBe(200);
    expect(spool.messages).toHaveLength(1);
    const message = spool.messages[0]!.body;
    expect(message.body).toBeUndefined();
    expect(message.r2Key).toBe(`spool/${p.id}/${sent.eventId}.envelope`);
    expect(message.quantities).toEqual([{ category: "error", quantity: 1 }, { category: "attachment", quantity: 3 * MiB }]);
    expect(await staged(p.id)).toBe(0);

    upstream.respondWith((call) => ((call.status = 200), Response.json({ id: sent.eventId })));
    expect(await drainSpoolOnce(p.config)).toEqual({ acked: 1, retried: [] });
    const delivered = upstream.calls.filter((c) => c.status === 200);
    expect(delivered).toHaveLength(1);
    expect(received(delivered[0]!).attachment).toEqual({ length: 3 * MiB, sha256: sent.sha256() });
    expect(await bucket().head(message.r2Key!)).toBeNull();
  });

  it("keeps a streamed dead letter whole in R2, and replays a large archive from R2 to a new upstream", async () => {
    const p = project({ archive: true });
    upstream.respondWith((call) => ((call.status = 500), new Response("down", { status: 500 })));
    const sent = largeEnvelope(2 * MiB);
    expect((await relay(post(`/api/${p.id}/envelope/`, sent.stream, sentryAuth()), p.config)).status).toBe(200);
    const hash = sent.sha256();
    await drainSpoolOnce(p.config, "edge-relay-dlq");
    const dead = (await bucket().list({ prefix: `dead-letter/${p.id}/` })).objects;
    expect(dead).toHaveLength(1);
    const kept = new Uint8Array(await (await bucket().get(dead[0]!.key))!.arrayBuffer());
    expect(await bucket().list({ prefix: `spool/${p.id}/` })).toMatchObject({ objects: [] });
    expect(sha256(parseEnvelope(kept).items[1]!.payload)).toBe(hash);

    upstream.respondWith((call) => ((call.status = 200), Response.json({})));
    const now = new Date().toISOString();
    const replayed = await relay(
      post(`/admin/projects/${p.id}/replay`, JSON.stringify({ from: now, to: now, upstream: `https://${"cd".repeat(16)}@fresh-${p.id}.example.com/9` }), {
        authorization: "Bearer replay-token",
        "content-type": "application/json",
      }),
      p.config,
      { ADMIN_TOKEN: "replay-token" },
    );
    expect(await replayed.json()).toMatchObject({ listed: 1, delivered: 1, done: true });
    const fresh = upstream.calls.filter((c) => c.url.includes(`fresh-${p.id}`));
    expect(received(fresh[0]!).attachment).toEqual({ length: 2 * MiB, sha256: hash });
  });
});

describe("putStream", () => {
  it("writes a stream of unknown length in fixed-size parts, and a short one in a single put", async () => {
    const big = new Uint8Array(11 * MiB);
    for (let i = 0; i < big.byteLength; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536));
    await putStream(bucket(), "test/put-stream/big", new Blob([big]).stream());
    const back = await bucket().get("test/put-stream/big");
    expect(back!.size).toBe(big.byteLength);
    expect(sha256(new Uint8Array(await back!.arrayBuffer()))).toBe(sha256(big));
    // A multipart object's etag counts its parts.
    expect(back!.httpEtag).toMatch(/-3"$/);

    await putStream(bucket(), "test/put-stream/small", new Blob(["tiny"]).stream(), { customMetadata: { a: "b" } });
    const small = await bucket().get("test/put-stream/small");
    expect(await small!.text()).toBe("tiny");
    expect(small!.customMetadata).toEqual({ a: "b" });
  });
});
