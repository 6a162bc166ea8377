/**
 * Reads a project's R2 archive back through the relay's admin API:
 *
 *   npm run archive -- list --project 1 [--from 2026-11-25T04:00:00Z] [--to 2026-11-25] [--json]
 *   npm run archive -- get --key 1/2026/11/25/04/<event id>.envelope
 *   npm run archive -- get --project 1 --event <event id> [--from ...] [--to ...]
 *
 * `list` prints one archived envelope a line (upload time, key, bytes stored,
 * data categories, fingerprint), all pages, in key order (hour, then event
 * id); `get` prints one envelope, uncompressed, by its key or by its event id
 * (found by listing). Both take [--url http://localhost:8787] [--token T]; the token
 * defaults to $ADMIN_TOKEN, and for a relay on this machine to the one
 * `npm start` sets.
 */
import { parseArgs } from "node:util";

/** What `npm start` passes to `wrangler dev` as ADMIN_TOKEN (package.json). Never used for a remote URL. */
const LOCAL_DEV_TOKEN = "local-dev-token";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    project: { type: "string" },
    from: { type: "string" },
    to: { type: "string" },
    key: { type: "string" },
    event: { type: "string" },
    url: { type: "string", default: "http://localhost:8787" },
    token: { type: "string", default: process.env.ADMIN_TOKEN },
    page: { type: "string", default: "100" },
    json: { type: "boolean", default: false },
  },
});

function fail(message: string): never {
  console.error(`archive: ${message}`);
  process.exit(2);
}

const base = values.url.endsWith("/") ? values.url.slice(0, -1) : values.url;
const token = values.token ?? (isLocal(base) ? LOCAL_DEV_TOKEN : fail("no admin token: pass --token or set ADMIN_TOKEN"));
const command = positionals[0];

if (command === "list") await list();
else if (command === "get") await get();
else fail('say "list --project <id>", "get --key <key>" or "get --project <id> --event <event id>"');

async function list(): Promise<void> {
  const project = values.project ?? fail("list needs --project");
  let count = 0;
  for await (const object of archived(project)) {
    count++;
    if (values.json) console.log(JSON.stringify(object));
    else console.log([object.uploaded, object.key, `${object.size} B`, object.metadata.categories ?? "", object.metadata.fingerprint ?? ""].join("\t").trimEnd());
  }
  if (!values.json) console.error(`${count} archived envelope${count === 1 ? "" : "s"}`);
}

/** Every archived envelope of `project` in the --from/--to range, page after page. */
async function* archived(project: string): AsyncGenerator<Listed> {
  let cursor: string | undefined;
  do {
    const query = new URLSearchParams({ limit: values.page });
    if (values.from) query.set("from", values.from);
    if (values.to) query.set("to", values.to);
    if (cursor) query.set("cursor", cursor);
    const page = (await call(`/admin/projects/${encodeURIComponent(project)}/archive?${query}`).then((res) => res.json())) as Page;
    yield* page.objects;
    cursor = page.done ? undefined : page.cursor;
  } while (cursor);
}

async function get(): Promise<void> {
  const key = values.key ?? (await keyOfEvent());
  const project = key.split("/")[0]!;
  const res = await call(`/admin/projects/${encodeURIComponent(project)}/archive/envelope?key=${encodeURIComponent(key)}`);
  process.stdout.write(new Uint8Array(await res.arrayBuffer()));
}

async function keyOfEvent(): Promise<string> {
  if (!values.project || !values.event) fail("get needs --key (as list prints it), or --project and --event");
  const wanted = values.event.toLowerCase().replaceAll("-", "");
  for await (const object of archived(values.project)) if (object.eventId === wanted) return object.key;
  return fail(`no archived envelope with event id ${wanted} in project ${values.project}${values.from || values.to ? " between --from and --to" : ""}`);
}

interface Listed {
  key: string;
  eventId: string;
  size: number;
  uploaded: string;
  metadata: Record<string, string>;
}

interface Page {
  objects: Listed[];
  done: boolean;
  cursor?: string;
}

async function call(path: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  } catch (err) {
    return fail(`cannot reach ${base} (${(err as Error).cause ?? (err as Error).message}); is the relay running (npm start)?`);
  }
  if (!res.ok) {
    const text = await res.text();
    let detail = text;
    try {
      detail = (JSON.parse(text) as { detail?: string }).detail ?? text;
    } catch {
      // not JSON: the text as it came
    }
    fail(`the relay answered ${res.status}: ${detail}`);
  }
  return res;
}

function isLocal(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === "localhost" || host === "127.0.0.1" || host === "[::1]";
  } catch {
    return fail(`--url ${url} is not a URL`);
  }
}
