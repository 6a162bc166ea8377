import type { ProjectConfig } from "../config/schema";
import { serializeEnvelope } from "../envelope/serialize";
import { setEnvelopeHeader } from "../envelope/envelope";
import { normalizeEventId } from "../envelope/event-id";
import type { Envelope } from "../envelope/types";
import { archiveEnvelope, archiveKey } from "./archive";
import { gzipIfWorthIt } from "./compress";
import { headerForUpstream } from "./header";
import { sendToUpstream, upstreamTarget, type OutgoingBody, type UpstreamResult, type UpstreamTarget } from "./upstream";
import { archiveMetadata } from "./archive";
import { breakers } from "./breaker";
import { spoolEnvelope } from "./spool";
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

/** Sends one envelope to every destination the project has, in parallel. */
export async function deliver(envelope: Envelope, ctx: DeliveryContext): Promise<Delivery> {
  const target = ctx.project.upstream ? upstreamTarget(ctx.project.upstream) : undefined;
  const header = target ? headerForUpstream(envelope.header, target, ctx.project.keys) : envelope.header;
  const outgoing = header === envelope.header ? envelope : setEnvelopeHeader(envelope, header);
  const unchanged = outgoing === envelope && ctx.original !== undefined;
  const bytes = unchanged ? ctx.original!.bytes : serializeEnvelope(outgoing);
  const eventId = normalizeEventId(envelope.header.event_id);

  const [upstream, archive] = await Promise.all([
    target ? sendUpstream(target, bytes, unchanged ? ctx.original?.gzipped : undefined, ctx) : undefined,
    ctx.project.archive ? writeArchive(bytes, eventId, outgoing, ctx) : undefined,
  ]);
  const failure = upstream && retryable(upstream);
  const spooled = failure ? await spoolEnvelope(ctx.env, ctx.projectId, eventId, bytes, failure, ctx.now.getTime()) : undefined;
  return { eventId, upstream, archive, ...(spooled !== undefined ? { spooled } : {}) };
}

/** Why a retry could succeed (for the spool), or undefined when it could not or need not. */
function retryable(result: Delivery["upstream"] & object): string | undefined {
  if (result.kind === "breaker-open") return "circuit breaker open";
  if (result.kind === "timeout") return "timeout";
  if (result.kind === "network") return `network: ${result.message}`;
  return result.status >= 500 ? `upstream ${result.status}` : undefined;
}

/** One try, unless the host's breaker is open; the breaker learns from the answer. */
async function sendUpstream(
  target: UpstreamTarget,
  bytes: Uint8Array,
  gzipped: Uint8Array | undefined,
  ctx: DeliveryContext,
): Promise<Delivery["upstream"]> {
  const host = new URL(target.url).host;
  const now = ctx.now.getTime();
  if (!breakers.allow(host, now)) return { kind: "breaker-open" };
  const body: OutgoingBody = gzipped ? { bytes: gzipped, encoding: "gzip" } : await gzipIfWorthIt(bytes);
  const result = await sendToUpstream(target, body, ctx);
  if (result.kind === "response" && result.status < 500) breakers.success(host);
  else breakers.failure(host, now);
  return result;
}

async function writeArchive(bytes: Uint8Array, eventId: string | undefined, envelope: Envelope, ctx: DeliveryContext): Promise<Delivery["archive"]> {
  const bucket = ctx.env.ARCHIVE;
  if (!bucket) return { ok: false, error: "the ARCHIVE R2 binding is missing" };
  const key = archiveKey(ctx.projectId, eventId ?? crypto.randomUUID().replace(/-/g, ""), ctx.now);
  try {
    await archiveEnvelope(bucket, key, bytes, archiveMetadata(ctx.projectId, envelope, bytes));
    return { ok: true, key };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}
