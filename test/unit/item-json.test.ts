import { describe, expect, it } from "vitest";
import { relayConfigSchema } from "../../src/config/schema";
import { cachedItemJson, newItem, setItemJson } from "../../src/envelope/envelope";
import { parseEnvelope } from "../../src/envelope/parse";
import { serializeEnvelope } from "../../src/envelope/serialize";
import { compileScrubber } from "../../src/scrub/compile";
import { scrubEnvelope } from "../../src/scrub/envelope";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("an item's JSON, parsed once", () => {
  it("setItemJson writes the value's bytes and keeps the value as the item's parsed JSON", () => {
    const item = newItem({ type: "event", length: 99 }, '{"message":"old"}');
    const value = { message: "new", tags: { a: "b" } };
    const changed = setItemJson(item, value);
    expect(text(changed.payload)).toBe('{"message":"new","tags":{"a":"b"}}');
    expect(changed.header).toEqual({ type: "event" });
    expect(changed.raw).toBeUndefined();
    expect(cachedItemJson(changed)).toBe(value);
  });

  it("a scrubbed event item carries its scrubbed JSON, equal to what its bytes parse to", () => {
    const scrubber = compileScrubber(
      relayConfigSchema.parse({ projects: { "1": { keys: ["0123456789abcdef0123456789abcdef"], archive: true } } }).projects["1"]!.scrub,
    );
    const envelope = parseEnvelope(new TextEncoder().encode('{}\n{"type":"event"}\n{"message":"mail jane@example.com","user":{"ip_address":"73.133.27.120"}}\n'));
    const item = scrubEnvelope(envelope, scrubber).envelope.items[0]!;
    const expected = { message: "mail [email]", user: { ip_address: null } };
    expect(JSON.parse(text(item.payload))).toEqual(expected);
    expect(cachedItemJson(item)).toEqual(expected);
    expect(text(serializeEnvelope({ header: {}, items: [item] }))).toContain('{"message":"mail [email]","user":{"ip_address":null}}');
  });
});
