import { Hono } from "hono";
import { z } from "zod";
import { dsn as dsnSchema } from "../config/schema";
import { projectById } from "../config/projects";
import { quoted, RelayError } from "../http/errors";
import type { AppEnv } from "../ingest/endpoints";
import { archivedEnvelope, hourPath } from "../forward/archive";
import { spoolEnvelope } from "../forward/spool";
import { accepted, sendToUpstream, upstreamTarget } from "../forward/upstream";

const request = z.object({
  /** First and last hour to replay (ISO timestamps; minutes and seconds are ignored). */
  from: z.iso.datetime({ offset: true }).or(z.iso.date()),
  to: z.iso.datetime({ offset: true }).or(z.iso.date()),
  /** From the previous page's answer. */
  cursor: z.string().optional(),
  limit: z.number().int().min(1).max(500).default(100),
  /** Send to this DSN instead of the project's upstream: moving to a new backend. */
  upstream: z.string().optional(),
});

/**
 * Re-sends archived envelopes of one project for a range of hours, a page at
 * a time: for backfill after an outage, or to move to a new backend. Each is
 * sent as archived (already scrubbed), keyed by its event id, so an upstream
 * that dedupes by event id sees each event once however often it is replayed.
 * What the upstream cannot take now goes to the spool, like live traffic.
 */
export const replayRoutes = new Hono<AppEnv>();

replayRoutes.post("/projects/:projectId/replay", async (c) => {
  const projectId = c.req.param("projectId");
  const project = projectById(c.get("config"), projectId);
  if (!project) throw new RelayError(404, `unknown project ${quoted(projectId)}`);
  let json: unknown;
  try {
    json = await c.req.json();
  } catch {
    throw new RelayError(400, 'body is not JSON: expected {"from": "...", "to": "..."}');
  }
  const parsed = request.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RelayError(400, `invalid replay request: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  const { from, to, cursor, limit } = parsed.data;
  const dsn = parsed.data.upstream ?? project.upstream;
  if (!dsn) throw new RelayError(400, `project ${projectId} has no upstream; give one as "upstream"`);
  const checked = parsed.data.upstream ? dsnSchema.safeParse(dsn) : undefined;
  if (checked && !checked.success) throw new RelayError(400, `invalid upstream DSN: ${checked.error.issues[0]!.message}`);
  const bucket = c.env.ARCHIVE;
  if (!bucket) throw new RelayError(503, "no ARCHIVE R2 binding");

  const first = `${projectId}/${hourPath(new Date(from))}`;
  const last = `${projectId}/${hourPath(new Date(to))}/\uffff`;
  const listing = await bucket.list({ prefix: `${projectId}/`, limit, ...(cursor ? { cursor } : { startAfter: first }) });
  const target = upstreamTarget(dsn);
  const counts = { listed: 0, delivered: 0, spooled: 0, rejected: 0 };
  let pastEnd = false;
  for (const object of listing.objects) {
    if (object.key > last) {
      pastEnd = true;
      break;
    }
    if (object.key < first) continue;
    counts.listed++;
    const archived = await bucket.get(object.key);
    if (!archived) continue;
    // Sent as stored: already gzipped, streamed from R2, never held whole.
    const gzipped = archived.httpMetadata?.contentEncoding === "gzip";
    const stream = gzipped ? archived.body : archived.body.pipeThrough(new CompressionStream("gzip"));
    const result = await sendToUpstream(target, { stream, encoding: "gzip" }, { timeoutMs: c.get("config").upstreamTimeoutMs });
    if (accepted(result)) counts.delivered++;
    else if (result.kind === "response" && result.status < 500 && result.status !== 429) counts.rejected++;
    else if (await spoolArchived(c.env, projectId, object.key)) counts.spooled++;
    else counts.rejected++;
  }
  const done = pastEnd || !listing.truncated;
  return c.json({ project: projectId, ...counts, done, ...(done ? {} : { cursor: listing.cursor }) });
});

/** Into the spool, uncompressed as spooled envelopes are; streamed when large. */
async function spoolArchived(env: AppEnv["Bindings"], projectId: string, key: string): Promise<boolean> {
  const body = await archivedEnvelope(env.ARCHIVE!, key);
  return body !== undefined && spoolEnvelope(env, projectId, key.split("/").pop()!.replace(".envelope", ""), body, "replay", Date.now());
}
