import { describe, expect, it } from "vitest";
import { fingerprint, fingerprintComponents, normalizeFile, normalizeMessage } from "../../src/spike/fingerprint";

const frame = (fn: string, file: string, line: number, inApp?: boolean, module?: string) => ({
  function: fn, filename: file, lineno: line, colno: 3, ...(inApp === undefined ? {} : { in_app: inApp }), ...(module ? { module } : {}),
});
const error = (type: string, value: string, frames: unknown[] = []) => ({
  exception: { values: [{ type, value, ...(frames.length ? { stacktrace: { frames } } : {}) }] },
});
const appFrames = [frame("main", "/srv/app/index.js", 10, true), frame("handle", "/srv/app/routes.js", 20, true), frame("lodash.get", "/srv/app/node_modules/lodash/get.js", 5, false)];

describe("fingerprints: the same bug agrees", () => {
  it.each<[string, unknown, unknown]>([
    ["line numbers moved", error("TypeError", "x", appFrames), error("TypeError", "x", appFrames.map((f) => ({ ...f, lineno: f.lineno + 7, colno: 99 })))],
    ["the exception value differs when frames exist", error("TypeError", "cannot read 'a'", appFrames), error("TypeError", "cannot read 'b'", appFrames)],
    ["library frames differ", error("TypeError", "x", appFrames), error("TypeError", "x", [...appFrames.slice(0, 2), frame("other", "/srv/app/node_modules/x/y.js", 1, false)])],
    ["numbers in the message", error("NotFound", "user 42 not found"), error("NotFound", "user 7 not found")],
    ["UUIDs in the message", error("E", "order 550e8400-e29b-41d4-a716-446655440000 failed"), error("E", "order 123e4567-e89b-12d3-a456-426614174000 failed")],
    ["hex ids in the message", error("E", "object 5f3a9c0e12ab missing"), error("E", "object 0a1b2c3d4e5f missing")],
    ["emails in the message", error("E", "no account for jane@example.com"), error("E", "no account for bob@example.org")],
    ["timestamps in the message", error("E", "expired at 2026-11-23T08:00:00Z"), error("E", "expired at 2025-01-02T03:04:05.123+01:00")],
    ["quoted values in the message", error("KeyError", `missing key "alpha"`), error("KeyError", `missing key "beta"`)],
    ["log messages with different parameters", { logentry: { message: "Payment %s failed", formatted: "Payment 1 failed" } }, { logentry: { message: "Payment %s failed", formatted: "Payment 2 failed" } }],
    ["plain messages with different numbers", { message: "retry 3 of 5" }, { message: "retry 4 of 5" }],
    ["bundle hashes in file names", error("E", "x", [frame("f", "https://cdn.example.com/assets/app.3fa2b1c9.js", 1, true)]), error("E", "x", [frame("f", "https://cdn.example.com/assets/app.9c0e12ab.js?v=2", 1, true)])],
    ["different hosts serving the same file", error("E", "x", [frame("f", "https://a.example.com/main.js", 1, true)]), error("E", "x", [frame("f", "https://b.example.com/main.js", 1, true)])],
    ["a chain with the same root cause and another wrapper", { exception: { values: [{ type: "IOError", value: "disk full" }, { type: "WrapperA", value: "x" }] } }, { exception: { values: [{ type: "IOError", value: "disk full" }, { type: "WrapperB", value: "y" }] } }],
    ["custom fingerprint ignoring everything else", { fingerprint: ["db-timeout"], message: "a" }, { fingerprint: ["db-timeout"], exception: { values: [{ type: "X" }] } }],
    ["{{ default }} expands the same way", { fingerprint: ["{{ default }}", "tenant"], message: "retry 1" }, { fingerprint: ["{{default}}", "tenant"], message: "retry 2" }],
    ["module wins over file name", error("E", "x", [frame("f", "/build/1/a.py", 1, true, "app.views")]), error("E", "x", [frame("f", "/build/2/a.py", 9, true, "app.views")])],
  ])("%s", (_name, a, b) => {
    expect(fingerprint(a as object)).toBe(fingerprint(b as object));
  });
});

describe("fingerprints: different bugs differ", () => {
  it.each<[string, unknown, unknown]>([
    ["different exception types", error("TypeError", "x", appFrames), error("RangeError", "x", appFrames)],
    ["different in-app functions", error("TypeError", "x", appFrames), error("TypeError", "x", [appFrames[0], frame("other", "/srv/app/routes.js", 20, true)])],
    ["different in-app files", error("TypeError", "x", appFrames), error("TypeError", "x", [appFrames[0], frame("handle", "/srv/app/admin.js", 20, true)])],
    ["different messages without frames", error("E", "user not found"), error("E", "order not found")],
    ["different log templates", { logentry: { message: "Payment %s failed" } }, { logentry: { message: "Refund %s failed" } }],
    ["a different root cause", { exception: { values: [{ type: "IOError", value: "disk full" }, { type: "W" }] } }, { exception: { values: [{ type: "Timeout", value: "slow" }, { type: "W" }] } }],
    ["custom fingerprints", { fingerprint: ["a"] }, { fingerprint: ["b"] }],
    ["{{ default }} plus a different extra part", { fingerprint: ["{{ default }}", "eu"], message: "m" }, { fingerprint: ["{{ default }}", "us"], message: "m" }],
    ["error versus message", error("E", "boom"), { message: "boom" }],
  ])("%s", (_name, a, b) => {
    expect(fingerprint(a as object)).not.toBe(fingerprint(b as object));
  });
});

describe("fingerprint components", () => {
  it("use only in-app frames when the SDK marked any", () => {
    expect(fingerprintComponents(error("TypeError", "x", appFrames))).toEqual(["type:TypeError", "frame:srv/app/index.js|main", "frame:srv/app/routes.js|handle"]);
  });
  it("use every frame not marked as library code when none is marked in-app", () => {
    expect(fingerprintComponents(error("E", "x", [frame("a", "/x/a.js", 1), frame("b", "/x/b.js", 2, false)]))).toEqual(["type:E", "frame:x/a.js|a"]);
  });
  it("use the normalized value when there are no frames", () => {
    expect(fingerprintComponents(error("NotFound", "user 42 not found"))).toEqual(["type:NotFound", "value:user <num> not found"]);
  });
  it("expand {{ default }} in place", () => {
    expect(fingerprintComponents({ fingerprint: ["pre", "{{ default }}"], message: "m 1" })).toEqual(["custom:pre", "message:m <num>"]);
  });
  it("is a 32-hex digest", () => {
    expect(fingerprint({ message: "x" })).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe("normalizers", () => {
  it.each([
    ["user 42 not found", "user <num> not found"],
    ["took 12.5 ms", "took <num> ms"],
    ["id 5f3a9c0e12ab", "id <hex>"],
    ["facade decade", "facade decade"],
    ["at 10:32:01 today", "at <time> today"],
    ["key 'x' and \"y\"", "key <quoted> and <quoted>"],
  ])("%s", (input, expected) => expect(normalizeMessage(input)).toBe(expected));

  it.each([
    ["https://cdn.example.com/assets/app.3fa2b1c9.js?v=2#x", "assets/app.<hash>.js"],
    ["/srv/app/index.js", "srv/app/index.js"],
    ["app:///main.bundle.js", "main.bundle.js"],
  ])("file %s", (input, expected) => expect(normalizeFile(input)).toBe(expected));
});
