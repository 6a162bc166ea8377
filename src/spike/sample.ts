import { createHash } from "node:crypto";

/**
 * Deterministic sampling: the same id always gets the same answer, so a trace
 * sampled by its trace id is kept or dropped whole across every envelope and
 * every isolate. Random-looking hex ids (trace and event ids) are used as they
 * are; anything else is hashed first.
 */
export function keepBySample(id: string, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  const hex = /^[0-9a-f]{8}/i.test(id) ? id : createHash("md5").update(id).digest("hex");
  return Number.parseInt(hex.slice(0, 8), 16) / 0x1_0000_0000 < rate;
}
