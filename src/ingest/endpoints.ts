import type { Context } from "hono";
import type { RelayConfig } from "../config/schema";
import type { Env } from "../env";
import { EnvelopeError } from "../envelope/errors";
import { readEnvelopeStream } from "../envelope/stream-read";
import type { Envelope, EnvelopeHeader } from "../envelope/types";
import { R2Staging } from "../forward/staging";
import { quoted, RelayError } from "../http/errors";
import { runPipeline, type PipelineResult } from "../pipeline";
import { authenticate, requestPublicKey, type Authenticated } from "./auth";
import { readBody, readBodyStream } from "./body";
import { checkOrigin, originAllowed, requestOrigin } from "./cors";
import { securityReportsToEvents } from "./security";
import { decodeStoreBody, eventToEnvelope } from "./store";
import { SIZE_CAPPED_TYPES } from "./validate";

export type AppEnv = { Bindings: Env; Variables: { config: RelayConfig } };
type Ctx = Context<AppEnv>;

/** `POST /api/:projectId/envelope/`: the modern SDK endpoint. */
export async function envelopeEndpoint(c: Ctx): Promise<Response> {
  const config = c.get("config");
  const pathProjectId = projectIdParam(c);
  const requestKey = requestPublicKey(c.req.raw.headers, new URL(c.req.url));
  // Cheap refusals first: a request that names its key is checked before its body is read.
  if (requestKey !== undefined) authorize(c, authenticate(config, { pathProjectId, requestKey }));
  const authFor = (header: EnvelopeHeader) => authorize(c, authenticate(config, { pathProjectId, requestKey, envelopeDsn: header.dsn }));
  return withStaging(c, authFor, async (body) => {
    const auth = authFor(body.envelope.header);
    return respond(c, await runPipeline(body.envelope, pipelineContext(c, auth, body)));
  });
}

/** The browser SDK's `tunnel` target: the project and key come from the envelope's `dsn`. */
export async function tunnelEndpoint(c: Ctx): Promise<Response> {
  const config = c.get("config");
  const requestKey = requestPublicKey(c.req.raw.headers, new URL(c.req.url));
  const authFor = (header: EnvelopeHeader, envelope?: Envelope) =>
    header.dsn === undefined && requestKey === undefined
      ? routeWithoutDsn(config, envelope, c.req.raw.headers)
      : authorize(c, authenticate(config, { requestKey, envelopeDsn: header.dsn }));
  return withStaging(c, authFor, async (body) => {
    const auth = authFor(body.envelope.header, body.envelope);
    return respond(c, await runPipeline(body.envelope, pipelineContext(c, auth, body)));
  });
}

/**
 * A compressed body is also kept as it came up to this size, so an unchanged
 * envelope goes upstream without being compressed again; larger ones are.
 */
const KEEP_COMPRESSED_BYTES = 1024 * 1024;

interface EnvelopeBody {
  envelope: Envelope;
  /** The decompressed body, when nothing was staged. */
  bytes?: Uint8Array;
  compressed?: { encoding: string; bytes: Uint8Array };
}

/**
 * Reads an envelope body holding at most `maxBufferedBytes` of it: large
 * attachments are staged in R2 as they arrive (once the envelope header has
 * authenticated the sender), and deleted again after the answer, by which time
 * the upstream, the archive or the spool holds its own copy.
 */
async function withStaging(
  c: Ctx,
  authFor: (header: EnvelopeHeader) => Authenticated,
  handle: (body: EnvelopeBody) => Promise<Response>,
): Promise<Response> {
  const { limits } = c.get("config");
  const bucket = c.env.ARCHIVE;
  let staging: R2Staging | undefined;
  try {
    const body = await readBodyStream(c.req.raw, { ...limits, keepCopyBytes: KEEP_COMPRESSED_BYTES });
    const read = await readEnvelopeStream(body.source, {
      streamItemBytes: limits.streamItemBytes,
      maxBufferedBytes: limits.maxBufferedBytes,
      tooLarge: () => new RelayError(413, `envelope exceeds ${limits.maxBufferedBytes} bytes outside streamed attachments (maxBufferedBytes)`),
      // Without a bucket there is nowhere to stream to: everything is held, under maxBufferedBytes.
      stager: bucket ? (header) => (staging = new R2Staging(bucket, authFor(header).projectId)) : undefined,
      discard: { types: SIZE_CAPPED_TYPES, overBytes: limits.maxEventBytes },
    }).catch(asEnvelopeError);
    return await handle({ envelope: read.envelope, bytes: read.bytes, compressed: read.bytes ? body.compressed() : undefined });
  } finally {
    const done = staging?.cleanup().catch((err) => console.error(`edge-relay: could not delete staged payloads: ${(err as Error).message}`));
    if (done) waitUntil(c, done);
  }
}

/**
 * Browser SDKs send some client reports through the tunnel with a bare `{}`
 * header. They carry no user data, only the SDK's own counts, so they go to
 * the one project that names the page's origin (or, failing that, the one
 * project that admits it at all); anything else without a dsn cannot be
 * routed and is refused.
 */
