import { describe, expect, it } from "vitest";
import { relayConfigSchema, type ScrubConfig } from "../../src/config/schema";
import { compileScrubber } from "../../src/scrub/compile";
import { hashText } from "../../src/scrub/redact";
import { scrubJson } from "../../src/scrub/walk";

const KEY = "0123456789abcdef0123456789abcdef";

function scrubConfig(scrub: Record<string, unknown> = {}): ScrubConfig {
  return relayConfigSchema.parse({ projects: { "1": { keys: [KEY], archive: true, scrub } } }).projects["1"]!.scrub;
}

function scrub(event: unknown, config: Record<string, unknown> = {}, rootType = "event"): unknown {
  return scrubJson(event, compileScrubber(scrubConfig(config)), rootType);
}

/** A custom rule on every string, with the defaults off, to see one rule alone. */
const only = (rule: string, extra: Record<string, unknown> = {}) => ({ defaults: false, scrubIpAddresses: false, rules: [{ selector: "$string", rule, ...extra }] });
const msg = (message: string) => ({ message });

type Case = [name: string, input: unknown, expected: unknown, config?: Record<string, unknown>];

const builtinCases: Case[] = [
  ["@ip v4", msg("from 73.133.27.120 today"), msg("from [ip] today"), only("@ip")],
  ["@ip v6", msg("from 2001:0db8:85a3:0000:0000:8a2e:0370:7334 today"), msg("from [ip] today"), only("@ip")],
  ["@ip v6 compressed", msg("peer ::1 closed"), msg("peer [ip] closed"), only("@ip")],
  ["@ip v6 in brackets", msg("[2001:db8::1]:443"), msg("[[ip]]:443"), only("@ip")],
  ["@ip keeps dotted versions", msg("upgraded to 1.2.3.4.5 and v10.0.0.1"), msg("upgraded to 1.2.3.4.5 and v10.0.0.1"), only("@ip")],
  ["@ip keeps 10.0.0.1234", msg("build 10.0.0.1234"), msg("build 10.0.0.1234"), only("@ip")],
  ["@ip keeps times", msg("at 12:30:45"), msg("at 12:30:45"), only("@ip")],
  ["@ip:hash", msg("ip 10.1.2.3"), msg(`ip ${hashText("10.1.2.3", "edge-relay")}`), only("@ip:hash")],
  ["@ip:mask", msg("ip 10.1.2.3"), msg("ip ********"), only("@ip:mask")],
  ["@ip:remove", msg("ip 10.1.2.3 end"), msg("ip  end"), only("@ip:remove")],
  ["@email", msg("mail jane.doe+x@example.co.uk now"), msg("mail [email] now"), only("@email")],
  ["@email:mask", msg("a@b.io"), msg("******"), only("@email:mask")],
  ["@email:hash is keyed", msg("a@b.io"), msg(hashText("a@b.io", "k1")), { ...only("@email:hash"), hashKey: "k1" }],
  ["@email keeps package@version", msg("npm i react@18.2.0"), msg("npm i react@18.2.0"), only("@email")],
  ["@creditcard visa with spaces", msg("card 4111 1111 1111 1111 ok"), msg("card [creditcard] ok"), only("@creditcard")],
  ["@creditcard amex with dashes", msg("3782-822463-10005"), msg("[creditcard]"), only("@creditcard")],
  ["@creditcard mastercard plain", msg("5555555555554444"), msg("[creditcard]"), only("@creditcard")],
  ["@creditcard:filter", msg("4242424242424242"), msg("[Filtered]"), only("@creditcard:filter")],
  ["@creditcard keeps order ids failing Luhn", msg("order 4111111111111112"), msg("order 4111111111111112"), only("@creditcard")],
  ["@creditcard keeps short numbers", msg("id 123456789012"), msg("id 123456789012"), only("@creditcard")],
  ["@creditcard keeps numbers that are not strings", { amount: 4111111111111111 }, { amount: 4111111111111111 }, only("@creditcard")],
  ["@iban", msg("pay DE89 3704 0044 0532 0130 00 now"), msg("pay [iban] now"), only("@iban")],
  ["@iban compact", msg("GB82WEST12345698765432"), msg("[iban]"), only("@iban")],
  ["@iban keeps invalid checksums", msg("DE00370400440532013000"), msg("DE00370400440532013000"), only("@iban")],
  ["@usssn masks by default", msg("ssn 078-05-1120"), msg("ssn ***********"), only("@usssn")],
  ["@mac masks by default", msg("mac 00:1A:2B:3C:4D:5E up"), msg("mac ***************** up"), only("@mac")],
  ["@mac:replace", msg("00-1a-2b-3c-4d-5e"), msg("[mac]"), only("@mac:replace")],
  ["@imei", msg("imei 490154203237518"), msg("imei [imei]"), only("@imei")],
  ["@uuid when asked", msg("user 550e8400-e29b-41d4-a716-446655440000"), msg("user ************************************"), only("@uuid")],
  ["@pemkey", msg("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"), msg("-----BEGIN RSA PRIVATE KEY-----\n[pemkey]\n-----END RSA PRIVATE KEY-----"), only("@pemkey")],
  ["@pemkey keeps public keys", msg("-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----"), msg("-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----"), only("@pemkey")],
  ["@urlauth", msg("https://bob:hunter2@db.example.com/x"), msg("https://[auth]@db.example.com/x"), only("@urlauth")],
  ["@userpath unix", msg("at /home/alice/app/main.js"), msg("at /home/[user]/app/main.js"), only("@userpath")],
  ["@userpath mac", msg("/Users/bob/Library/x"), msg("/Users/[user]/Library/x"), only("@userpath")],
  ["@userpath windows", msg("C:\\Users\\carol\\AppData\\x.dll"), msg("C:\\Users\\[user]\\AppData\\x.dll"), only("@userpath")],
  ["@bearer", msg("Authorization failed for Bearer eyJhbGciOi.abc.def"), msg("Authorization failed for Bearer [token]"), only("@bearer")],
  ["@password key rule removes", { extra: { db_password: "x", name: "n" } }, { extra: { db_password: null, name: "n" } }, { defaults: false, scrubIpAddresses: false, rules: [{ selector: "**", rule: "@password" }] }],
  ["@anything:remove on a path", { extra: { foo: { deep: 1 }, bar: 2 } }, { extra: { foo: null, bar: 2 } }, { defaults: false, scrubIpAddresses: false, rules: [{ selector: "extra.foo", rule: "@anything:remove" }] }],
];

