import { Hono } from "hono";
import { z } from "zod";
import { projectById } from "../config/projects";
import { quotaListSchema, type ProjectConfig, type RelayConfig } from "../config/schema";
import { quoted, RelayError } from "../http/errors";
import type { AppEnv } from "../ingest/endpoints";
import { counterFailures } from "../limits/failures";
import { OVERRIDE_TTL_MS, remember } from "../limits/overrides";

/** Read and change a project's quotas at runtime, without a deploy. */
export const adminQuotas = new Hono<AppEnv>();

adminQuotas.get("/projects/:projectId/quotas", async (c) => {
  const { projectId, project } = configured(c.get("config"), c.req.param("projectId"));
  return c.json(await describe(c.env, projectId, project));
});

adminQuotas.put("/projects/:projectId/quotas", async (c) => {
  const { projectId, project } = configured(c.get("config"), c.req.param("projectId"));
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new RelayError(400, "body is not JSON: expected {\"quotas\": [...]}");
  }
  const parsed = z.object({ quotas: quotaListSchema }).strict().safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RelayError(400, `invalid quotas: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  await counter(c.env, projectId).setOverride(parsed.data.quotas);
  remember(projectId, parsed.data.quotas, Date.now());
  return c.json(await describe(c.env, projectId, project));
});

adminQuotas.delete("/projects/:projectId/quotas", async (c) => {
  const { projectId, project } = configured(c.get("config"), c.req.param("projectId"));
  await counter(c.env, projectId).setOverride(null);
  remember(projectId, null, Date.now());
  return c.json(await describe(c.env, projectId, project));
});

function configured(config: RelayConfig, projectId: string): { projectId: string; project: ProjectConfig } {
  const project = projectById(config, projectId);
  if (!project) throw new RelayError(404, `unknown project ${quoted(projectId)}`);
  return { projectId, project };
}

function counter(env: AppEnv["Bindings"], projectId: string) {
  if (!env.QUOTAS) throw new RelayError(503, "no QUOTAS Durable Object binding");
  return env.QUOTAS.get(env.QUOTAS.idFromName(projectId));
}

/** The quotas in force, where they come from, and how much of each is used now. */
async function describe(env: AppEnv["Bindings"], projectId: string, project: ProjectConfig) {
  const snapshot = await counter(env, projectId).snapshot(project.quotas, project.keys);
  return {
    project: projectId,
    takesEffectWithinSeconds: OVERRIDE_TTL_MS / 1000,
    ...snapshot,
    /** Seen by the isolate answering this request only. */
    counterFailures: counterFailures(projectId),
  };
}
