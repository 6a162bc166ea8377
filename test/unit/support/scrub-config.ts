import { relayConfigSchema, type ScrubConfig } from "../../../src/config/schema";
import { compileScrubber } from "../../../src/scrub/compile";
import { scrubJson } from "../../../src/scrub/walk";

const KEY = "0123456789abcdef0123456789abcdef";

/** A project's scrub config as the schema parses it. */
export function scrubConfig(scrub: Record<string, unknown> = {}): ScrubConfig {
  return relayConfigSchema.parse({ projects: { "1": { keys: [KEY], archive: true, scrub } } }).projects["1"]!.scrub;
}

/** One event through the scrubber. */
export function scrub(event: unknown, config: Record<string, unknown> = {}, rootType = "event"): unknown {
  return scrubJson(event, compileScrubber(scrubConfig(config)), rootType);
}

/** The message of `{ message: text }` after scrubbing. */
export function scrubText(text: string, config: Record<string, unknown> = {}): unknown {
  return (scrub({ message: text }, config) as { message: unknown }).message;
}

/** One built-in rule alone, on every string. */
export const only = (rule: string) => ({ defaults: false, scrubIpAddresses: false, rules: [{ selector: "$string", rule }] });
