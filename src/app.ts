import { Hono } from "hono";
import { admin } from "./admin";
import { loadConfig } from "./config/load";
import { errorHeaders, headerSafe, RelayError } from "./http/errors";
import { ingestCors } from "./ingest/cors";
import {
  envelopeEndpoint, securityEndpoint, storeEndpoint, tunnelEndpoint, type AppEnv,
} from "./ingest/endpoints";

/** Longest detail an answer carries. */
const MAX_DETAIL_CHARS = 1024;

// `strict: false`: Sentry's paths work with and without the trailing slash.
export const app = new Hono<AppEnv>({ strict: false });

app.onError((err, c) => {
  if (err instanceof RelayError) {
    // Details may quote the request: the header gets printable ASCII only, and both stay bounded.
    const detail = err.detail.length > MAX_DETAIL_CHARS ? `${err.detail.slice(0, MAX_DETAIL_CHARS)}...` : err.detail;
    return c.json({ detail }, err.status as 400, { "x-sentry-error": headerSafe(detail), ...err.headers });
  }
  console.error("edge-relay: unexpected error", err);
  return c.json({ detail: "internal relay error" }, 500, errorHeaders("internal relay error"));
});
app.notFound((c) => c.json({ detail: "not found" }, 404, errorHeaders("not found")));

app.get("/healthz", (c) => c.json({ ok: true }));
app.get("/readyz", (c) => {
  const result = loadConfig(c.env.RELAY_CONFIG);
  return result.ok ? c.json({ ok: true }) : c.json({ ok: false, detail: result.publicError }, 503);
});

app.use("*", ingestCors);
app.use("*", async (c, next) => {
  const result = loadConfig(c.env.RELAY_CONFIG);
  if (!result.ok) throw new RelayError(500, result.publicError);
  c.set("config", result.config);
  await next();
});

app.route("/admin", admin);

app.post("/api/:projectId/envelope", envelopeEndpoint);
app.post("/api/:projectId/store", storeEndpoint);
app.post("/api/:projectId/security", securityEndpoint);
app.post("*", (c) => {
  const path = withoutTrailingSlashes(c.req.path) || "/";
  if (path !== withoutTrailingSlashes(c.get("config").tunnelPath)) throw new RelayError(404, "not found");
  return tunnelEndpoint(c);
});

/** A loop, not `/\/+$/`: that regex retries from every slash of a path made of slashes (quadratic). */
function withoutTrailingSlashes(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47 /* / */) end--;
  return path.slice(0, end);
}
