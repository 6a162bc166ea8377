import { describe, expect, it } from "vitest";
import { RelayError } from "../../src/http/errors";
import { securityReportKind, securityReportsToEvents } from "../../src/ingest/security";

const now = new Date("2026-11-23T08:00:00Z");
const ctx = { userAgent: "Mozilla/5.0 Test", environment: "prod", release: "web@1.2.3", now };
const UA: [string, string] = ["User-Agent", "Mozilla/5.0 Test"];

const one = (body: unknown, context: Parameters<typeof securityReportsToEvents>[1] = ctx) => {
  const events = securityReportsToEvents(body, context);
  expect(events).toHaveLength(1);
  return events[0]!;
};
const legacy = (report: Record<string, unknown>) => ({ "csp-report": { "document-uri": "http://example.com/foo", ...report } });
const reporting = (body: Record<string, unknown>) => ({
  type: "csp-violation", age: 3, url: "http://example.com/foo", user_agent: "Mozilla/5.0", body: { documentURL: "http://example.com/foo", ...body },
});

describe("CSP report-uri format", () => {
  it("becomes a full event in Relay's shape", () => {
    const event = one({
      "csp-report": {
        "document-uri": "https://app.example.com/page",
        referrer: "https://www.example.org/",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "original-policy": "script-src 'self'; report-uri /api/42/security/",
        disposition: "enforce",
        "blocked-uri": "https://evil.example.com/x.js",
        "status-code": 200,
        "line-number": "10",
        "column-number": 4,
        "source-file": "https://app.example.com/app.js",
        "script-sample": "",
      },
    });
    expect(event).toEqual({
      event_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      type: "csp",
      timestamp: now.getTime() / 1000,
      level: "error",
      logger: "csp",
      logentry: { formatted: "Blocked 'script' from 'evil.example.com'" },
      culprit: "script-src-elem",
      environment: "prod",
      release: "web@1.2.3",
      tags: [["effective-directive", "script-src-elem"], ["blocked-uri", "https://evil.example.com/x.js"], ["blocked-host", "evil.example.com"]],
      request: { url: "https://app.example.com/page", headers: [["Referer", "https://www.example.org/"], UA] },
      csp: {
        effective_directive: "script-src-elem",
        blocked_uri: "https://evil.example.com/x.js",
        document_uri: "https://app.example.com/page",
        original_policy: "script-src 'self'; report-uri /api/42/security/",
        referrer: "https://www.example.org/",
        status_code: 200,
        violated_directive: "script-src-elem",
        source_file: "https://app.example.com/app.js",
        line_number: 10,
        column_number: 4,
        script_sample: "",
        disposition: "enforce",
      },
    });
    expect(securityReportKind(event)).toBe("csp");
  });

  it("gives each event its own id", () => {
    const report = legacy({ "effective-directive": "img-src", "blocked-uri": "https://x.test/a.png" });
    expect(one(report).event_id).not.toBe(one(report).event_id);
  });

  it("leaves out environment, release and headers it was not given", () => {
    const event = one(legacy({ "effective-directive": "img-src", "blocked-uri": "https://x.test/a.png" }), { now });
    expect(event).not.toHaveProperty("environment");
    expect(event).not.toHaveProperty("release");
    expect(event.request).toEqual({ url: "http://example.com/foo" });
  });

  it("keeps unknown fields verbatim, drops nulls and ill-typed known ones", () => {
    const event = one(legacy({ "effective-directive": "img-src", "blocked-uri": "https://x.test/a.png", "x-extra": 1, "line-number": "ten", referrer: null }));
    expect(event.csp).toMatchObject({ "x-extra": 1 });
    expect(event.csp).not.toHaveProperty("line_number");
    expect(event.csp).not.toHaveProperty("referrer");
    expect((event.request as { headers: unknown }).headers).toEqual([UA]);
  });

  it("defaults blocked-uri to self and violated-directive to empty, as Relay", () => {
    const event = one(legacy({ "effective-directive": "script-src" }));
    expect(event.csp).toMatchObject({ blocked_uri: "self", violated_directive: "" });
    expect(event.logentry).toEqual({ formatted: "Blocked unsafe (eval() or inline) 'script'" });
    expect(event.tags).toEqual([["effective-directive", "script-src"], ["blocked-uri", "self"]]);
  });

  it.each([
    // [effective, violated, blocked, message]
    ["img-src", undefined, "http://google.com/foo", "Blocked 'image' from 'google.com'"],
    ["style-src", undefined, "", "Blocked inline 'style'"],
    ["style-src", undefined, "http://notlocalhost:8000/lol.css", "Blocked 'style' from 'notlocalhost:8000'"],
    ["style-src", "style-src 'unsafe-inline'", "inline", "Blocked 'style' from 'inline:'"],
    ["style-src-elem", undefined, "http://fonts.google.com/foo", "Blocked 'style' from 'fonts.google.com'"],
    ["style-src-elem", undefined, "self", "Blocked 'style' or 'link' element"],
    ["style-src-attr", undefined, "", "Blocked style attribute"],
    ["style-src-attr", undefined, "https://x.test/", "Blocked style attribute from 'x.test'"],
    ["script-src", "script-src 'unsafe-eval'", "inline", "Blocked unsafe inline 'script'"],
    ["script-src", "script-src 'unsafe-inline'", "eval", "Blocked unsafe eval() 'script'"],
    ["script-src", "script-src 'unsafe-inline'", "", "Blocked unsafe (eval() or inline) 'script'"],
    ["script-src", undefined, "'self'", "Blocked unsafe (eval() or inline) 'script'"],
    ["script-src", undefined, "data:text/plain;base64,SGVsbG8=", "Blocked 'script' from 'data:'"],
    ["script-src", undefined, "data", "Blocked 'script' from 'data:'"],
    ["script-src", undefined, "blob:https://app.example.com/1234", "Blocked 'script' from 'blob:'"],
    ["script-src", undefined, "wss://socket.example.com/x", "Blocked 'script' from 'wss://socket.example.com'"],
    ["script-src", undefined, "https://cdn.example.com:8443/app.js", "Blocked 'script' from 'cdn.example.com:8443'"],
    ["script-src", undefined, "INLINE", "Blocked 'script' from 'INLINE:'"],
    ["script-src", undefined, "eval:", "Blocked 'script' from 'eval:'"],
    ["script-src-elem", undefined, "inline", "Blocked 'script' from 'inline:'"],
    ["script-src-elem", undefined, "", "Blocked inline script attribute"],
    ["script-src-attr", undefined, "eval", "Blocked inline script attribute from 'eval:'"],
    ["script-src-attr", undefined, "'self'", "Blocked unsafe 'script' element"],
    ["connect-src", undefined, "https://api.example.net/v1", "Blocked 'connect' from 'api.example.net'"],
    ["font-src", undefined, "", "Blocked inline 'font'"],
    ["form-action", undefined, "https://phish.example/login", "Blocked 'form' action to 'phish.example'"],
    ["frame-ancestors", undefined, "https://framer.example/", "Blocked 'frame-ancestors' from 'framer.example'"],
    ["frame-src", undefined, "", "Blocked inline 'frame-src'"],
    ["default-src", "default-src self", "http://evilhackerscripts.com", "Blocked 'default-src' from 'evilhackerscripts.com'"],
    ["worker-src", undefined, "xyz://notlocalhost/", "Blocked 'worker-src' from 'xyz://notlocalhost'"],
  ])("%s / %s / blocked %j → %s", (effective, violated, blocked, message) => {
    const report: Record<string, unknown> = { "effective-directive": effective, "blocked-uri": blocked };
    if (violated !== undefined) report["violated-directive"] = violated;
    expect(one(legacy(report)).logentry).toEqual({ formatted: message });
    // The Reporting API body words it the same.
    const body: Record<string, unknown> = { effectiveDirective: effective, blockedURL: blocked };
    if (violated !== undefined) body.violatedDirective = violated;
    expect(one(reporting(body)).logentry).toEqual({ formatted: message });
  });

  it.each([
    // [effective, violated, resulting directive]
    [undefined, "img-src 'self'", "img-src"],
    ["not-a-directive", "script-src 'unsafe-inline'", "script-src"],
    ["script-src 'unsafe-eval'", "script-src 'unsafe-eval'", "script-src"],
    [undefined, "default-src", "default-src"],
  ])("finds the directive: effective %j, violated %j → %s", (effective, violated, directive) => {
    const event = one(legacy({ "effective-directive": effective, "violated-directive": violated, "blocked-uri": "https://x.test/" }));
    expect(event.csp).toMatchObject({ effective_directive: directive });
    expect(event.tags).toContainEqual(["effective-directive", directive]);
  });

  it.each([
    // [document-uri, violated-directive, culprit]
    ["http://example.com/foo", "style-src http://cdn.example.com", "style-src http://cdn.example.com"],
    ["http://example.com/foo", "style-src cdn.example.com", "style-src cdn.example.com"],
    ["http://example.com/foo", "style-src http://example.com", "style-src 'self'"],
    ["http://example.com/foo", "style-src http://example2.com example.com", "style-src http://example2.com 'self'"],
    ["http://example.com/foo", "script-src 'self' 'unsafe-inline'  'none'", "script-src 'self' 'unsafe-inline' 'none'"],
    ["example.com", "style-src example2.com", "style-src example2.com"],
    ["ftp://files.example.com/x", "img-src cdn.example.com", "img-src ftp://cdn.example.com"],
  ])("culprit for %s under %j is %j", (documentUri, violated, culprit) => {
    expect(one(legacy({ "document-uri": documentUri, "violated-directive": violated, "effective-directive": violated.split(" ")[0] })).culprit).toBe(culprit);
  });

  it("strips Stripe query strings from the blocked-uri tag only", () => {
    const blocked = "https://api.stripe.com/v1/tokens?card[number]=4242424242424242";
    const event = one(legacy({ "effective-directive": "connect-src", "blocked-uri": blocked }));
    expect(event.tags).toEqual([
      ["effective-directive", "connect-src"], ["blocked-uri", "https://api.stripe.com/v1/tokens"], ["blocked-host", "api.stripe.com"],
    ]);
    expect(event.csp).toMatchObject({ blocked_uri: blocked });
  });
});

