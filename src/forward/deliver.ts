import type { ProjectConfig } from "../config/schema";
import { envelopeParts, serializedLength, type EnvelopePart } from "../envelope/serialize";
import { setEnvelopeHeader } from "../envelope/envelope";
import { normalizeEventId, newEventId } from "../envelope/event-id";
import type { Envelope } from "../envelope/types";
import { archiveEnvelope, archiveKey, archiveMetadata } from "./archive";
import { gzipForWire } from "./compress";
import { headerForUpstream } from "./header";
import { sendToUpstream, upstreamTarget, type OutgoingBody, type UpstreamResult, type UpstreamTarget } from "./upstream";
import { breakers, DEFAULT_TIMING, PROBE_GRACE_MS, throughBreaker, type BreakerTiming } from "./breaker";
import { spoolEnvelope, spoolQuantities, type SpoolBody } from "./spool";
import { streamParts } from "./staging";
import { concatBytes } from "../bytes";
import type { Env } from "../env";

export interface DeliveryContext {
  projectId: string;
  project: ProjectConfig;
  env: Env;
  timeoutMs: number;
  now: Date;
  clientIp?: string;
  userAgent?: string;
  /**
   * The body as it arrived, when the envelope reached this stage unchanged:
   * then it is sent as-is, still compressed when the SDK gzipped it.
   */
  original?: { bytes: Uint8Array; gzipped?: Uint8Array };
  /** The upstream breaker's settings from the config; the defaults when absent. */
  breaker?: BreakerTiming;
}

export interface Delivery {
  eventId?: string;
  /** What the upstream said; `breaker-open` when it was not even asked. */
  upstream?: UpstreamResult | { kind: "breaker-open" };
  /** The upstream failed and the envelope waits in the spool for a retry. */
  spooled?: boolean;
  /** Absent when the project does not archive. */
  archive?: { ok: true; key: string } | { ok: false; error: string };
}

/**
 * The outgoing envelope, once: in memory, or (with payloads staged in R2) as a
 * stream each destination opens for itself, so none of them holds it whole.
 */
interface OutgoingEnvelope {
  length: number;
  bytes?: Uint8Array;
  /** Set when the SDK's own gzip can be sent unchanged. */
  gzipped?: Uint8Array;
  stream(): ReadableStream<Uint8Array>;
}

/** Sends one envelope to every destination the project has, in parallel. */
export async function deliver(envelope: Envelope, ctx: DeliveryContext): Promise<Delivery> {
  const target = ctx.project.upstream ? upstreamTarget(ctx.project.upstream) : undefined;
  const header = target ? headerForUpstream(envelope.header, target, ctx.project.keys) : envelope.header;
  const outgoing = header === envelope.header ? envelope : setEnvelopeHeader(envelope, header);
  const body = outgoingEnvelope(outgoing, outgoing === envelope ? ctx.original : undefined, ctx.env);
  const eventId = normalizeEventId(envelope.header.event_id);

  const [upstream, archive] = await Promise.all([
    target ? sendUpstream(target, body, ctx) : undefined,
    ctx.project.archive ? writeArchive(body, eventId, outgoing, ctx) : undefined,
  ]);
  const failure = upstream && retryable(upstream);
  const spooled = failure
    ? await spoolEnvelope(ctx.env, ctx.projectId, eventId, spoolBody(body), failure, ctx.now.getTime(), spoolQuantities(outgoing))
    : undefined;
  return { eventId, upstream, archive, ...(spooled !== undefined ? { spooled } : {}) };
}

function outgoingEnvelope(envelope: Envelope, original: DeliveryContext["original"], env: Env): OutgoingEnvelope {
  if (original) {
    return { length: original.bytes.byteLength, bytes: original.bytes, gzipped: original.gzipped, stream: () => new Blob([original.bytes]).stream() };
  }
  const parts = envelopeParts(envelope);
  if (parts.every((part): part is Uint8Array => part instanceof Uint8Array)) {
    const bytes = concatBytes(parts);
    return { length: bytes.byteLength, bytes, stream: () => new Blob([bytes]).stream() };
  }
  const bucket = env.ARCHIVE;
  // The staging reader only stages when the bucket exists.
  if (!bucket) throw new Error("an envelope has staged payloads but there is no ARCHIVE binding");
  return { length: serializedLength(parts as EnvelopePart[]), stream: () => streamParts(bucket, parts) };
}

function spoolBody(body: OutgoingEnvelope): SpoolBody {
  return body.bytes ?? { length: body.length, stream: body.stream };
}

/** Why a retry could succeed (for the spool), or undefined when it could not or need not. */
function retryable(result: Delivery["upstream"] & object): string | undefined {
  if (result.kind === "breaker-open") return "circuit breaker open";
  if (result.kind === "timeout") return "timeout";
  if (result.kind === "network") return `network: ${result.message}`;
  return result.status >= 500 ? `upstream ${result.status}` : undefined;
}

/** One try, unless the host's breaker is open; the breaker learns from the answer, or from its absence. */
async function sendUpstream(target: UpstreamTarget, envelope: OutgoingEnvelope, ctx: DeliveryContext): Promise<Delivery["upstream"]> {
  const host = new URL(target.url).host;
  const timing = ctx.breaker ?? { ...DEFAULT_TIMING, probeMs: ctx.timeoutMs + PROBE_GRACE_MS };
  return throughBreaker(breakers, host, ctx.now.getTime(), timing, async () => {
    const body: OutgoingBody = envelope.gzipped ? { bytes: envelope.gzipped, encoding: "gzip" } : await gzipForWire(envelope.bytes ?? envelope);
    return sendToUpstream(target, body, ctx);
  });
}

async function writeArchive(body: OutgoingEnvelope, eventId: string | undefined, envelope: Envelope, ctx: DeliveryContext): Promise<Delivery["archive"]> {
  const bucket = ctx.env.ARCHIVE;
  if (!bucket) return { ok: false, error: "the ARCHIVE R2 binding is missing" };
  const key = archiveKey(ctx.projectId, eventId ?? newEventId(), ctx.now);
  try {
    await archiveEnvelope(bucket, key, body.bytes ?? body.stream(), archiveMetadata(ctx.projectId, envelope, body.length));
    return { ok: true, key };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}
