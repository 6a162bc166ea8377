import { describe, expect, it } from "vitest";
import { relayConfigSchema } from "../../src/config/schema";
import { compileScrubber } from "../../src/scrub/compile";
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
