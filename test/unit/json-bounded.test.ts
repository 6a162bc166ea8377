import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH, nestsDeeperThan, parseJsonBytes, parseJsonText } from "../../src/json/bounded";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("bounded JSON", () => {
  it("parses documents up to the depth limit, refuses one level more", () => {
    const at = "[".repeat(MAX_JSON_DEPTH) + "]".repeat(MAX_JSON_DEPTH);
    const over = "[".repeat(MAX_JSON_DEPTH + 1) + "]".repeat(MAX_JSON_DEPTH + 1);
    expect(parseJsonBytes(bytes(at)).ok).toBe(true);
    expect(parseJsonBytes(bytes(over))).toEqual({ ok: false, problem: "too_deep" });
    expect(parseJsonText(over)).toEqual({ ok: false, problem: "too_deep" });
  });

  it("refuses 100,000-deep arrays and objects without recursing", () => {
    const arrays = "[".repeat(100_000) + "]".repeat(100_000);
    const objects = '{"a":'.repeat(5_000) + "1" + "}".repeat(5_000);
    expect(parseJsonBytes(bytes(arrays))).toEqual({ ok: false, problem: "too_deep" });
    expect(parseJsonText(`{"x":${objects}}`)).toEqual({ ok: false, problem: "too_deep" });
  });

  it("ignores brackets inside strings, escaped quotes included", () => {
    const text = JSON.stringify({ message: "[".repeat(1000) + '\\"{'.repeat(500) });
    expect(nestsDeeperThan(text, 4)).toBe(false);
    expect(nestsDeeperThan(bytes(text), 4)).toBe(false);
    expect(parseJsonText(text)).toEqual({ ok: true, value: JSON.parse(text) });
  });

  it("refuses invalid UTF-8 as Relay does, keeps valid multi-byte text", () => {
    const invalid = new Uint8Array([...bytes('{"message":"'), 0xff, 0xfe, ...bytes('"}')]);
    expect(parseJsonBytes(invalid)).toEqual({ ok: false, problem: "invalid_utf8" });
    expect(parseJsonBytes(bytes('{"message":"Grüße ☃ 🎉"}'))).toEqual({ ok: true, value: { message: "Grüße ☃ 🎉" } });
  });

  it("tells malformed JSON apart", () => {
    expect(parseJsonBytes(bytes("{nope"))).toEqual({ ok: false, problem: "invalid_json" });
  });
});
