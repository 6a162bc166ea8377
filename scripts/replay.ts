/**
 * Re-sends a project's archived envelopes from R2 to its upstream (or to a new
 * one), through the relay's admin API, page by page with progress:
 *
 *   npm run replay -- --project 42 --from 2026-11-23T00:00:00Z --to 2026-11-23T12:00:00Z \
 *     [--url http://localhost:8787] [--token $ADMIN_TOKEN] [--upstream https://key@host/1] [--page 100]
 *
 * Safe to run again: events keep their ids, and Sentry-compatible upstreams
 * keep one event per id.
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    project: { type: "string" },
    from: { type: "string" },
    to: { type: "string" },
    url: { type: "string", default: "http://localhost:8787" },
    token: { type: "string", default: process.env.ADMIN_TOKEN },
    upstream: { type: "string" },
    page: { type: "string", default: "100" },
  },
});

function fail(message: string): never {
  console.error(`replay: ${message}`);
  process.exit(2);
}

if (!values.project || !values.from || !values.to) fail("--project, --from and --to are required (times as ISO 8601, e.g. 2026-11-23T00:00:00Z)");
if (!values.token) fail("no admin token: pass --token or set ADMIN_TOKEN");

interface Page {
  listed: number;
  delivered: number;
  spooled: number;
  rejected: number;
  done: boolean;
  cursor?: string;
  detail?: string;
}

const total = { listed: 0, delivered: 0, spooled: 0, rejected: 0 };
let cursor: string | undefined;
let page = 0;
do {
  page++;
  const res = await fetch(`${values.url.replace(/\/+$/, "")}/admin/projects/${values.project}/replay`, {
    method: "POST",
    headers: { authorization: `Bearer ${values.token}`, "content-type": "application/json" },
    body: JSON.stringify({ from: values.from, to: values.to, limit: Number(values.page), ...(values.upstream ? { upstream: values.upstream } : {}), ...(cursor ? { cursor } : {}) }),
  });
  const body = (await res.json()) as Page;
  if (!res.ok) fail(`the relay answered ${res.status}: ${body.detail ?? JSON.stringify(body)}`);
  for (const key of Object.keys(total) as Array<keyof typeof total>) total[key] += body[key];
  console.log(`page ${page}: ${body.listed} envelopes (${body.delivered} delivered, ${body.spooled} spooled for retry, ${body.rejected} refused) — ${total.listed} so far`);
  cursor = body.done ? undefined : body.cursor;
} while (cursor);

console.log(`done: ${total.listed} envelopes replayed: ${total.delivered} delivered, ${total.spooled} spooled for retry, ${total.rejected} refused by the upstream`);
process.exit(total.rejected > 0 ? 1 : 0);
