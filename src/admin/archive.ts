import { Hono } from "hono";
import { z } from "zod";
import { projectById } from "../config/projects";
import { hourPath } from "../forward/archive";
import { quoted, RelayError } from "../http/errors";
import type { AppEnv } from "../ingest/endpoints";

/** A time as the replay API takes it: ISO 8601 with an offset, or a date. */
const isoTime = z.iso.datetime({ offset: true }).or(z.iso.date());

const listQuery = z.object({
  /** First and last hour listed, both included (minutes and seconds are ignored; a date is the whole day); open-ended when absent. */
  from: isoTime.optional(),
  to: isoTime.optional(),
  /** At most this many objects per page; R2 lists at most 1,000 at a time. */
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  /** From the previous page's answer. */
  cursor: z.string().min(1).max(4096).optional(),
});

/** What the listing says of one archived envelope. */
export interface ArchivedObject {
  key: string;
  /** From the key: the envelope's event id. */
  eventId: string;
  /** Bytes stored (gzip-compressed); the uncompressed size is `metadata.size`. */
  size: number;
  uploaded: string;
  /** As written with the envelope: `project`, `categories`, `size`, and `fingerprint` for error events. */
  metadata: Record<string, string>;
}

/**
 * Reading the R2 archive back without an R2 client that can list (`wrangler
 * r2 object` cannot): one project's archived envelopes by hour, a page at a
 * time, and one envelope by its key, uncompressed.
 */
export const archiveRoutes = new Hono<AppEnv>();

archiveRoutes.get("/projects/:projectId/archive", async (c) => {
  const projectId = knownProject(c.get("config"), c.req.param("projectId"));
  const parsed = listQuery.safeParse(c.req.query());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RelayError(400, `invalid archive listing: ${issue.path.join(".") || "(query)"}: ${issue.message}`);
  }
  const { from, to, limit, cursor } = parsed.data;
  if (from && to && new Date(from) > new Date(to)) throw new RelayError(400, "invalid archive listing: from is after to");
  const bucket = archiveBucket(c.env);

  // Keys are `<project>/<yyyy>/<mm>/<dd>/<hh>/<event id>.envelope`: hours sort as time does.
  const prefix = `${projectId}/`;
  const first = from ? `${prefix}${hourPath(new Date(from))}` : undefined;
  // A date alone as `to` means the whole day, not its first hour.
  const last = to ? `${prefix}${to.length === 10 ? hourPath(new Date(to)).slice(0, -3) : hourPath(new Date(to))}/\uffff` : undefined;
  const listing = await bucket.list({
    prefix,
    limit,
    include: ["customMetadata"],
    ...(cursor ? { cursor } : first ? { startAfter: first } : {}),
  });
  const objects: ArchivedObject[] = [];
  let pastEnd = false;
  for (const object of listing.objects) {
    if (last !== undefined && object.key > last) {
      pastEnd = true;
      break;
    }
    if (first !== undefined && object.key < first) continue;
    objects.push({
      key: object.key,
      eventId: eventIdOf(object.key),
      size: object.size,
      uploaded: object.uploaded.toISOString(),
      metadata: object.customMetadata ?? {},
    });
  }
  const done = pastEnd || !listing.truncated;
  return c.json({ project: projectId, objects, done, ...(done ? {} : { cursor: listing.cursor }) });
});

archiveRoutes.get("/projects/:projectId/archive/envelope", async (c) => {
  const projectId = knownProject(c.get("config"), c.req.param("projectId"));
  const key = c.req.query("key") ?? "";
  // Only this project's archive: not its staged payloads, spool or dead letters.
  if (!key.startsWith(`${projectId}/`) || !key.endsWith(".envelope") || key.length > 1024) {
    throw new RelayError(400, `invalid archive key ${quoted(key)}: expected ${projectId}/<yyyy>/<mm>/<dd>/<hh>/<event id>.envelope`);
  }
  const object = await archiveBucket(c.env).get(key);
  if (!object) throw new RelayError(404, `no archived envelope ${quoted(key)}`);
  const gzipped = object.httpMetadata?.contentEncoding === "gzip";
  // Streamed and inflated on the way: an archived envelope may be large.
  const body = gzipped ? object.body.pipeThrough(new DecompressionStream("gzip")) : object.body;
  return new Response(body, { headers: { "content-type": "application/x-sentry-envelope" } });
});

function knownProject(config: AppEnv["Variables"]["config"], projectId: string): string {
  if (!projectById(config, projectId)) throw new RelayError(404, `unknown project ${quoted(projectId)}`);
  return projectId;
}

function archiveBucket(env: AppEnv["Bindings"]): R2Bucket {
  if (!env.ARCHIVE) throw new RelayError(503, "no ARCHIVE R2 binding");
  return env.ARCHIVE;
}

function eventIdOf(key: string): string {
  const name = key.slice(key.lastIndexOf("/") + 1);
  return name.endsWith(".envelope") ? name.slice(0, -".envelope".length) : name;
}