const defaultCases: Case[] = [
  ["sensitive keys in extra", { extra: { password: "hunter2", the_secret: "s", apiKey: "k", api_key: "k", authToken: "t", foo: "bar" } },
    { extra: { password: "[Filtered]", the_secret: "[Filtered]", apiKey: "[Filtered]", api_key: "[Filtered]", authToken: "[Filtered]", foo: "bar" } }],
  ["sensitive keys are case-insensitive substrings", { extra: { MY_PASSWD_2: "x", Credentials: "y", private_key: "z", mysql_pwd: "w" } },
    { extra: { MY_PASSWD_2: "[Filtered]", Credentials: "[Filtered]", private_key: "[Filtered]", mysql_pwd: "[Filtered]" } }],
  ["sensitive numbers and arrays go whole", { extra: { a_password_number: 42, a_password_array: [42, 43] } }, { extra: { a_password_number: "[Filtered]", a_password_array: "[Filtered]" } }],
  ["session id and CSRF cookies", { request: { cookies: { sessionid: "abc", csrftoken: "def", theme: "dark" } } },
    { request: { cookies: { sessionid: "[Filtered]", csrftoken: "[Filtered]", theme: "dark" } } }],
  ["cookie string", { request: { cookies: "theme=dark; sessionid=abc; lang=en" } }, { request: { cookies: "theme=dark; sessionid=[Filtered]; lang=en" } }],
  ["user sensitiveFields", { extra: { ssn_number: "1", other: "2" } }, { extra: { ssn_number: "[Filtered]", other: "2" } }, { sensitiveFields: ["ssn_number"] }],
  ["safeFields are kept", { extra: { password_policy: "min 8 chars", password: "x" } }, { extra: { password_policy: "min 8 chars", password: "[Filtered]" } }, { safeFields: ["password_policy"] }],
  ["Authorization header", { request: { headers: { Authorization: "Basic dXNlcjpwYXNz", Accept: "*/*" } } }, { request: { headers: { Authorization: "[Filtered]", Accept: "*/*" } } }],
  ["Cookie and Set-Cookie headers", { request: { headers: { Cookie: "a=b", "Set-Cookie": "c=d" } } }, { request: { headers: { Cookie: "[Filtered]", "Set-Cookie": "[Filtered]" } } }],
  ["X-Api-Key header", { request: { headers: { "X-Api-Key": "k" } } }, { request: { headers: { "X-Api-Key": "[Filtered]" } } }],
  ["headers as pairs", { request: { headers: [["Authorization", "Bearer x"], ["Accept", "*/*"]] } }, { request: { headers: [["Authorization", "[Filtered]"], ["Accept", "*/*"]] } }],
  ["query string as a string", { request: { query_string: "foo=bar&password=hello&api_key=k&page=2" } }, { request: { query_string: "foo=bar&password=[Filtered]&api_key=[Filtered]&page=2" } }],
  ["query string as pairs", { request: { query_string: [["foo", "bar"], ["token", "t"]] } }, { request: { query_string: [["foo", "bar"], ["token", "[Filtered]"]] } }],
  ["query values in a URL", { request: { url: "https://app.example.com/cb?code=1&access_token=abc&next=/x" } }, { request: { url: "https://app.example.com/cb?code=1&access_token=[Filtered]&next=/x" } }],
  ["URL password anywhere", { breadcrumbs: { values: [{ message: "connect postgres://app:s3cret@db:5432/x" }] } }, { breadcrumbs: { values: [{ message: "connect postgres://app:[Filtered]@db:5432/x" }] } }],
  ["card number in a breadcrumb", { breadcrumbs: { values: [{ category: "ui", data: { value: "4111-1111-1111-1111" } }] } }, { breadcrumbs: { values: [{ category: "ui", data: { value: "[Filtered]" } }] } }],
  ["PEM key in extra", { extra: { blob: "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----" } }, { extra: { blob: "-----BEGIN PRIVATE KEY-----\n[Filtered]\n-----END PRIVATE KEY-----" } }],
  ["bearer token in a message", msg("upstream said 401 for Bearer abc.def.ghi"), msg("upstream said 401 for Bearer [Filtered]")],
  ["email in an exception value", { exception: { values: [{ type: "Error", value: "no user jane@example.com" }] } }, { exception: { values: [{ type: "Error", value: "no user [email]" }] } }],
  ["email in logentry params", { logentry: { message: "login %s", params: ["bob@example.org"] } }, { logentry: { message: "login %s", params: ["[email]"] } }],
  ["user.email", { user: { id: "42", email: "a@example.com" } }, { user: { id: "42", email: "[email]" } }],
  ["user.ip_address is removed", { user: { id: "42", ip_address: "73.133.27.120" } }, { user: { id: "42", ip_address: null } }],
  ["{{auto}} ip is removed too", { user: { ip_address: "{{auto}}" } }, { user: { ip_address: null } }],
  ["request env REMOTE_ADDR and sdk client_ip", { request: { env: { REMOTE_ADDR: "1.2.3.4" } }, sdk: { name: "s", client_ip: "1.2.3.4" } }, { request: { env: { REMOTE_ADDR: null } }, sdk: { name: "s", client_ip: null } }],
  ["X-Forwarded-For header", { request: { headers: { "X-Forwarded-For": "1.2.3.4, 5.6.7.8" } } }, { request: { headers: { "X-Forwarded-For": "[Filtered]" } } }],
  ["IPs inside strings", { breadcrumbs: { values: [{ message: "GET from 10.20.30.40 ok" }] } }, { breadcrumbs: { values: [{ message: "GET from [ip] ok" }] } }],
  ["IPs kept when scrubIpAddresses is off", { user: { ip_address: "1.2.3.4" }, message: "from 1.2.3.4" }, { user: { ip_address: "1.2.3.4" }, message: "from 1.2.3.4" }, { scrubIpAddresses: false }],
  ["frame vars", { exception: { values: [{ stacktrace: { frames: [{ function: "login", vars: { password: "'x'", user: "'bob'" } }] } }] } },
    { exception: { values: [{ stacktrace: { frames: [{ function: "login", vars: { password: "[Filtered]", user: "'bob'" } }] } }] } }],
  ["source context lines", { exception: { values: [{ stacktrace: { frames: [{ context_line: '  const password = "hunter2";', pre_context: ["const email = 'x@y.com';"] }] } }] } },
    { exception: { values: [{ stacktrace: { frames: [{ context_line: '  const password = "[Filtered]";', pre_context: ["const email = '[email]';"] }] } }] } }],
  ["home directory in a frame path", { exception: { values: [{ stacktrace: { frames: [{ abs_path: "/home/alice/app/x.js" }] } }] } }, { exception: { values: [{ stacktrace: { frames: [{ abs_path: "/home/[Filtered]/app/x.js" }] } }] } }],
  ["contexts and tags", { contexts: { app: { api_token: "t" } }, tags: { user_email: "a@b.io", plan: "pro" } }, { contexts: { app: { api_token: "[Filtered]" } }, tags: { user_email: "[email]", plan: "pro" } }],
  ["request.data object", { request: { data: { username: "bob", password: "x", card: "4111111111111111" } } }, { request: { data: { username: "bob", password: "[Filtered]", card: "[Filtered]" } } }],
  ["request.data form body", { request: { data: "username=bob&password=x" } }, { request: { data: "username=bob&password=[Filtered]" } }],
];

