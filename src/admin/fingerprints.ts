import { Hono } from "hono";
import { z } from "zod";
import { projectById } from "../config/projects";
import { quoted, RelayError } from "../http/errors";
import type { AppEnv } from "../ingest/endpoints";

/** A project's fingerprints as the fingerprint store keeps them (src/stats/fingerprint-do.ts). */
export const fingerprintRoutes = new Hono<AppEnv>();

const listQuery = z
  .object({
    sort: z.enum(["last_seen", "count", "first_seen"]).default("last_seen"),
    status: z.enum(["new", "ongoing", "resolved", "regressed"]).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

const resolveBody = z.object({ release: z.string().min(1).max(200).optional() }).strict();

/** Fingerprints are the 32 hex digits of an MD5 (src/spike/fingerprint.ts). */
const FINGERPRINT = /^[0-9a-f]{32}$/;

fingerprintRoutes.get("/projects/:projectId/fingerprints", async (c) => {
  const projectId = known(c.get("config"), c.req.param("projectId"));
  const query = parsed(listQuery, c.req.query(), "query");
  const rows = await store(c.env, projectId).list({ ...query, now: Date.now() });
  return c.json({ project: projectId, sort: query.sort, fingerprints: rows });
});

fingerprintRoutes.post("/projects/:projectId/fingerprints/:fingerprint/resolve", async (c) => {
  const projectId = known(c.get("config"), c.req.param("projectId"));
  const fingerprint = c.req.param("fingerprint");
  if (!FINGERPRINT.test(fingerprint)) throw new RelayError(404, `unknown fingerprint ${quoted(fingerprint)}`);
  const text = await c.req.text();
  let body: unknown = {};
  if (text.trim() !== "") {
    try {
      body = JSON.parse(text);
    } catch {
      throw new RelayError(400, "body is not JSON: expected {\"release\"?: \"...\"}");
    }
  }
  const { release } = parsed(resolveBody, body, "body");
  const row = await store(c.env, projectId).resolve(fingerprint, release, Date.now());
  if (!row) throw new RelayError(404, `unknown fingerprint ${quoted(fingerprint)}`);
  return c.json(row);
});

function parsed<T extends z.ZodType>(schema: T, input: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.code === "unrecognized_keys" ? issue.keys.join(", ") : issue.path.join(".") || "(root)";
  throw new RelayError(400, `invalid ${what}: ${field}: ${issue.message}`);
}

function known(config: AppEnv["Variables"]["config"], projectId: string): string {
  if (!projectById(config, projectId)) throw new RelayError(404, `unknown project ${quoted(projectId)}`);
  return projectId;
}

function store(env: AppEnv["Bindings"], projectId: string) {
  if (!env.FINGERPRINTS) throw new RelayError(503, "no FINGERPRINTS Durable Object binding");
  return env.FINGERPRINTS.get(env.FINGERPRINTS.idFromName(projectId));
}
