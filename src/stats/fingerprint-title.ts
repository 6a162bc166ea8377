import type { Event } from "../event";
import type { Scrubber } from "../scrub/compile";
import { scrubJson } from "../scrub/walk";

/** Longest title kept; text is cut to TITLE_INPUT before scrubbing so a huge message costs little. */
export const TITLE_MAX = 200;
const TITLE_INPUT = 2048;

export interface Label {
  title: string;
  culprit?: string;
}

/**
 * The title (`Type: value` of the main exception, Sentry's last in the list,
 * else the message) and culprit of an event, scrubbed by the project's
 * scrubber at the paths they came from, so the same rules apply as to the
 * event itself: nothing unscrubbed is stored, whether the event was
 * forwarded or dropped before stage 5.
 */
export function scrubbedLabel(event: Event | undefined, scrubber: Scrubber): Label {
  if (!event) return { title: "<unlabeled event>" };
  const main = [...event.exceptions].reverse().find((e) => e.type || e.value);
  const message = event.logentry?.formatted ?? event.logentry?.message;
  const raw = main
    ? { exception: { values: [{ type: cap(main.type), value: cap(main.value) }] } }
    : message !== undefined
      ? { logentry: { formatted: cap(message) } }
      : {};
  const culprit = event.culprit ?? event.transaction;
  const shape: Record<string, unknown> = { ...raw, ...(culprit !== undefined ? { culprit: cap(culprit) } : {}) };
  const scrubbed = (scrubber.active ? scrubJson(shape, scrubber, "event") : shape) as {
    exception?: { values: Array<{ type?: unknown; value?: unknown }> };
    logentry?: { formatted?: unknown };
    culprit?: unknown;
  };
  const e = scrubbed.exception?.values[0];
  const text = e
    ? [e.type, e.value].filter((part) => typeof part === "string" && part !== "").join(": ")
    : typeof scrubbed.logentry?.formatted === "string" ? scrubbed.logentry.formatted : "";
  const wasCut = [main?.type, main?.value, message, culprit].some((t) => t !== undefined && t.length > TITLE_INPUT);
  return {
    title: finish(text, wasCut) || "<unlabeled event>",
    culprit: typeof scrubbed.culprit === "string" ? finish(scrubbed.culprit, wasCut) : undefined,
  };
}

function cap(text: string | undefined): string | undefined {
  return text === undefined ? undefined : text.slice(0, TITLE_INPUT);
}

/**
 * At most TITLE_MAX. When the input was cut before scrubbing, the last word
 * may be part of something the scrubber would have caught whole (an address
 * cut in half): it is dropped if it could still show.
 */
function finish(text: string, wasCut: boolean): string {
  let out = text;
  if (wasCut) {
    const space = out.lastIndexOf(" ");
    out = `${space < 0 ? "" : out.slice(0, space)}…`;
  }
  return out.length > TITLE_MAX ? `${out.slice(0, TITLE_MAX - 1)}…` : out;
}
