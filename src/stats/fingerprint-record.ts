import type { Envelope, EnvelopeItem } from "../envelope/types";
import { eventOf } from "../event";
import type { Outcome } from "../outcomes";
import type { PipelineContext } from "../pipeline";
import { compileScrubber } from "../scrub/compile";
import { recordOccurrence, type Occurrence } from "./fingerprint-batch";
import { scrubbedLabel } from "./fingerprint-title";

/**
 * Notes what a stage did to a fingerprinted error event: still in `after`
 * means it went on (`forwarded` once stage 5 has passed it), gone means
 * dropped by the reason of the stage's event outcome. Batched per isolate;
 * the title is scrubbed with the project's rules before it is held.
 */
export function noteFingerprint(
  ctx: PipelineContext, fingerprint: string | undefined, item: EnvelopeItem | undefined, after: Envelope, outcomes: readonly Outcome[],
): void {
  if (!fingerprint || !item || !ctx.env.FINGERPRINTS) return;
  const kept = after.items.some((i) => i.header.type === "event");
  const reason = outcomes.find((o) => o.category === "error")?.reason ?? outcomes[0]?.reason ?? "invalid";
  const event = eventOf(item);
  const label = scrubbedLabel(event, compileScrubber(ctx.project.scrub));
  const occurrence: Occurrence = {
    fingerprint,
    at: ctx.now.getTime(),
    fate: kept ? "forwarded" : { dropped: reason },
    release: event?.release,
    title: label.title,
    culprit: label.culprit,
    level: event?.level,
    eventId: event?.event_id,
  };
  recordOccurrence(ctx.env, ctx.projectId, occurrence, ctx.config.limits.maxFingerprints, ctx.waitUntil);
}

/** The error event a fingerprint was computed for, as stage 4 received it. */
export function eventItem(envelope: Envelope): EnvelopeItem | undefined {
  return envelope.items.find((i) => i.header.type === "event");
}
