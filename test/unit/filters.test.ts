import { describe, expect, it } from "vitest";
import { inboundFilter, type FilterConfig } from "../../src/filters/inbound";
import { globMatcher } from "../../src/filters/globs";

const none: FilterConfig = { localhost: false, browserExtensions: false, webCrawlers: false, legacyBrowsers: false, healthChecks: false, errorMessages: [], releases: [] };
const all: FilterConfig = { ...none, localhost: true, browserExtensions: true, webCrawlers: true, legacyBrowsers: true, healthChecks: true };
const ua = (agent: string) => ({ request: { url: "https://app.example.com/", headers: { "User-Agent": agent } } });
const error = (type: string, value: string, absPath?: string) => ({
  exception: { values: [{ type, value, ...(absPath ? { stacktrace: { frames: [{ abs_path: "https://app.example.com/app.js" }, { abs_path: absPath }] } } : {}) }] },
});

type Case = [string, Record<string, unknown>, FilterConfig, string | undefined, string?];

const cases: Case[] = [
  ["localhost URL", { request: { url: "http://localhost:3000/x" } }, all, "localhost"],
  ["127.0.0.1 user IP", { user: { ip_address: "127.0.0.1" } }, all, "localhost"],
  ["*.localhost host", { request: { url: "http://app.localhost/" } }, all, "localhost"],
  ["a real host is not local", { request: { url: "https://app.example.com/" }, user: { ip_address: "73.133.27.120" } }, all, undefined],
  ["localhost kept when the filter is off", { request: { url: "http://localhost/" } }, none, undefined],
  ["extension frame", error("TypeError", "x is undefined", "chrome-extension://abcdef/content.js"), all, "browser-extensions"],
  ["moz-extension frame", error("TypeError", "x", "moz-extension://1234/inject.js"), all, "browser-extensions"],
  ["known extension message", error("ReferenceError", "Can't find variable: ZiteReader"), all, "browser-extensions"],
  ["extension receiving end", error("Error", "Could not establish connection. Receiving end does not exist."), all, "browser-extensions"],
  ["app frames are not extensions", error("TypeError", "x is undefined", "https://app.example.com/main.js"), all, undefined],
  ["Googlebot", ua("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"), all, "web-crawlers"],
  ["Bingbot", ua("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"), all, "web-crawlers"],
  ["headers as pairs", { request: { headers: [["user-agent", "Slackbot-LinkExpanding 1.0"]] } }, all, "web-crawlers"],
  ["Chrome is not a crawler", ua("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"), all, undefined],
  ["IE 11", ua("Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) like Gecko"), all, "legacy-browsers"],
  ["IE 9", ua("Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0)"), all, "legacy-browsers"],
  ["Opera Presto", ua("Opera/9.80 (Windows NT 6.1) Presto/2.12.388 Version/12.18"), all, "legacy-browsers"],
  ["Safari 11", ua("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_13_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/11.1.2 Safari/605.1.15"), all, "legacy-browsers"],
  ["Safari 17 is current", ua("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"), all, undefined],
  ["Firefox 60", ua("Mozilla/5.0 (X11; Linux x86_64; rv:60.0) Gecko/20100101 Firefox/60.0"), all, "legacy-browsers"],
  ["Firefox 133 is current", ua("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"), all, undefined],
  ["Chrome 49", ua("Mozilla/5.0 (Windows NT 5.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/49.0.2623.112 Safari/537.36"), all, "legacy-browsers"],
  ["legacy browsers kept when off", ua("Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) like Gecko"), { ...all, legacyBrowsers: false }, undefined],
  ["error message glob", error("ValueError", "connection reset by peer"), { ...none, errorMessages: ["*connection reset*"] }, "error-message"],
  ["error message glob on the message", { logentry: { formatted: "Cache miss for key 42" } }, { ...none, errorMessages: ["cache miss*"] }, "error-message"],
  ["error message glob that does not match", error("ValueError", "bad input"), { ...none, errorMessages: ["*connection reset*"] }, undefined],
  ["release glob", { release: "web@1.0.0-beta.3" }, { ...none, releases: ["*-beta*"] }, "release-version"],
  ["release glob that does not match", { release: "web@1.0.0" }, { ...none, releases: ["*-beta*"] }, undefined],
  ["health check transaction", { transaction: "GET /healthz" }, all, "filtered-transaction", "transaction"],
  ["readiness transaction", { transaction: "/api/ready" }, all, "filtered-transaction", "transaction"],
  ["ordinary transaction", { transaction: "GET /api/orders" }, all, undefined, "transaction"],
  ["health-check globs apply to transactions only", { transaction: "/healthz", message: "x" }, all, undefined, "event"],
];

describe("inbound filters", () => {
  it.each(cases)("%s", (_name, event, config, expected, itemType = "event") => {
    expect(inboundFilter(event, itemType, config)).toBe(expected);
  });
});

describe("globs", () => {
  it.each([
    ["*-beta*", "1.0-beta.2", true],
    ["web@1.?.0", "web@1.2.0", true],
    ["web@1.?.0", "web@1.22.0", false],
    ["Timeout*", "timeout after 30s", true],
    ["a.b", "aXb", false],
  ])("%s on %s is %s", (glob, text, expected) => expect(globMatcher(glob)(text)).toBe(expected));
});
