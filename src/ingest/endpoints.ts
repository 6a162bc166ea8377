import type { Context } from "hono";
import type { RelayConfig } from "../config/schema";
import type { Env } from "../env";
import { EnvelopeError } from "../envelope/errors";
import { readEnvelopeStream } from "../envelope/stream-read";
import type { Envelope, EnvelopeHeader } from "../envelope/types";
import { R2Staging } from "../forward/staging";
import { quoted, RelayError } from "../http/errors";
import { parseJsonBytes } from "../json/bounded";
import type { Outcome } from "../outcomes";
import { runPipeline, type PipelineResult } from "../pipeline";
import { authenticate, requestPublicKey, type Authenticated } from "./auth";
import { readBody, readBodyStream } from "./body";
import { chargeAnonymousReport, gateOnHeader, routeByOrigin } from "./anonymous";
import { ANONYMOUS_REPORT_MAX_BYTES, anonymousClientReports, missingKey } from "./client-report";
import { checkOrigin } from "./cors";
import { runBatch } from "./batch";
import { securityReportBatch } from "./security";
import { decodeStoreBody, eventToEnvelope } from "./store";
import { overCap } from "./caps";

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
  // Otherwise the envelope header's dsn is the credential: checked as soon as it has arrived.
  const gate = requestKey === undefined ? (header: EnvelopeHeader | undefined) => (authFor(header ?? {}), Infinity) : undefined;
  return withStaging(c, authFor, async (body) => {
    const auth = authFor(body.envelope.header);
    return respond(c, await runPipeline(body.envelope, pipelineContext(c, auth, body)));
  }, gate);
}

/**
 * The browser SDK's `tunnel` target: the project and key come from the
 * envelope's `dsn`. Without a key or a dsn only a small, schema-valid client
 * report gets in (some SDKs send them with a bare `{}` header): held to
 * `ANONYMOUS_REPORT_MAX_BYTES` while it is read, rebuilt from its checked
 * value, routed by origin and counted against the project's allowance.
 */
export async function tunnelEndpoint(c: Ctx): Promise<Response> {
  const config = c.get("config");
  const requestKey = requestPublicKey(c.req.raw.headers, new URL(c.req.url));
  const anonymous = (header: EnvelopeHeader | undefined) => requestKey === undefined && header?.dsn === undefined;
  const keyed = (header: EnvelopeHeader) => authorize(c, authenticate(config, { requestKey, envelopeDsn: header.dsn }));
  // Asked before a payload is staged: a keyless envelope with one is no client report.
  const authFor = (header: EnvelopeHeader) => {
    if (anonymous(header)) throw missingKey();
    return keyed(header);
  };
  const gate = requestKey === undefined
    ? (header: EnvelopeHeader | undefined) => (anonymous(header) ? ANONYMOUS_REPORT_MAX_BYTES : (keyed(header!), Infinity))
    : undefined;
  return withStaging(c, authFor, async (body) => {
    if (!anonymous(body.envelope.header)) {
      return respond(c, await runPipeline(body.envelope, pipelineContext(c, keyed(body.envelope.header), body)));
    }
    const reports = anonymousClientReports(body.envelope);
    const auth = routeByOrigin(config, c.req.raw.headers);
    await chargeAnonymousReport({ env: c.env, config, projectId: auth.projectId, now: Date.now() });
    // No body bytes: only the rebuilt envelope goes on, upstream or to the archive.
    return respond(c, await runPipeline(reports, pipelineContext(c, auth)));
  }, gate);
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
  gate?: (header: EnvelopeHeader | undefined) => number,
): Promise<Response> {
  const { limits } = c.get("config");
  const bucket = c.env.ARCHIVE;
  let staging: R2Staging | undefined;
  try {
    const body = await readBodyStream(c.req.raw, { ...limits, keepCopyBytes: KEEP_COMPRESSED_BYTES });
    const source = gate ? gateOnHeader(body.source, gate) : body.source;
    const read = await readEnvelopeStream(source, {
      streamItemBytes: limits.streamItemBytes,
      maxBufferedBytes: limits.maxBufferedBytes,
      tooLarge: () => new RelayError(413, `envelope exceeds ${limits.maxBufferedBytes} bytes outside streamed attachments (maxBufferedBytes)`),
      // Without a bucket there is nowhere to stream to: everything is held, under maxBufferedBytes.
      stager: bucket ? (header) => (staging = new R2Staging(bucket, authFor(header).projectId)) : undefined,
      discard: (header, length) => overCap(header, length, limits),
    }).catch(asEnvelopeError);
    return await handle({ envelope: read.envelope, bytes: read.bytes, compressed: read.bytes ? body.compressed() : undefined });
  } finally {
    const done = staging?.cleanup().catch((err) => console.error(`edge-relay: could not delete staged payloads: ${(err as Error).message}`));
    if (done) waitUntil(c, done);
  }
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
  // Relay takes a security body up to max_event_size: however many reports it holds, it is one event's worth.
  const { limits } = config;
  const body = await readBody(c.req.raw, {
    maxCompressedBytes: Math.min(limits.maxCompressedBytes, limits.maxEventBytes),
    maxDecompressedBytes: Math.min(limits.maxDecompressedBytes, limits.maxEventBytes),
  });
  const json = parseJsonBytes(body.bytes);
  if (!json.ok) throw new RelayError(400, `invalid security report: body is not JSON (${json.problem})`);
  const now = new Date();
  const { events, overCap } = securityReportBatch(json.value, {
    userAgent: c.req.header("user-agent"),
    environment: url.searchParams.get("sentry_environment") ?? undefined,
    release: url.searchParams.get("sentry_release") ?? undefined,
    now,
  }, limits.maxSecurityReports);
  // Reports past the cap are dropped, not refused: a browser never resends, so the first ones still count.
  const dropped: Outcome[] = overCap > 0 ? [{ category: "security", reason: "invalid", quantity: overCap, detail: "too_large" }] : [];
  // One event per envelope, as the protocol requires, counted and answered as one batch.
  const answer = await runBatch(events.map((event) => eventToEnvelope(event, now)), { ...pipelineContext(c, auth), now }, dropped);
  const counts = { reports: events.length + overCap, accepted: answer.accepted, rate_limited: answer.rateLimited, over_cap: overCap };
  return c.json({ ...answer.body, ...counts }, answer.status as 200, answer.headers);
}

function projectIdParam(c: Ctx): string {
  const id = c.req.param("projectId") ?? "";
  if (!/^\d+$/.test(id)) throw new RelayError(400, `invalid project id ${quoted(id)} in the URL`);
  return id;
}

/** Store bodies are one JSON document, read whole: under maxBufferedBytes. */
function heldWhole(limits: RelayConfig["limits"]) {
  return {
    maxCompressedBytes: Math.min(limits.maxCompressedBytes, limits.maxBufferedBytes),
    maxDecompressedBytes: Math.min(limits.maxDecompressedBytes, limits.maxBufferedBytes),
  };
}

const MAX_PARSE_MESSAGE = 256;
const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}...` : text);

function asEnvelopeError(err: unknown): never {
  // The parser's messages may quote a value from the body (an item type): only so much of it.
  if (err instanceof EnvelopeError) throw new RelayError(400, `invalid envelope: ${cut(err.message, MAX_PARSE_MESSAGE)}`);
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
