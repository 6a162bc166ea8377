import { describe, expect, it } from "vitest";
import { RelayError } from "../../src/http/errors";
import { securityReportsToEvents } from "../../src/ingest/security";

const ctx = { userAgent: "Mozilla/5.0 Test", environment: "prod", release: "web@1.2.3", now: new Date("2026-11-23T08:00:00Z") };

describe("securityReportsToEvents", () => {
  it("normalizes a report-uri CSP report", () => {
    const [event] = securityReportsToEvents({
      "csp-report": {
        "document-uri": "https://app.example.com/page",
        referrer: "",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "original-policy": "script-src 'self'",
        "blocked-uri": "https://evil.example.net/x.js",
        "status-code": 200,
        "line-number": 10,
      },
    }, ctx);
    expect(event).toMatchObject({
      logentry: { formatted: "Blocked 'script' from 'evil.example.net'" },
      culprit: "script-src-elem",
      level: "error",
      logger: "csp",
      environment: "prod",
      release: "web@1.2.3",
      csp: {
        document_uri: "https://app.example.com/page",
        effective_directive: "script-src-elem",
        blocked_uri: "https://evil.example.net/x.js",
        status_code: 200,
        line_number: 10,
      },
      request: { url: "https://app.example.com/page", headers: [["User-Agent", "Mozilla/5.0 Test"]] },
      tags: [["effective-directive", "script-src-elem"], ["blocked-uri", "https://evil.example.net/x.js"]],
    });
    expect(event!.event_id).toMatch(/^[0-9a-f]{32}$/);
    expect(event!.csp).not.toHaveProperty("referrer");
  });

  it.each([
    ["inline", "style-src", "Blocked unsafe inline 'style'"],
    ["eval", "script-src", "Blocked unsafe eval() 'script'"],
    ["", "img-src", "Blocked 'image'"],
    ["data", "font-src", "Blocked 'font' from 'data'"],
  ])("names blocked-uri %j under %s", (blocked, directive, message) => {
    const [event] = securityReportsToEvents({ "csp-report": { "blocked-uri": blocked, "violated-directive": directive } }, ctx);
    expect(event!.logentry).toEqual({ formatted: message });
  });

  it("takes the directive from violated-directive when effective-directive is missing", () => {
    const [event] = securityReportsToEvents({ "csp-report": { "violated-directive": "img-src 'self'", "blocked-uri": "https://x.test/a.png" } }, ctx);
    expect(event!.csp).toMatchObject({ effective_directive: "img-src" });
  });

  it("turns a Reporting API batch into one event per csp-violation", () => {
    const events = securityReportsToEvents([
      { type: "csp-violation", url: "https://app.example.com/a", body: { documentURL: "https://app.example.com/a", blockedURL: "https://cdn.bad/x.js", effectiveDirective: "script-src-elem", originalPolicy: "script-src 'self'", disposition: "enforce", statusCode: 200, sample: "" } },
      { type: "deprecation", url: "https://app.example.com/a", body: { id: "x" } },
      { type: "csp-violation", url: "https://app.example.com/b", body: { blockedURL: "inline", effectiveDirective: "style-src-attr" } },
    ], ctx);
    expect(events).toHaveLength(2);
    expect(events[0]!.csp).toMatchObject({ document_uri: "https://app.example.com/a", blocked_uri: "https://cdn.bad/x.js", disposition: "enforce" });
    expect(events[1]!.csp).toMatchObject({ document_uri: "https://app.example.com/b" });
    expect(events[1]!.logentry).toEqual({ formatted: "Blocked unsafe inline 'style'" });
  });

  it("normalizes Expect-CT, Expect-Staple and HPKP reports", () => {
    const [ct] = securityReportsToEvents({ "expect-ct-report": { "date-time": "2026-11-23T08:00:00Z", hostname: "www.example.com", port: 443, "effective-expiration-date": "2026-12-01T00:00:00Z", scts: [] } }, ctx);
    expect(ct).toMatchObject({ expectct: { hostname: "www.example.com", port: 443, date_time: "2026-11-23T08:00:00Z" }, logentry: { formatted: "Expect-CT failed for 'www.example.com'" }, culprit: "www.example.com" });
    const [staple] = securityReportsToEvents({ "expect-staple-report": { hostname: "www.example.com", "response-status": "ERROR_RESPONSE" } }, ctx);
    expect(staple).toMatchObject({ expectstaple: { response_status: "ERROR_RESPONSE" }, logentry: { formatted: "Expect-Staple failed for 'www.example.com'" } });
    const [hpkp] = securityReportsToEvents({ "date-time": "2026-11-23T08:00:00Z", hostname: "www.example.com", port: 443, "include-subdomains": false, "known-pins": ['pin-sha256="x"'] }, ctx);
    expect(hpkp).toMatchObject({ hpkp: { hostname: "www.example.com", include_subdomains: false, known_pins: ['pin-sha256="x"'] }, logentry: { formatted: "Public key pinning validation failed for 'www.example.com'" } });
  });

  it.each([[{}], [[]], [{ "csp-report": "x" }], ["text"], [[{ type: "deprecation", body: {} }]], [{ "csp-report": {} }]])("refuses %j", (body) => {
    expect(() => securityReportsToEvents(body, ctx)).toThrowError(RelayError);
    try {
      securityReportsToEvents(body, ctx);
    } catch (err) {
      expect((err as RelayError).status).toBe(400);
      expect((err as RelayError).detail).toMatch(/^invalid security report/);
    }
  });
});