describe("CSP through the Reporting API (application/reports+json)", () => {
  it("turns each csp-violation of a batch into an event and skips other report types", () => {
    const events = securityReportsToEvents([
      reporting({ documentURL: "https://app.example.com/a", blockedURL: "https://cdn.bad/x.js", effectiveDirective: "script-src-elem", originalPolicy: "script-src 'self'", disposition: "enforce", statusCode: 200, sample: "alert(1)", lineNumber: 3, columnNumber: 9, sourceFile: "https://app.example.com/a.js", referrer: "" }),
      { type: "deprecation", url: "https://app.example.com/a", body: { id: "x" } },
      { type: "csp-violation", url: "https://app.example.com/b", body: { blockedURL: "inline", effectiveDirective: "style-src-attr" } },
    ], ctx);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      type: "csp",
      logentry: { formatted: "Blocked 'script' from 'cdn.bad'" },
      culprit: "script-src-elem",
      request: { url: "https://app.example.com/a", headers: [UA] },
      csp: {
        document_uri: "https://app.example.com/a", blocked_uri: "https://cdn.bad/x.js", effective_directive: "script-src-elem",
        original_policy: "script-src 'self'", disposition: "enforce", status_code: 200, script_sample: "alert(1)",
        line_number: 3, column_number: 9, source_file: "https://app.example.com/a.js", referrer: "", violated_directive: "",
      },
    });
    expect(events[0]!.csp).not.toHaveProperty("documentURL");
    // No documentURL in the body: the report's own url is the document.
    expect(events[1]).toMatchObject({ csp: { document_uri: "https://app.example.com/b" }, logentry: { formatted: "Blocked style attribute from 'inline:'" } });
  });

  it("accepts a single csp-violation report outside a list", () => {
    expect(one(reporting({ effectiveDirective: "img-src", blockedURL: "https://x.test/i.png" })).logentry).toEqual({ formatted: "Blocked 'image' from 'x.test'" });
  });
});

