/**
 * The baseline for `npm run bench`: a bare Worker that forwards the request
 * body to the upstream URL and returns its answer. Whatever the relay costs on
 * top of this is the relay's own work.
 */
interface Env {
  UPSTREAM_URL: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const upstream = await fetch(env.UPSTREAM_URL, {
      method: "POST",
      headers: { "content-type": "application/x-sentry-envelope" },
      body: request.body,
    });
    return new Response(upstream.body, { status: upstream.status });
  },
} satisfies ExportedHandler<Env>;
