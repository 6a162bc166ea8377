import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../ingest/endpoints";
import { RelayError } from "../http/errors";

/**
 * Bearer-token guard for the admin API. No `ADMIN_TOKEN` secret means no
 * admin API at all. Both tokens are hashed first so the comparison is
 * constant-time whatever their lengths.
 */
export const adminAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  const expected = c.env.ADMIN_TOKEN;
  if (!expected) throw new RelayError(404, "admin API disabled: set the ADMIN_TOKEN secret to enable it");
  const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "");
  if (!match) throw new RelayError(401, "missing bearer token", { "www-authenticate": 'Bearer realm="edge-relay admin"' });
  if (!(await tokensEqual(match[1]!, expected))) {
    throw new RelayError(401, "invalid bearer token", { "www-authenticate": 'Bearer realm="edge-relay admin", error="invalid_token"' });
  }
  await next();
};

export async function tokensEqual(given: string, expected: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(given)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}
