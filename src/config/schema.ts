import { z } from "zod";

const publicKey = z
  .string()
  .regex(/^[0-9a-f]{32}$/, "a DSN public key is 32 lowercase hex characters");

/** `https://publickey@host[:port]/[path/]projectId`, the form Sentry shows as a DSN. */
const dsn = z.string().superRefine((value, ctx) => {
  const problem = dsnProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

function dsnProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "not a URL";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "a DSN uses http or https";
  if (!url.username) return "a DSN names its public key before the @";
  if (!/\/\d+$/.test(url.pathname)) return "a DSN ends with a numeric project id";
  return undefined;
}

const origin = z
  .string()
  .refine((o) => o === "*" || /^https?:\/\/[^/]+$|^\*\.[^/]+$|^https?:\/\/\*\.[^/]+$/.test(o), {
    message: 'an origin is "*", "https://host[:port]", "https://*.example.com" or "*.example.com"',
  });

const project = z
  .object({
    keys: z.array(publicKey).min(1, "a project needs at least one public key"),
    /** Sentry-compatible DSN events are forwarded to. */
    upstream: dsn.optional(),
    /** Keep every accepted envelope in the ARCHIVE R2 bucket. */
    archive: z.boolean().default(false),
    /** Origins allowed to send from browsers; Sentry's default is any. */
    allowedOrigins: z.array(origin).default(["*"]),
  })
  .refine((p) => p.upstream !== undefined || p.archive, {
    message: 'a project needs a destination: "upstream", "archive": true, or both',
  });

const limits = z
  .object({
    /** Bytes accepted on the wire, before decompression. */
    maxCompressedBytes: z.number().int().positive().default(20 * 1024 * 1024),
    /** Bytes after decompression: the zip-bomb guard. */
    maxDecompressedBytes: z.number().int().positive().default(50 * 1024 * 1024),
    /** One event/transaction item, as Relay's `max_event_size`. */
    maxEventBytes: z.number().int().positive().default(1024 * 1024),
  })
  .prefault({});

export const relayConfigSchema = z.object({
  projects: z.record(z.string().regex(/^\d+$/, "project ids are numeric"), project),
  /** Path of the browser SDK `tunnel` endpoint. */
  tunnelPath: z
    .string()
    .regex(/^\/[A-Za-z0-9._~\-/]*$/, "tunnelPath is an absolute URL path")
    .default("/tunnel"),
  limits,
  upstreamTimeoutMs: z.number().int().positive().default(30_000),
});

export type RelayConfig = z.infer<typeof relayConfigSchema>;
export type ProjectConfig = z.infer<typeof project>;
