import { z } from "zod";
import { relayConfigSchema, type RelayConfig } from "./schema";

export type ConfigResult = { ok: true; config: RelayConfig } | { ok: false; error: string };

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

export function parseConfig(text: string | undefined): ConfigResult {
  if (text === undefined || text.trim() === "") {
    return { ok: false, error: "invalid RELAY_CONFIG: the variable is not set" };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `invalid RELAY_CONFIG: not JSON (${(err as Error).message})` };
  }
  const parsed = relayConfigSchema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, error: `invalid RELAY_CONFIG: ${describeIssues(parsed.error)}` };
  }
  return { ok: true, config: parsed.data };
}

/** `projects.42.upstream: not a URL; ...`: the failing field's path first. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      // A bad record key nests its own issue; its message is the useful one.
      const nested = "issues" in issue ? (issue.issues as z.core.$ZodIssue[])[0] : undefined;
      const path = issue.path.length ? issue.path.join(".") : "(root)";
      return `${path}: ${nested?.message ?? issue.message}`;
    })
    .join("; ");
}
