import { describe, expect, it } from "vitest";
import { eventOf, header, readEvent, tag, type Frame } from "../../src/event";
import { field } from "../../src/event/read";
import { inboundFilter, type FilterConfig } from "../../src/filters/inbound";
import { storeEventToEnvelope } from "../../src/ingest/store";
import { fingerprintComponents } from "../../src/spike/fingerprint";

const all: FilterConfig = {
  localhost: true, browserExtensions: true, webCrawlers: true, legacyBrowsers: true, healthChecks: true,
  errorMessages: ["*connection reset*"], releases: ["*-beta*"],
};

/** What the stages read from one event, in one object the table compares against. */
function reads(json: unknown) {
  const event = readEvent(json);
  return {
    exceptions: event.exceptions.map((e) => ({ type: e.type, value: e.value, frames: (e.stacktrace?.frames ?? []).map(frameName) })),
    message: event.logentry?.formatted ?? event.logentry?.message,
    userAgent: header(event.request, "user-agent"),
    traceId: event.trace_id,
    components: fingerprintComponents(event),
    filter: inboundFilter(event, "event", all) ?? "kept",
    storedAs: storeEventToEnvelope(json as Record<string, unknown>, new Date(0)).items[0]!.header.type,
  };
}

const frameName = (f: Frame) => f.abs_path ?? f.filename ?? f.function ?? "?";

const appFrame = { function: "handle", filename: "app.js", in_app: true };
const extensionFrame = { function: "inject", abs_path: "chrome-extension://abc/content.js" };

type Case = [name: string, event: unknown, expected: Partial<ReturnType<typeof reads>>];

