import { z } from "zod";
import { relayConfigSchema, type RelayConfig } from "./schema";

/**
 * `error` names each failing field and why, for the worker log; `publicError`
 * is what answers may show: the failing fields' paths only. The document
 * holds upstream DSN keys, and a JSON syntax error or a schema message can
 * quote the text around the fault, so no part of it is ever answered.
 */
export type ConfigResult = { ok: true; config: RelayConfig } | { ok: false; error: string; publicError: string };

/**
 * Parses `RELAY_CONFIG` once per isolate per distinct text: validation runs on
 * the first request, not per event, and a changed var (a new deploy) is picked
 * up because the text is the cache key.
 */
let cached: { text: string | undefined; result: ConfigResult } | undefined;

export function loadConfig(text: string | undefined): ConfigResult {
  if (cached && cached.text === text) return cached.result;
  const result = parseConfig(text);
  if (!result.ok) console.error(`edge-relay: ${result.error}`);
  cached = { text, result };
  return result;
}

const LOGGED = "(details in the worker log)";

export function parseConfig(text: string | undefined): ConfigResult {
  if (text === undefined || text.trim() === "") {
    const error = "invalid RELAY_CONFIG: the variable is not set";
    return { ok: false, error, publicError: error };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    // V8 words some syntax errors with a quote of the text: only the position may be shown.
    const position = /at position (\d+)/.exec(message)?.[1];
    return {
      ok: false,
      error: `invalid RELAY_CONFIG: not JSON (${message})`,
      publicError: `invalid RELAY_CONFIG: not JSON${position ? ` (at position ${position})` : ""} ${LOGGED}`,
    };
  }
  const parsed = relayConfigSchema.safeParse(json);
  if (!parsed.success) {
    const paths = [...new Set(parsed.error.issues.map((issue) => publicPath(issue.path)))].join("; ");
    return {
      ok: false,
      error: `invalid RELAY_CONFIG: ${describeIssues(parsed.error)}`,
      publicError: `invalid RELAY_CONFIG at ${paths} ${LOGGED}`,
    };
  }
  return { ok: true, config: parsed.data };
}

/** `projects.42.upstream: not a URL; ...`: the failing field's path first. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      // A bad record key nests its own issue; its message is the useful one.
      const nested = "issues" in issue ? (issue.issues as z.core.$ZodIssue[])[0] : undefined;
      return `${path(issue.path)}: ${nested?.message ?? issue.message}`;
    })
    .join("; ");
}

function path(segments: readonly PropertyKey[]): string {
  return segments.length ? segments.join(".") : "(root)";
}

/**
 * A path as answers may show it. Field names and list indices are the
 * schema's; a record key is the operator's text (a project id should be a
 * number, but a misplaced DSN could stand there), so only names made of
 * letters alone, or digits alone, are shown, anything else as `*`.
 */
function publicPath(segments: readonly PropertyKey[]): string {
  return path(segments.map((s) => (typeof s === "number" || /^(?:\d{1,20}|[A-Za-z_]{1,64})$/.test(String(s)) ? s : "*")));
}