describe("Expect-CT, Expect-Staple and HPKP", () => {
  it("normalizes an Expect-CT report", () => {
    const event = one({
      "expect-ct-report": {
        "date-time": "2026-11-23T08:00:00Z", hostname: "www.example.com", port: 443, scheme: "https",
        "effective-expiration-date": "2026-12-01T00:00:00Z", "served-certificate-chain": ["-----BEGIN CERTIFICATE-----"],
        scts: [{ version: 1, status: "invalid", source: "embedded", serialized_sct: "ABCD" }], "failure-mode": "enforce", "test-report": false, ignored: 1,
      },
    });
    expect(event).toMatchObject({
      type: "expectct", level: "error", logger: "csp", culprit: "www.example.com",
      logentry: { formatted: "Expect-CT failed for 'www.example.com'" },
      tags: [["hostname", "www.example.com"], ["port", "443"]],
      request: { url: "www.example.com", headers: [UA] },
      environment: "prod", release: "web@1.2.3",
    });
    expect(event.expectct).toEqual({
      date_time: "2026-11-23T08:00:00Z", hostname: "www.example.com", port: 443, scheme: "https",
      effective_expiration_date: "2026-12-01T00:00:00Z", served_certificate_chain: ["-----BEGIN CERTIFICATE-----"],
      validated_certificate_chain: [], scts: [{ version: 1, status: "invalid", source: "embedded", serialized_sct: "ABCD" }],
      failure_mode: "enforce", test_report: false,
    });
    expect(securityReportKind(event)).toBe("expectct");
  });

  it("normalizes an Expect-Staple report", () => {
    const event = one({ "expect-staple-report": { "date-time": "2026-11-23T08:00:00Z", hostname: "www.example.com", port: 443, "response-status": "ERROR_RESPONSE", "cert-status": "REVOKED", "ocsp-response": "MII=" } });
    expect(event).toMatchObject({
      type: "expectstaple", culprit: "www.example.com",
      logentry: { formatted: "Expect-Staple failed for 'www.example.com'" },
      tags: [["hostname", "www.example.com"], ["port", "443"], ["response_status", "ERROR_RESPONSE"], ["cert_status", "REVOKED"]],
      expectstaple: { hostname: "www.example.com", port: 443, response_status: "ERROR_RESPONSE", cert_status: "REVOKED", ocsp_response: "MII=" },
    });
    expect(securityReportKind(event)).toBe("expectstaple");
  });

  it("normalizes an HPKP report (top-level fields, no culprit, as Relay)", () => {
    const event = one({
      "date-time": "2026-11-23T08:00:00Z", hostname: "www.example.com", port: 443, "effective-expiration-date": "2026-12-01T00:00:00Z",
      "include-subdomains": false, "noted-hostname": "example.com", "served-certificate-chain": ["pem1"], "validated-certificate-chain": ["pem2"],
      "known-pins": ['pin-sha256="d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWmM="'], "x-future": true,
    });
    expect(event).toMatchObject({
      type: "hpkp", logger: "csp",
      logentry: { formatted: "Public key pinning validation failed for 'www.example.com'" },
      tags: [["hostname", "www.example.com"], ["port", "443"], ["include-subdomains", "false"]],
      request: { url: "www.example.com" },
    });
    expect(event).not.toHaveProperty("culprit");
    expect(event.hpkp).toEqual({
      date_time: "2026-11-23T08:00:00Z", hostname: "www.example.com", port: 443, effective_expiration_date: "2026-12-01T00:00:00Z",
      include_subdomains: false, noted_hostname: "example.com", served_certificate_chain: ["pem1"], validated_certificate_chain: ["pem2"],
      known_pins: ['pin-sha256="d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWmM="'], "x-future": true,
    });
    expect(securityReportKind(event)).toBe("hpkp");
  });
});