const negativeCases: Case[] = [
  ["ordinary numbers and text", { extra: { count: 12345, ratio: 0.5, text: "42 items in 3 boxes" } }, { extra: { count: 12345, ratio: 0.5, text: "42 items in 3 boxes" } }],
  ["release and versions look like IPs but stay", { release: "10.0.0.1", contexts: { os: { version: "10.0.19045.1" }, runtime: { version: "1.2.3.4" } } }, { release: "10.0.0.1", contexts: { os: { version: "10.0.19045.1" }, runtime: { version: "1.2.3.4" } } }],
  ["ids stay", { event_id: "550e8400e29b41d4a716446655440000", contexts: { trace: { trace_id: "4111111111111111aaaaaaaaaaaaaaaa", span_id: "1234567890123456" } } }, { event_id: "550e8400e29b41d4a716446655440000", contexts: { trace: { trace_id: "4111111111111111aaaaaaaaaaaaaaaa", span_id: "1234567890123456" } } }],
  ["UUIDs when @uuid is off", msg("request 550e8400-e29b-41d4-a716-446655440000 failed"), msg("request 550e8400-e29b-41d4-a716-446655440000 failed")],
  ["sdk and modules metadata", { sdk: { name: "sentry.javascript.node", version: "11.12.0", integrations: ["Http"] }, modules: { "auth-lib": "1.0.0" } }, { sdk: { name: "sentry.javascript.node", version: "11.12.0", integrations: ["Http"] }, modules: { "auth-lib": "1.0.0" } }],
  ["a key that merely looks related", { extra: { pass_count: 3, keyboard: "us" } }, { extra: { pass_count: 3, keyboard: "us" } }],
  ["dates and times", msg("2026-11-23T08:00:00.000Z took 12:30"), msg("2026-11-23T08:00:00.000Z took 12:30")],
  ["booleans and null", { extra: { flag: true, nothing: null } }, { extra: { flag: true, nothing: null } }],
];

