import { concatBytes } from "../bytes";
import type { RelayConfig } from "../config/schema";
import type { Env } from "../env";
import type { ChunkSource } from "../envelope/stream-read";
import type { EnvelopeHeader } from "../envelope/types";
import { quoted, RelayError } from "../http/errors";
import { parseJsonBytes } from "../json/bounded";
import { bookFor, counterFor } from "../limits/books";
import { formatRateLimits, type RateLimit } from "../limits/header";
import { withTimeout } from "../limits/timeout";
import type { Authenticated } from "./auth";
import { missingKey } from "./client-report";
import { originAllowed, requestOrigin } from "./cors";

/** How far into a body its header line is looked for (as the envelope reader's scanner). */
const HEADER_LOOKAHEAD = 64 * 1024;
const NEWLINE = 0x0a;

/**
 * Decides about a body as soon as its envelope header line has arrived,
 * before the rest is read: `onHeader` sees the header (undefined when the
 * first line is not a JSON object or does not end within the lookahead) and
 * may throw to refuse the request, or returns how many bytes the whole
 * (decompressed) body may have. Past that cap the read stops with a 401: it
 * is how a sender without a key is held to a few KiB.
 */
export function gateOnHeader(source: ChunkSource, onHeader: (header: EnvelopeHeader | undefined) => number): ChunkSource {
  // The body so far, while the header line is still being looked for: each chunk is copied once.
  let head: Uint8Array = new Uint8Array(0);
  let size = 0;
  let cap: number | undefined;
  const stop = async (err: unknown): Promise<never> => {
    await source.cancel?.().catch(() => undefined);
    throw err;
  };
  return {
    async read() {
      const chunk = await source.read();
      if (cap === undefined) {
        const newline = chunk ? chunk.indexOf(NEWLINE) : -1;
        const seen = size + (chunk?.byteLength ?? 0);
        let line: Uint8Array | undefined;
        if (newline !== -1) line = concatBytes([head.subarray(0, size), chunk!.subarray(0, newline)]);
        else if (!chunk) line = head.subarray(0, size);
        else if (seen <= HEADER_LOOKAHEAD) head = append(head, size, chunk);
        if (line || seen > HEADER_LOOKAHEAD) {
          try {
            cap = onHeader(line && headerOf(line));
          } catch (err) {
            return stop(err);
          }
          head = new Uint8Array(0);
        }
      }
      if (chunk) size += chunk.byteLength;
      if (cap !== undefined && size > cap) return stop(missingKey());
      return chunk;
    },
    cancel: source.cancel && (() => source.cancel!()),
  };
}

/** `buffer` (of which `used` bytes count) with `chunk` after them, grown by doubling. */
function append(buffer: Uint8Array, used: number, chunk: Uint8Array): Uint8Array {
  let out = buffer;
  if (used + chunk.byteLength > buffer.byteLength) {
    out = new Uint8Array(Math.max(used + chunk.byteLength, buffer.byteLength * 2, 1024));
    out.set(buffer.subarray(0, used));
  }
  out.set(chunk, used);
  return out;
}

function headerOf(line: Uint8Array | undefined): EnvelopeHeader | undefined {
  if (!line) return undefined;
  const json = parseJsonBytes(line);
  return json.ok && typeof json.value === "object" && json.value !== null && !Array.isArray(json.value) ? (json.value as EnvelopeHeader) : undefined;
}

/**
 * The project a keyless client report is for: the one that names the page's
 * origin, or failing that the one project that admits it at all. The origin
 * is only a routing hint (any client can set it), which is why what may come
 * this way is so narrow and counted.
 */
export function routeByOrigin(config: RelayConfig, headers: Headers): Authenticated {
  const origin = requestOrigin(headers);
  const admitting = (explicitOnly: boolean) => Object.entries(config.projects).filter(([, project]) => {
    const allowed = explicitOnly ? project.allowedOrigins.filter((o) => o !== "*") : project.allowedOrigins;
    return origin !== undefined && originAllowed(origin, allowed);
  });
  // A project that names the origin outranks those that allow any.
  const named = admitting(true);
  const candidates = named.length === 1 ? named : admitting(false);
  if (candidates.length !== 1) {
    throw new RelayError(401, `client report without a key or dsn: ${candidates.length} projects accept origin ${origin === undefined ? "(none)" : quoted(origin)}, so it cannot be routed`);
  }
  const [projectId, project] = candidates[0]!;
  return { projectId, project, publicKey: project.keys[0]! };
}

/** The counter key of the anonymous-report allowance: no quota id can contain a `/`. */
const ANONYMOUS_KEY = "anonymous/client_report";
const WINDOW_SECONDS = 60;

/**
 * Takes one unit of the project's allowance for keyless client reports
 * (`limits.anonymousReportsPerMinute`, in its quota Durable Object, apart
 * from its own quotas so a flood of them cannot use up what real events
 * need). Refuses with 429 when it is spent, and when the counter cannot be
 * asked: a lost SDK count is cheap, an unmetered door is not.
 */
export async function chargeAnonymousReport(
  ctx: { env: Env; config: RelayConfig; projectId: string; now: number },
): Promise<void> {
  const { limits } = ctx.config;
  const quota = { key: ANONYMOUS_KEY, limit: limits.anonymousReportsPerMinute, windowSeconds: WINDOW_SECONDS };
  const book = bookFor(ctx.projectId, limits.quotaLeases, limits.leaseBookKeys);
  const refuse = (seconds: number): never => {
    const limit: RateLimit = { categories: ["internal"], until: ctx.now + seconds * 1000, scope: "project", reasonCode: "anonymous_reports" };
    throw new RelayError(429, "client report without a key rejected: the project's allowance for them is spent", {
      "retry-after": String(seconds),
      "x-sentry-rate-limits": formatRateLimits([limit], ctx.now),
    });
  };
  if (quota.limit === 0) return refuse(WINDOW_SECONDS);
  const known = book.limitedFor(ANONYMOUS_KEY, ctx.now);
  if (known > 0) return refuse(known);
  const counter = counterFor(ctx.env, ctx.projectId);
  let take;
  try {
    if (!counter) throw new Error("no QUOTAS binding");
    take = (await withTimeout(book.take([{ quota, amounts: [1] }], counter, ctx.now), limits.quotaTimeoutMs)).get(ANONYMOUS_KEY)![0]!;
  } catch (err) {
    console.error(`edge-relay: quota counter unavailable for project ${ctx.projectId} (${(err as Error).message}); refusing a keyless client report`);
    return refuse(1);
  }
  if (!take.ok) refuse(take.retryAfter);
}
