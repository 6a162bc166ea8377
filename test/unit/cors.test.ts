import { describe, expect, it } from "vitest";
import { originAllowed, requestOrigin } from "../../src/ingest/cors";

describe("originAllowed", () => {
  it.each([
    ["https://app.example.com", ["*"], true],
    ["https://app.example.com", ["https://app.example.com"], true],
    ["http://app.example.com", ["https://app.example.com"], false],
    ["https://app.example.com:8443", ["https://app.example.com"], false],
    ["https://app.example.com:8443", ["https://app.example.com:8443"], true],
    ["https://evil.com", ["https://app.example.com"], false],
    ["https://a.b.example.com", ["*.example.com"], true],
    ["https://example.com", ["*.example.com"], true],
    ["https://notexample.com", ["*.example.com"], false],
    ["http://a.example.com", ["https://*.example.com"], false],
    ["https://a.example.com", ["https://*.example.com"], true],
    ["null", ["https://app.example.com"], false],
    ["null", ["*"], true],
  ])("%s against %j is %s", (origin, allowed, expected) => {
    expect(originAllowed(origin, allowed)).toBe(expected);
  });

  it("reads Origin, else the Referer's origin", () => {
    expect(requestOrigin(new Headers({ origin: "https://a.com" }))).toBe("https://a.com");
    expect(requestOrigin(new Headers({ referer: "https://b.com/page?x=1" }))).toBe("https://b.com");
    expect(requestOrigin(new Headers({ referer: "garbage" }))).toBeUndefined();
    expect(requestOrigin(new Headers())).toBeUndefined();
  });
});
