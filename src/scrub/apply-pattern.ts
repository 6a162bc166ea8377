import type { PatternRule } from "./builtins";
import { emptyFeatures, readFeatures, type Features } from "./features";
import { redactText } from "./redact";

/**
 * One pattern rule over one string: the spans its finder reports are
 * redacted. The same string comes back when nothing matched, so callers can
 * tell by identity. Overlapping spans (from several groups) keep the first.
 */
export function applyPattern(text: string, rule: PatternRule, hashKey: string): string {
  const { gate, hint } = rule;
  if (gate !== undefined && (featuresOf(text).candidates & gate) === 0) return text;
  if (hint !== undefined && !hint(text, featuresOf(text))) return text;
  const spans = rule.find(text);
  if (spans === undefined) return text;
  let out = "";
  let at = 0;
  for (let i = 0; i < spans.length; i += 2) {
    const start = spans[i]!;
    const end = spans[i + 1]!;
    if (start < at || end <= start) continue;
    out += text.slice(at, start) + redactText(text.slice(start, end), rule.method, hashKey);
    at = end;
  }
  return at === 0 ? text : out + text.slice(at);
}

/**
 * The rules of a string are applied one after another to the same string
 * until one changes it: its features are read once and kept for the next
 * rule (one string, so nothing grows).
 */
const features = emptyFeatures();
let featuresFor: string | undefined;

export function featuresOf(text: string): Features {
  if (text !== featuresFor) {
    readFeatures(text, features);
    featuresFor = text;
  }
  return features;
}
