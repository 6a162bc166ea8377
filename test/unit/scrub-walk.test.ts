import { describe, expect, it } from "vitest";
import { relayConfigSchema } from "../../src/config/schema";
import { builtinRule, type PatternRule } from "../../src/scrub/builtins";
import { compileScrubber, type Scrubber } from "../../src/scrub/compile";
import { scrubJson } from "../../src/scrub/walk";

const scrubber = compileScrubber(
  relayConfigSchema.parse({ projects: { "1": { keys: ["0123456789abcdef0123456789abcdef"], archive: true } } }).projects["1"]!.scrub,
);

describe("the scrubber's walk on keys named after Object.prototype members", () => {
  // These keys once looked up Object.prototype for their node types, and the walk threw on the array under them.
  it.each(["constructor", "__proto__"])("scrubs an event with a top-level %s list", (key) => {
    const event = JSON.parse(`{"${key}":["mail jane@example.com",{"stacktrace":{"frames":["from 73.133.27.120"]}}],"user":{"email":"a@b.io"}}`);
    const scrubbed = scrubJson(event, scrubber, "event") as Record<string, unknown>;
    expect(Object.getOwnPropertyDescriptor(scrubbed, key)?.value).toEqual(["mail [email]", { stacktrace: { frames: ["from [ip]"] } }]);
    expect(scrubbed.user).toEqual({ email: "[email]" });
  });

  it("still types frames under exception values beside such keys", () => {
    const event = JSON.parse('{"constructor":{"values":[{"stacktrace":{"frames":[{"vars":{"a":"x"}}]}}]},"exception":{"values":[{"stacktrace":{"frames":[{"vars":{"a":"x"}}]}}]}}');
    const custom = compileScrubber(
      relayConfigSchema.parse({
        projects: { "1": { keys: ["0123456789abcdef0123456789abcdef"], archive: true, scrub: { defaults: false, scrubIpAddresses: false, rules: [{ selector: "$frame.vars.a", rule: "@anything" }] } } },
      }).projects["1"]!.scrub,
    );
    expect(scrubJson(event, custom, "event")).toEqual({
      constructor: { values: [{ stacktrace: { frames: [{ vars: { a: "x" } }] } }] },
      exception: { values: [{ stacktrace: { frames: [{ vars: { a: "[redacted]" } }] } }] },
    });
  });
});

describe("the default pattern rules, skipped by their gates", () => {
  // A rule without a gate may write text that opens a later rule's gate: the later rules then read the new text.
  const hostRule: PatternRule = {
    kind: "pattern",
    id: "host",
    find: (text) => {
      const at = text.indexOf("HOST");
      return at < 0 ? undefined : [at, at + 4];
    },
    method: { kind: "replace", text: "10.0.0.1" },
  };
  const custom: Scrubber = { ...scrubber, defaults: [hostRule, builtinRule("@ip") as PatternRule] };

  it("run the gated rules on what an ungated rule wrote", () => {
    expect(scrubJson({ message: "from HOST now" }, custom, "event")).toEqual({ message: "from [ip] now" });
  });

  it("leave a string that opens no gate as it was, and scrub the same long text alike each time it recurs", () => {
    const line = "a line of source text that repeats, sent from 10.0.0.1 twice";
    const event = { a: "plain words only", b: [line, line], c: { d: line } };
    expect(scrubJson(event, scrubber, "event")).toEqual({
      a: "plain words only",
      b: [line.replace("10.0.0.1", "[ip]"), line.replace("10.0.0.1", "[ip]")],
      c: { d: line.replace("10.0.0.1", "[ip]") },
    });
    const unchanged = { a: "plain words only", b: ["the same long line with nothing in it", "the same long line with nothing in it"] };
    expect(scrubJson(unchanged, scrubber, "event")).toBe(unchanged);
  });
});