describe("securityReportKind", () => {
  it("is undefined for an ordinary event", () => {
    expect(securityReportKind({ message: "x", csp: "not an interface" })).toBeUndefined();
  });
});

describe("invalid reports", () => {
  it.each([
    ["a string", "text", "expected a JSON object or a Reporting API array"],
    ["null", null, "expected a JSON object or a Reporting API array"],
    ["an empty object", {}, "expected csp-report, expect-ct-report, expect-staple-report or an HPKP report"],
    ["an empty list", [], "empty report list"],
    ["a list of non-objects", [1], "report 0 is not an object"],
    ["a list without csp-violation", [{ type: "deprecation", body: {} }, { type: "intervention", body: {} }], 'no csp-violation report in the list (got "deprecation", "intervention")'],
    ["an unsupported single report", { type: "network-error", body: {} }, 'unsupported report type "network-error"'],
    ["csp-report that is a string", { "csp-report": "x" }, "csp-report is not an object"],
    ["csp-report without directives", { "csp-report": {} }, "no known CSP directive in effective-directive or violated-directive"],
    ["csp-report with unknown directives", legacy({ "effective-directive": "not-a-directive", "violated-directive": "also-not", "blocked-uri": "inline" }), "no known CSP directive in effective-directive or violated-directive"],
    ["csp-report with empty directives", legacy({ "effective-directive": "", "violated-directive": "" }), "no known CSP directive in effective-directive or violated-directive"],
    ["a csp-violation without body", [{ type: "csp-violation", url: "https://x/" }], "report 0: body is not an object"],
    ["a malformed csp-violation in a batch", [reporting({ effectiveDirective: "img-src" }), reporting({})], "report 1: no known CSP directive in effective-directive or violated-directive"],
    ["expect-ct-report without hostname", { "expect-ct-report": { port: 443 } }, "expect-ct-report has no hostname"],
    ["expect-staple-report that is a list", { "expect-staple-report": [] }, "expect-staple-report is not an object"],
    ["HPKP without hostname", { "known-pins": [] }, "HPKP report has no hostname"],
    ["HPKP with known-pins not a list", { hostname: "x.example", "known-pins": "pin" }, "known-pins is not a list of strings"],
  ])("refuses %s with 400", (_name, body, problem) => {
    try {
      securityReportsToEvents(body, ctx);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(RelayError);
      expect((err as RelayError).status).toBe(400);
      expect((err as RelayError).detail).toBe(`invalid security report: ${problem}`);
    }
  });
});