describe("scrubbing: built-in rules and methods", () => {
  it.each(builtinCases)("%s", (_name, input, expected, config) => {
    expect(scrub(input, config)).toEqual(expected);
  });
});

describe("scrubbing: default data scrubbing", () => {
  it.each(defaultCases)("%s", (_name, input, expected, config) => {
    expect(scrub(input, config)).toEqual(expected);
  });
});

describe("scrubbing: what must survive", () => {
  it.each(negativeCases)("%s", (_name, input, expected, config) => {
    const result = scrub(input, config);
    expect(result).toEqual(expected);
    // Nothing matched: the very same object comes back, so the item keeps its bytes.
    expect(result).toBe(input);
  });
});

describe("scrubbing: custom rules and selectors", () => {
  const off = { defaults: false, scrubIpAddresses: false };
  it.each<Case>([
    ["a regex with replace text", msg("token tok_abc123 used"), msg("token [tok] used"), { ...off, rules: [{ selector: "$string", pattern: "tok_[a-z0-9]+", text: "[tok]" }] }],
    ["a regex with groups", msg("order=123-456"), msg("order=123-***"), { ...off, rules: [{ selector: "$string", pattern: "(\\d+)-(\\d+)", replaceGroups: [2], method: "mask" }] }],
    ["a keyPattern", { extra: { customer_ref: "c1", other: "o" } }, { extra: { customer_ref: "[Filtered]", other: "o" } }, { ...off, rules: [{ selector: "**", keyPattern: "customer" }] }],
    ["$http.headers only", { request: { headers: { "X-Custom": "a@b.io" } }, message: "a@b.io" }, { request: { headers: { "X-Custom": "[email]" } }, message: "a@b.io" }, { ...off, rules: [{ selector: "$http.headers", rule: "@email" }] }],
    ["$http.headers.x-custom with a quoted or plain key", { request: { headers: { "X-Custom": "v", "X-Other": "w" } } }, { request: { headers: { "X-Custom": null, "X-Other": "w" } } }, { ...off, rules: [{ selector: "$http.headers.x-custom", rule: "@anything:remove" }] }],
    ["$user", { user: { username: "bob" }, extra: { username: "bob" } }, { user: { username: "[redacted]" }, extra: { username: "bob" } }, { ...off, rules: [{ selector: "$user.username", rule: "@anything" }] }],
    ["extra.foo path", { extra: { foo: "a@b.io", bar: "a@b.io" } }, { extra: { foo: "[email]", bar: "a@b.io" } }, { ...off, rules: [{ selector: "extra.foo", rule: "@email" }] }],
    ["extra.** deep", { extra: { a: { b: ["x@y.io"] } }, message: "x@y.io" }, { extra: { a: { b: ["[email]"] } }, message: "x@y.io" }, { ...off, rules: [{ selector: "extra.**", rule: "@email" }] }],
    ["|| combines", { extra: { a: "x@y.io" }, tags: { b: "x@y.io" }, message: "x@y.io" }, { extra: { a: "[email]" }, tags: { b: "[email]" }, message: "x@y.io" }, { ...off, rules: [{ selector: "extra.a || tags.b", rule: "@email" }] }],
    ["&& and ! narrow", { extra: { a: "x@y.io", b: "x@y.io" } }, { extra: { a: "x@y.io", b: "[email]" } }, { ...off, rules: [{ selector: "$string && !extra.a", rule: "@email" }] }],
    ["$frame.vars.*", { exception: { values: [{ stacktrace: { frames: [{ vars: { n: "1", m: "2" }, function: "f" }] } }] } }, { exception: { values: [{ stacktrace: { frames: [{ vars: { n: null, m: null }, function: "f" }] } }] } }, { ...off, rules: [{ selector: "$frame.vars.*", rule: "@anything:remove" }] }],
    ["$error.value", { exception: { values: [{ type: "E", value: "secret text" }] } }, { exception: { values: [{ type: "E", value: "[Filtered]" }] } }, { ...off, rules: [{ selector: "$error.value", rule: "@anything:filter" }] }],
    ["$breadcrumb.message", { breadcrumbs: { values: [{ message: "m", category: "c" }] } }, { breadcrumbs: { values: [{ message: "*", category: "c" }] } }, { ...off, rules: [{ selector: "$breadcrumb.message", rule: "@anything:mask" }] }],
    ["hash is stable", { user: { id: "bob" } }, { user: { id: hashText("bob", "secret") } }, { ...off, hashKey: "secret", rules: [{ selector: "user.id", rule: "@anything:hash" }] }],
  ])("%s", (_name, input, expected, config) => {
    expect(scrub(input, config)).toEqual(expected);
  });

  it.each([
    [{ selector: "extra.(", rule: "@email" }, "rules.0.selector"],
    [{ selector: "$nothing", rule: "@email" }, "unknown type $nothing"],
    [{ selector: "a || ", rule: "@email" }, "rules.0.selector"],
    [{ selector: "$string", rule: "@nope" }, "unknown built-in rule @nope"],
    [{ selector: "$string", rule: "@email:shred" }, "unknown built-in rule @email:shred"],
    [{ selector: "$string", pattern: "([a-z" }, "rules.0.pattern: invalid regular expression"],
    [{ selector: "$string", keyPattern: "*x" }, "rules.0.keyPattern: invalid regular expression"],
    [{ selector: "$string", rule: "@email", pattern: "x" }, 'give one of "rule", "pattern" or "keyPattern"'],
  ])("refuses %j naming it", (rule, message) => {
    const parsed = relayConfigSchema.safeParse({ projects: { "1": { keys: [KEY], archive: true, scrub: { rules: [rule] } } } });
    expect(parsed.success).toBe(false);
    const text = parsed.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    expect(text).toContain(message);
  });
});