const shapes: Case[] = [
  // exception
  ["exception as a bare list (raven v2)", { exception: [{ type: "TypeError", value: "x is undefined", stacktrace: { frames: [appFrame] } }] },
    { exceptions: [{ type: "TypeError", value: "x is undefined", frames: ["app.js"] }], components: ["type:TypeError", "frame:app.js|handle"], filter: "kept" }],
  ["exception as a bare list from an extension", { exception: [{ type: "TypeError", value: "x", stacktrace: { frames: [appFrame, extensionFrame] } }] },
    { filter: "browser-extensions" }],
  ["exception as {values}", { exception: { values: [{ type: "ValueError", value: "connection reset by peer" }] } },
    { exceptions: [{ type: "ValueError", value: "connection reset by peer", frames: [] }], filter: "error-message" }],
  ["exception {values: null}", { exception: { values: null }, message: "m 1" },
    { exceptions: [], components: ["message:m <num>"], filter: "kept" }],
  ["exception as one object without values", { exception: { type: "KeyError", value: "'a'" } },
    { exceptions: [{ type: "KeyError", value: "'a'", frames: [] }], components: ["type:KeyError", "value:<quoted>"] }],
  ["exception as an empty object", { exception: {} }, { exceptions: [], components: ["other:"] }],
  ["exception as a string", { exception: "boom", transaction: "/checkout" }, { exceptions: [], components: ["other:/checkout"] }],
  ["sentry.interfaces.Exception", { "sentry.interfaces.Exception": { values: [{ type: "E", value: "v" }] } },
    { exceptions: [{ type: "E", value: "v", frames: [] }] }],
  ["sentry.interfaces.Stacktrace inside an exception", { "sentry.interfaces.Exception": [{ type: "E", "sentry.interfaces.Stacktrace": { frames: [extensionFrame] } }] },
    { exceptions: [{ type: "E", value: undefined, frames: ["chrome-extension://abc/content.js"] }], filter: "browser-extensions" }],
  ["exception value that is a number", { exception: [{ type: "Code", value: 42 }] },
    { exceptions: [{ type: "Code", value: "42", frames: [] }], components: ["type:Code", "value:<num>"] }],
  ["exception type of the wrong type, mechanism names it", { exception: [{ type: 5, value: "v", mechanism: { type: "onerror" } }] },
    { components: ["type:onerror", "value:v"] }],
  // stack traces
  ["top-level stacktrace", { exception: [{ type: "E" }], stacktrace: { frames: [appFrame] } },
    { components: ["type:E", "frame:app.js|handle"] }],
  ["sentry.interfaces.Stacktrace at the top", { exception: [{ type: "E" }], "sentry.interfaces.Stacktrace": { frames: [appFrame] } },
    { components: ["type:E", "frame:app.js|handle"] }],
  ["threads as a list, the crashed one's frames", { exception: [{ type: "E" }], threads: [{ crashed: false, stacktrace: { frames: [{ function: "idle", filename: "w.js" }] } }, { crashed: true, stacktrace: { frames: [appFrame] } }] },
    { components: ["type:E", "frame:app.js|handle"] }],
  ["threads as {values}", { exception: { values: [{ type: "E" }] }, threads: { values: [{ crashed: true, stacktrace: { frames: [appFrame] } }] } },
    { components: ["type:E", "frame:app.js|handle"] }],
  ["null and wrong-typed frames", { exception: [{ type: "E", stacktrace: { frames: [null, 5, "x", { function: 7, filename: "a.js", in_app: "yes" }] } }] },
    { exceptions: [{ type: "E", value: undefined, frames: ["a.js"] }], components: ["type:E", "frame:a.js|?"] }],
  ["frames: null", { exception: [{ type: "E", value: "v", stacktrace: { frames: null } }] },
    { exceptions: [{ type: "E", value: "v", frames: [] }], components: ["type:E", "value:v"] }],
  // messages
  ["message as a string", { message: "retry 3 of 5" }, { message: "retry 3 of 5", components: ["message:retry <num> of <num>"] }],
  ["message as {message, params, formatted}", { message: { message: "Payment %s failed", params: [7], formatted: "Payment 7 failed" } },
    { message: "Payment 7 failed", components: ["message:Payment %s failed"] }],
  ["logentry", { logentry: { message: "Cache miss %s", formatted: "Cache miss 42" } }, { message: "Cache miss 42", components: ["message:Cache miss %s"] }],
  ["sentry.interfaces.Message", { "sentry.interfaces.Message": { message: "Refund %s failed", params: ["x"] } },
    { message: "Refund %s failed", components: ["message:Refund %s failed"] }],
  ["logentry wins over a legacy message", { logentry: { formatted: "new" }, message: "old" }, { message: "new" }],
  ["message that is a number", { message: 42 }, { message: "42" }],
  ["message false", { message: false }, { message: undefined, components: ["other:"] }],
  // request, user, contexts
  ["headers as an object", { request: { headers: { "User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1)" } } },
    { userAgent: "Mozilla/5.0 (compatible; Googlebot/2.1)", filter: "web-crawlers" }],
  ["headers as a list of pairs, junk pairs skipped", { request: { headers: [null, ["user-agent"], [1, "x"], ["user-agent", "Slackbot 1.0"]] } },
    { userAgent: "Slackbot 1.0", filter: "web-crawlers" }],
  ["a header value that is a list", { request: { headers: { "user-agent": ["a", "b"] } } }, { userAgent: "a,b" }],
  ["sentry.interfaces.Http", { "sentry.interfaces.Http": { url: "http://localhost:3000/x", headers: [["User-Agent", "curl/8"]] } },
    { userAgent: "curl/8", filter: "localhost" }],
  ["request as a list", { request: [["url", "http://localhost/"]] }, { userAgent: undefined, filter: "kept" }],
  ["sentry.interfaces.User", { "sentry.interfaces.User": { ip_address: "127.0.0.1" } }, { filter: "localhost" }],
  ["user as a string", { user: "127.0.0.1" }, { filter: "kept" }],
  ["contexts.trace.trace_id", { contexts: { trace: { trace_id: "a".repeat(32) } } }, { traceId: "a".repeat(32) }],
  ["sentry.interfaces.Contexts", { "sentry.interfaces.Contexts": { trace: { trace_id: "b".repeat(32) } } }, { traceId: "b".repeat(32) }],
  ["trace_id that is a number", { contexts: { trace: { trace_id: 12 } } }, { traceId: undefined }],
  // fingerprint, release, type
  ["fingerprint with numbers, booleans and nulls", { fingerprint: ["db", 7, 1.9, true, null, { a: 1 }] },
    { components: ["custom:db", "custom:7", "custom:1", "custom:True"] }],
  ["fingerprint of nothing usable falls back", { fingerprint: [null], message: "m" }, { components: ["message:m"] }],
  ["release that is a number", { release: 2, message: "m" }, { filter: "kept" }],
  ["release matching a glob", { release: "web@2.0.0-beta.1" }, { filter: "release-version" }],
  ["type transaction", { type: "transaction", transaction: "/x" }, { storedAs: "transaction" }],
  ["type feedback", { type: "feedback" }, { storedAs: "feedback" }],
  ["type of the wrong type", { type: ["transaction"] }, { storedAs: "event" }],
  // arbitrary junk
  ["arrays where objects are expected", { request: [], user: [], contexts: [], exception: [[]], threads: [[]], logentry: [] },
    { exceptions: [], userAgent: undefined, traceId: undefined, message: "[]", filter: "kept" }],
  ["not an object at all", [1, 2, 3], { exceptions: [], components: ["other:"], filter: "kept" }],
];

