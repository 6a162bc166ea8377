/**
 * A reference for the memory bench: a Worker that does only what the relay's
 * staging adds to a passthrough, writing the body to R2 as a stream of known
 * length and sending it upstream read back from R2. Under `wrangler dev`, R2
 * is simulated inside the same workerd process, so this shows what local R2
 * itself costs in memory.
 */
interface Env {
  UPSTREAM_URL: string;
  BUCKET: R2Bucket;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const length = Number(request.headers.get("content-length"));
    if (!request.body || !Number.isSafeInteger(length)) return new Response("needs a content-length", { status: 411 });
    const key = `roundtrip/${crypto.randomUUID()}`;
    const { readable, writable } = new FixedLengthStream(length);
    await Promise.all([env.BUCKET.put(key, readable), request.body.pipeTo(writable)]);
    const object = await env.BUCKET.get(key);
    const upstream = await fetch(env.UPSTREAM_URL, { method: "POST", body: object!.body });
    await env.BUCKET.delete(key);
    return new Response(upstream.body, { status: upstream.status });
  },
} satisfies ExportedHandler<Env>;
