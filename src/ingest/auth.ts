import type { ProjectConfig, RelayConfig } from "../config/schema";
import { projectById } from "../config/projects";
import { RelayError } from "../http/errors";

/** The parts of a DSN the relay needs: `scheme://publicKey@host/path/projectId`. */
export interface Dsn {
  publicKey: string;
  projectId: string;
  /** `scheme://host[:port][/path-prefix]`, everything before `/api/...`. */
  base: string;
}

export function parseDsn(value: string): Dsn | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  const match = /^(.*)\/(\d+)\/?$/.exec(url.pathname);
  if (!url.username || !match) return undefined;
  return {
    publicKey: decodeURIComponent(url.username),
    projectId: match[2]!,
    base: `${url.protocol}//${url.host}${match[1]}`,
  };
}

/**
 * `Sentry sentry_key=abc, sentry_version=7` → { key: "abc", version: "7" }.
 * Relay accepts the `sentry_` prefix on each name as optional.
 */
export function parseAuthHeader(value: string): Record<string, string> {
  // Names are the sender's: no prototype to resolve `__proto__` or `constructor` against.
  const fields: Record<string, string> = Object.create(null);
  const body = value.replace(/^\s*sentry\s+/i, "");
  for (const part of body.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase().replace(/^sentry_/, "");
    fields[name] = part.slice(eq + 1).trim();
  }
  return fields;
}

/** The public key the request itself carries, in Relay's order of precedence. */
export function requestPublicKey(headers: Headers, url: URL): string | undefined {
  const sentryAuth = headers.get("x-sentry-auth");
  if (sentryAuth) return parseAuthHeader(sentryAuth).key;
  const authorization = headers.get("authorization");
  if (authorization && /^\s*sentry\s/i.test(authorization)) return parseAuthHeader(authorization).key;
  return url.searchParams.get("sentry_key") ?? undefined;
}

export interface Authenticated {
  projectId: string;
  project: ProjectConfig;
  publicKey: string;
}

/**
 * Decides which project a request belongs to and whether its key may send.
 * The envelope header's `dsn` is only a credential when the request carries
 * none; when both exist they must agree, as in Relay.
 */
export function authenticate(
  config: RelayConfig,
  sources: { pathProjectId?: string; requestKey?: string; envelopeDsn?: unknown },
): Authenticated {
  const dsn = typeof sources.envelopeDsn === "string" ? parseDsn(sources.envelopeDsn) : undefined;
  if (sources.envelopeDsn !== undefined && !dsn && sources.requestKey === undefined) {
    throw new RelayError(401, "invalid dsn in envelope header");
  }
  if (dsn && sources.requestKey !== undefined && dsn.publicKey !== sources.requestKey) {
    throw new RelayError(401, "public key in envelope header dsn does not match the request's sentry_key");
  }
  if (dsn && sources.pathProjectId !== undefined && dsn.projectId !== sources.pathProjectId) {
    throw new RelayError(400, `project id in envelope header dsn (${dsn.projectId}) does not match the URL (${sources.pathProjectId})`);
  }

  const publicKey = sources.requestKey ?? dsn?.publicKey;
  if (!publicKey) throw new RelayError(401, "missing authorization information");
  if (!/^[0-9a-f]{32}$/i.test(publicKey)) throw new RelayError(401, "invalid public key: expected 32 hex characters");

  const projectId = sources.pathProjectId ?? dsn?.projectId;
  if (projectId === undefined) throw new RelayError(400, "missing project id: use /api/<project>/envelope/ or a dsn in the envelope header");
  const project = projectById(config, projectId);
  if (!project) throw new RelayError(403, `unknown project ${projectId}`);
  if (!project.keys.includes(publicKey.toLowerCase())) {
    throw new RelayError(401, `unknown public key for project ${projectId}`);
  }
  return { projectId, project, publicKey: publicKey.toLowerCase() };
}
