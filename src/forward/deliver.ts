import type { ProjectConfig } from "../config/schema";
import { serializeEnvelope } from "../envelope/serialize";
import { setEnvelopeHeader } from "../envelope/envelope";
import { normalizeEventId } from "../envelope/event-id";
import type { Envelope } from "../envelope/types";
import { archiveEnvelope, archiveKey } from "./archive";
import { gzipIfWorthIt } from "./compress";
import { headerForUpstream } from "./header";
import { sendToUpstream, upstreamTarget, type OutgoingBody, type UpstreamResult, type UpstreamTarget } from "./upstream";

export interface DeliveryContext {
  projectId: string;
  project: ProjectConfig;
  archive?: R2Bucket;
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
  upstream?: UpstreamResult;
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
    ctx.project.archive ? writeArchive(bytes, eventId, ctx) : undefined,
  ]);
  return { eventId, upstream, archive };
}

async function sendUpstream(
  target: UpstreamTarget,
  bytes: Uint8Array,
  gzipped: Uint8Array | undefined,
  ctx: DeliveryContext,
): Promise<UpstreamResult> {
  const body: OutgoingBody = gzipped ? { bytes: gzipped, encoding: "gzip" } : await gzipIfWorthIt(bytes);
  return sendToUpstream(target, body, ctx);
}

async function writeArchive(bytes: Uint8Array, eventId: string | undefined, ctx: DeliveryContext): Promise<Delivery["archive"]> {
  if (!ctx.archive) return { ok: false, error: "the ARCHIVE R2 binding is missing" };
  const key = archiveKey(ctx.projectId, eventId ?? crypto.randomUUID().replace(/-/g, ""), ctx.now);
  try {
    await archiveEnvelope(ctx.archive, key, bytes, { project: ctx.projectId, size: String(bytes.byteLength) });
    return { ok: true, key };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}