describe("scrubbing other item kinds", () => {
  it("log items: attribute values by attribute name, and strings", () => {
    const log = { version: 2, items: [{ body: "login by bob@example.com", attributes: { "user.password": { value: "x", type: "string" }, count: { value: 3, type: "integer" } } }] };
    expect(scrub(log, {}, "log")).toEqual({ version: 2, items: [{ body: "login by [email]", attributes: { "user.password": { value: "[Filtered]", type: "string" }, count: { value: 3, type: "integer" } } }] });
  });
  it("OTLP attribute lists: a value is judged by its attribute's key", () => {
    const span = {
      name: "POST /login",
      attributes: [
        { key: "user.password", value: { stringValue: "hunter2" } },
        { key: "http.request.header.authorization", value: { stringValue: "Basic dXNlcjpwYXNz" } },
        { key: "retries", value: { intValue: "3" } },
        { key: "http.route", value: { stringValue: "/login" } },
      ],
    };
    expect(scrub(span, {}, "span")).toEqual({
      name: "POST /login",
      attributes: [
        { key: "user.password", value: { stringValue: "[Filtered]" } },
        { key: "http.request.header.authorization", value: { stringValue: "[Filtered]" } },
        { key: "retries", value: { intValue: "3" } },
        { key: "http.route", value: { stringValue: "/login" } },
      ],
    });
    // A `key` that is not in an attributes list names nothing: the value is judged by where it sits.
    const other = { extra: { pair: { key: "password", value: "plain" } } };
    expect(scrub(other, {}, "event")).toEqual(other);
  });
  it("session attrs.ip_address", () => {
    const session = { sid: "s", did: "bob@example.com", attrs: { release: "1.0.0", ip_address: "1.2.3.4" } };
    expect(scrub(session, {}, "session")).toEqual({ sid: "s", did: "[email]", attrs: { release: "1.0.0", ip_address: null } });
  });
  it("transaction spans", () => {
    const transaction = { spans: [{ description: "GET https://api.example.com/u?token=abc", data: { "db.password": "x" } }] };
    expect(scrub(transaction)).toEqual({ spans: [{ description: "GET https://api.example.com/u?token=[Filtered]", data: { "db.password": "[Filtered]" } }] });
  });
  it("user reports", () => {
    expect(scrub({ name: "Bob", email: "bob@example.com", comments: "call 4111 1111 1111 1111" }, {}, "user_report")).toEqual({ name: "Bob", email: "[email]", comments: "call [Filtered]" });
  });
});