describe("the event read model: one case per shape", () => {
  it.each(shapes)("%s", (_name, event, expected) => {
    expect(reads(event)).toMatchObject(expected);
  });
});

describe("the event read model: keys that name prototype members", () => {
  const parsed = JSON.parse(`{
    "__proto__": { "exception": [{ "type": "Polluted" }], "ip_address": "127.0.0.1" },
    "constructor": "x",
    "user": { "__proto__": { "ip_address": "127.0.0.1" }, "toString": 1 },
    "request": { "headers": { "__proto__": "a", "constructor": "b", "hasOwnProperty": "c" } },
    "exception": { "constructor": 1 },
    "tags": { "__proto__": "p", "valueOf": 2 }
  }`);

  it("are own keys like any other and never reach Object.prototype", () => {
    const event = readEvent(parsed);
    expect(event.exceptions).toEqual([{ type: undefined, value: undefined, module: undefined, mechanism: undefined, stacktrace: undefined }]);
    expect(event.user?.ip_address).toBeUndefined();
    expect(event.request?.headers).toEqual([["__proto__", "a"], ["constructor", "b"], ["hasOwnProperty", "c"]]);
    expect(tag(event, "__proto__")).toBe("p");
    expect(tag(event, "valueOf")).toBe("2");
    expect(inboundFilter(event, "event", all)).toBeUndefined();
    expect(fingerprintComponents(event)).toEqual(["other:"]);
    expect(({} as Record<string, unknown>).ip_address).toBeUndefined();
  });

  it("reads a lone `values` key of a list as the list's own absence, not Array.prototype.values", () => {
    const event = readEvent({ exception: [{ type: "E" }], breadcrumbs: [{ message: "clicked" }] });
    expect(event.exceptions.map((e) => e.type)).toEqual(["E"]);
    expect(event.breadcrumbs.map((b) => b.message)).toEqual(["clicked"]);
  });
});

describe("the event read model: field names", () => {
  it("refuses names every object inherits, at compile time", () => {
    // @ts-expect-error `constructor` is inherited by every object: reading it would find Object, not the payload
    expect(field({}, "constructor")).toBe(Object);
    expect(field({ constructor: "own" }, "frames")).toBeUndefined();
  });
});

describe("the event read model: other legacy interfaces", () => {
  it("breadcrumbs as a list, as {values} and as sentry.interfaces.Breadcrumbs", () => {
    for (const json of [
      { breadcrumbs: [{ category: "ui", message: "click", level: "info" }] },
      { breadcrumbs: { values: [{ category: "ui", message: "click", level: "info" }] } },
      { "sentry.interfaces.Breadcrumbs": { values: [{ category: "ui", message: "click", level: 20 }] } },
    ]) {
      expect(readEvent(json).breadcrumbs).toEqual([{ type: undefined, category: "ui", message: "click", level: "info" }]);
    }
  });

  it("tags as an object and as a list of pairs, values lenient, keys trimmed with spaces as dashes", () => {
    expect(readEvent({ tags: { "build id": 7, env: " prod " } }).tags).toEqual([["build-id", "7"], ["env", "prod"]]);
    expect(readEvent({ tags: [["build id", 7], ["env", "prod"], ["only-key"], null] }).tags).toEqual([["build-id", "7"], ["env", "prod"]]);
  });

  it("sentry.interfaces.Template", () => {
    expect(readEvent({ "sentry.interfaces.Template": { filename: "a.html", abs_path: "/t/a.html", lineno: 3 } }).template)
      .toEqual({ filename: "a.html", abs_path: "/t/a.html", lineno: 3 });
  });

  it("levels by name and by Python's numbers; anything else is absent", () => {
    expect(["warning", "critical", "log", 40, 50, "loud", 41, null].map((level) => readEvent({ level }).level))
      .toEqual(["warning", "fatal", "info", "error", "fatal", undefined, undefined, undefined]);
  });

  it("security interfaces by name and by legacy name", () => {
    expect(readEvent({ "sentry.interfaces.Csp": { blocked_uri: "x" } }).security_report).toBe("csp");
    expect(readEvent({ expectct: { hostname: "x" } }).security_report).toBe("expectct");
    expect(readEvent({ csp: "not an interface" }).security_report).toBeUndefined();
  });

  it("is built once per item, and a model is read as itself", () => {
    const item = { header: { type: "event" }, payload: new TextEncoder().encode('{"message":"m"}') };
    expect(eventOf(item)).toBe(eventOf(item));
    expect(eventOf(item)?.logentry?.formatted).toBe("m");
    expect(eventOf({ header: { type: "event" }, payload: new TextEncoder().encode("[1]") })).toBeUndefined();
    const model = readEvent({ message: "m" });
    expect(readEvent(model)).toBe(model);
  });
});
