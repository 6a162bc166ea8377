import { describe, expect, it } from "vitest";
import { scrub, scrubText } from "./support/scrub-config";

/**
 * Where an IP may stand (issue 11): not inside a dotted version, i.e. not after
 * `/`, `-`, `@`, `v` or any letter, nor before `-` or a letter. With the
 * default config (IP scrubbing on).
 */
const mustSurvive: [string, string][] = [
  ["Chrome", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"],
  ["Edge", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86"],
  ["Firefox", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"],
  ["Safari", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"],
  ["Chrome on Android", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36"],
  ["Node", "node/v20.11.1 linux x64"],
  ["Node's V8 version", "11.3.244.8-node.38"],
  ["a v-prefixed 4-part version", "upgraded to v2.1.0.4"],
  ["a release name", "deployed web@2.1.0.4"],
  ["a 5-part build number", "build 1.2.3.4.5"],
  ["a Windows build", "Windows 10.0.19045.3803"],
  ["an OS version", "10.0.19045"],
  ["semver with build metadata", "1.2.3+build.4.5.6.7"],
  ["semver with a prerelease", "2.0.0-rc.1.2.3"],
  ["a version before a dash", "10.0.0.1-beta"],
  ["a version before a letter", "10.0.0.1a"],
  ["an octet over 255", "build 10.0.0.1234"],
  ["a time", "at 12:30:45.123"],
  ["a MAC address", "00:1A:2B:3C:4D:5E"],
  ["a C++ scope", "std::vector<int>::iterator"],
  ["a bare ::", "a :: b"],
  ["a decimal", "ratio 0.5 of 1.25"],
];

const mustScrub: [string, string, string][] = [
  ["a public IPv4", "73.133.27.120", "[ip]"],
  ["an IPv4 in a sentence", "GET from 10.20.30.40 ok", "GET from [ip] ok"],
  ["an IPv4 with a port", "from 10.0.0.1:8080", "from [ip]:8080"],
  ["an IPv4 closing a sentence", "connection from 10.0.0.1.", "connection from [ip]."],
  ["an IPv4 in quotes and brackets", `ip "10.0.0.1" (192.168.1.1) [8.8.8.8]`, `ip "[ip]" ([ip]) [[ip]]`],
  ["an IPv4 after = and :", "client=10.0.0.1 peer:10.0.0.2", "client=[ip] peer:[ip]"],
  ["a CIDR block", "10.0.0.0/8", "[ip]/8"],
  ["a list", "1.2.3.4, 5.6.7.8", "[ip], [ip]"],
  ["IPv6 loopback in brackets", "[::1]", "[[ip]]"],
  ["IPv6 with a port", "[2001:db8::1]:443", "[[ip]]:443"],
  ["IPv6 full", "from 2001:0db8:85a3:0000:0000:8a2e:0370:7334 today", "from [ip] today"],
  ["IPv6 compressed", "peer ::1 closed", "peer [ip] closed"],
  ["IPv6 link-local with a zone", "fe80::1%eth0 up", "[ip] up"],
  ["IPv4-mapped IPv6", "::ffff:192.168.0.1", "[ip]"],
  ["IPv6 before a colon", "peer fe80::1: closed", "peer [ip]: closed"],
  ["IPv4 before a colon", "peer 10.0.0.1: closed", "peer [ip]: closed"],
  ["a URL's host", "GET http://73.133.27.120/x.js failed", "GET http://[ip]/x.js failed"],
];

describe("IPs: what must survive", () => {
  it.each(mustSurvive)("%s: %s", (_name, text) => {
    expect(scrubText(text)).toBe(text);
  });

  it("a user agent header and tags keep their versions", () => {
    const event = {
      request: { headers: { "User-Agent": mustSurvive[0]![1] } },
      tags: { "app.version": "v2.1.0.4", release: "2.1.0.4" },
      contexts: { runtime: { name: "node", version: "v20.11.1" }, "node.engine": { version: "11.3.244.8-node.38" } },
    };
    expect(scrub(event)).toBe(event);
  });

  it("a bare 4-part build number under a key that names a version or release", () => {
    const event = {
      tags: { "app.version": "2.1.0.4", "sentry.release": "2.1.0.4", browser_version: "120.0.0.0" },
      contexts: { app: { app_version: "2.1.0.4" }, os: { build: "10.0.19045.3803" } },
      extra: { upstream: "10.0.0.1" },
    };
    expect(scrub(event)).toEqual({ ...event, extra: { upstream: "[ip]" } });
  });
});

describe("IPs: what must be scrubbed", () => {
  it.each(mustScrub)("%s: %s", (_name, text, expected) => {
    expect(scrubText(text)).toBe(expected);
  });
});
