import { Hono } from "hono";
import { z } from "zod";
import { projectById } from "../config/projects";
import { quoted, RelayError } from "../http/errors";
import type { AppEnv } from "../ingest/endpoints";
import { DAY_MS, HOUR_RETENTION_MS, MINUTE_RETENTION_MS, RESOLUTION_MS, summarize, type CategoryStats, type StatsAnswer } from "../stats/buckets";
import { flushNow } from "../stats/recorder";

/** The longest span each resolution answers: minutes exist for 48 hours, hours for 90 days. */
const MAX_SPAN_MS = { minute: MINUTE_RETENTION_MS, hour: HOUR_RETENTION_MS, day: HOUR_RETENTION_MS } as const;

const querySchema = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    resolution: z.enum(["minute", "hour", "day"]).default("hour"),
  })
  .strict();

/** Counts from the outcome ledgers: what each project received, forwarded and dropped. */
export const statsRoutes = new Hono<AppEnv>();

statsRoutes.get("/projects/:projectId/stats", async (c) => {
  const projectId = c.req.param("projectId");
  if (!projectById(c.get("config"), projectId)) throw new RelayError(404, `unknown project ${quoted(projectId)}`);
  const { from, to, resolution } = parseQuery(c.req.queries(), Date.now());
  const answer: StatsAnswer & { project: string; from: string; to: string; resolution: string } = {
    project: projectId,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    resolution,
    ...(await projectStats(c.env, projectId, from, to, RESOLUTION_MS[resolution])),
  };
  return c.json(answer);
});

statsRoutes.get("/stats", async (c) => {
  const to = Date.now();
  const from = to - DAY_MS;
  const ids = Object.keys(c.get("config").projects);
  const totals = await Promise.all(ids.map(async (id) => [id, (await projectStats(c.env, id, from, to, DAY_MS)).totals] as const));
  const projects: Record<string, Record<string, CategoryStats>> = Object.create(null);
  for (const [id, total] of totals) projects[id] = total;
  return c.json({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), projects });
});

/** The query of a stats request, validated; a 400 names the field at fault. */
export function parseQuery(queries: Record<string, string[]>, now: number): { from: number; to: number; resolution: keyof typeof RESOLUTION_MS } {
  const repeated = Object.entries(queries).find(([, values]) => values.length > 1);
  if (repeated) throw new RelayError(400, `invalid query: ${quoted(repeated[0])}: given more than once`);
  const single = Object.fromEntries(Object.entries(queries).map(([key, values]) => [key, values[0]]));
  const parsed = querySchema.safeParse(single);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.code === "unrecognized_keys" ? issue.keys.join(", ") : issue.path.join(".") || "(query)";
    throw new RelayError(400, `invalid query: ${quoted(field)}: ${issue.message}`);
  }
  const { resolution } = parsed.data;
  const to = parsed.data.to ? Date.parse(parsed.data.to) : now;
  const from = parsed.data.from ? Date.parse(parsed.data.from) : to - DAY_MS;
  if (from >= to) throw new RelayError(400, 'invalid query: "from": must be before "to"');
  if (to - from > MAX_SPAN_MS[resolution]) {
    throw new RelayError(400, `invalid query: "from": a ${resolution} resolution spans at most ${MAX_SPAN_MS[resolution] / 3_600_000} hours`);
  }
  return { from, to, resolution };
}

async function projectStats(env: AppEnv["Bindings"], projectId: string, from: number, to: number, resolution: number): Promise<StatsAnswer> {
  const ledger = env.LEDGER;
  if (!ledger) throw new RelayError(503, "no LEDGER Durable Object binding");
  // What this isolate still holds would otherwise show up only after its next flush.
  await flushNow(env, projectId);
  return summarize(await ledger.get(ledger.idFromName(projectId)).query(from, to, resolution), resolution);
}