function routeWithoutDsn(config: RelayConfig, envelope: Envelope | undefined, headers: Headers): Authenticated {
  // Without the envelope (about to stage a large payload) it is not only client reports.
  const onlyClientReports = envelope !== undefined && envelope.items.length > 0 && envelope.items.every((item) => item.header.type === "client_report");
  if (!onlyClientReports) {
    throw new RelayError(400, "tunnel envelope has no dsn in its header: cannot tell which project it is for");
  }
  const origin = requestOrigin(headers);
  const admitting = (explicitOnly: boolean) => Object.entries(config.projects).filter(([, project]) => {
    const allowed = explicitOnly ? project.allowedOrigins.filter((o) => o !== "*") : project.allowedOrigins;
    return origin !== undefined && originAllowed(origin, allowed);
  });
  // A project that names the origin outranks those that allow any.
  const named = admitting(true);
  const candidates = named.length === 1 ? named : admitting(false);
  if (candidates.length !== 1) {
    throw new RelayError(400, `client report without a dsn: ${candidates.length} projects accept origin ${origin ?? "(none)"}, so it cannot be routed`);
  }
  const [projectId, project] = candidates[0]!;
  return { projectId, project, publicKey: project.keys[0]! };
}

/** `POST /api/:projectId/store/`: one JSON event, as raven-era SDKs send. */
export async function storeEndpoint(c: Ctx): Promise<Response> {
  const config = c.get("config");
  const auth = authorize(c, authenticate(config, {
    pathProjectId: projectIdParam(c),
    requestKey: requestPublicKey(c.req.raw.headers, new URL(c.req.url)),
  }));
  const body = await readBody(c.req.raw, heldWhole(config.limits));
  const envelope = eventToEnvelope(decodeStoreBody(body.bytes, config.limits.maxEventBytes), new Date());
  return respond(c, await runPipeline(envelope, pipelineContext(c, auth)));
}

/** `POST /api/:projectId/security/`: CSP, Expect-CT and HPKP reports from browsers. */
export async function securityEndpoint(c: Ctx): Promise<Response> {
  const config = c.get("config");
  const url = new URL(c.req.url);
  const auth = authorize(c, authenticate(config, {
    pathProjectId: projectIdParam(c),
    requestKey: requestPublicKey(c.req.raw.headers, url),
  }));
  const body = await readBody(c.req.raw, heldWhole(config.limits));
  let report: unknown;
  try {
    report = JSON.parse(new TextDecoder().decode(body.bytes));
  } catch {
    throw new RelayError(400, "invalid security report: body is not JSON");
  }
  const now = new Date();
  const events = securityReportsToEvents(report, {
    userAgent: c.req.header("user-agent"),
    environment: url.searchParams.get("sentry_environment") ?? undefined,
    release: url.searchParams.get("sentry_release") ?? undefined,
    now,
  });
  // One event per envelope, as the envelope format requires; a batch answers
  // with the first failure so the sender never sees 200 for a lost report.
  let last: PipelineResult | undefined;
  for (const event of events) {
    last = await runPipeline(eventToEnvelope(event, now), pipelineContext(c, auth));
    if (last.status !== 200) break;
  }
  return last ? respond(c, last) : c.json({}, 200);
}

function projectIdParam(c: Ctx): string {
  const id = c.req.param("projectId") ?? "";
  if (!/^\d+$/.test(id)) throw new RelayError(400, `invalid project id ${quoted(id)} in the URL`);
  return id;
}

/** Store and security bodies are one JSON document, read whole: under maxBufferedBytes. */
function heldWhole(limits: RelayConfig["limits"]) {
  return {
    maxCompressedBytes: Math.min(limits.maxCompressedBytes, limits.maxBufferedBytes),
    maxDecompressedBytes: Math.min(limits.maxDecompressedBytes, limits.maxBufferedBytes),
  };
}

function asEnvelopeError(err: unknown): never {
  if (err instanceof EnvelopeError) throw new RelayError(400, `invalid envelope: ${err.message}`);
  throw err;
}

function waitUntil(c: Ctx, promise: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(promise);
  } catch {
    // No execution context (a direct call): let it run unawaited.
  }
}

function authorize(c: Ctx, auth: Authenticated): Authenticated {
  checkOrigin(c.req.raw.headers, auth.project.allowedOrigins, auth.projectId);
  return auth;
}

function pipelineContext(
  c: Ctx,
  auth: Authenticated,
  body?: { bytes?: Uint8Array; compressed?: { encoding: string; bytes: Uint8Array } },
) {
  return {
    config: c.get("config"),
    env: c.env,
    projectId: auth.projectId,
    project: auth.project,
    publicKey: auth.publicKey,
    now: new Date(),
    clientIp: c.req.header("cf-connecting-ip"),
    userAgent: c.req.header("user-agent"),
    waitUntil: (promise: Promise<unknown>) => waitUntil(c, promise),
    original: body?.bytes && {
      bytes: body.bytes,
      gzipped: body.compressed?.encoding === "gzip" ? body.compressed.bytes : undefined,
    },
  };
}

function respond(c: Ctx, result: PipelineResult): Response {
  return c.json(result.body, result.status as 200, result.headers);
}
