/**
 * The stages' event reads as they were before src/event/ (inbound.ts and the
 * reading half of fingerprint.ts at 25ab7ae), kept verbatim for
 * bench/event-model.ts to time against the read model. Not used by the relay.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import type { FilterConfig, FilterReason } from "../src/filters/inbound";
import { normalizeFile, normalizeMessage } from "../src/spike/fingerprint";
import { compileGlobs } from "../src/filters/globs";

type Event = Record<string, any>;
type Json = Record<string, any>;

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0"]);

/** Messages that only browser extensions and injected scripts produce (after Relay's list). */
const EXTENSION_MESSAGES = new RegExp([
  "top\\.GLOBALS", "originalCreateNotification", "canvas\\.contentDocument", "MyApp_RemoveAllHighlights",
  "http://tt\\.epicplay\\.com", "Can't find variable: ZiteReader", "jigsaw is not defined", "ComboSearch is not defined",
  "http://loading\\.retry\\.widdit\\.com/", "atomicFindClose", "fb_xd_fragment", "bmi_SafeAddOnload",
  "EBCallBackMessageReceived", "conduitPage", "Could not establish connection\\. Receiving end does not exist",
  "__gCrWeb", "webkit-masked-url", "Extension context invalidated",
].join("|"));
const EXTENSION_SOURCES = /^(?:chrome(?:-extension)?|moz-extension|safari(?:-web)?-extension|ms-browser-extension|edge-extension|resource|webkit-masked-url):|^about:|\/\/(?:[^/]*\.)?(?:graph\.facebook\.com|connect\.facebook\.net|eatdifferent\.com\.woopra-ns\.com|static\.woopra\.com\/js\/woopra\.js)|^\/?\/?(?:[^/]*\/)*inject(?:ed)?\.js/i;

/** Crawlers and uptime checkers by User-Agent (after Relay's list). */
const WEB_CRAWLERS = /Mediapartners-Google|AdsBot-Google|Googlebot|FeedFetcher-Google|BingBot|BingPreview|Baiduspider|Slurp|Sogou|facebook(?:externalhit|catalog)|ia_archiver|bots?[/\s);]|spider[/\s);]|crawler|Slack(?:bot|-ImgProxy)|Calypso AppEngine|pingdom|lyticsbot|AWS Security Scanner|HubSpot Crawler|DuckDuckBot|YandexBot|Applebot|PetalBot|AhrefsBot|SemrushBot|UptimeRobot/i;

/** Health-check transactions (after Relay's default `filtered-transaction` globs). */
const HEALTH_CHECKS = compileGlobs([
  "*healthcheck*", "*healthy*", "*live", "*live[z/-]*", "*ready", "*ready[z/-]*", "*heartbeat*", "*/health", "*/healthz", "*/ping", "*/up",
]);

/**
 * Which filter drops this event, if any. Pure: the event, its item type and
 * the project's filters in, a reason or undefined out.
 */
export function inboundFilterBefore(event: Event, itemType: string, config: FilterConfig): FilterReason | undefined {
  if (config.releases.length > 0 && typeof event.release === "string" && compileGlobs(config.releases)(event.release)) {
    return "release-version";
  }
  if (config.localhost && isLocal(event)) return "localhost";
  const userAgent = userAgentOf(event);
  if (config.webCrawlers && userAgent && WEB_CRAWLERS.test(userAgent)) return "web-crawlers";
  if (config.legacyBrowsers && userAgent && isLegacyBrowser(userAgent)) return "legacy-browsers";
  if (itemType === "transaction") {
    if (config.healthChecks && typeof event.transaction === "string" && HEALTH_CHECKS(event.transaction)) return "filtered-transaction";
    return undefined;
  }
  if (config.browserExtensions && fromBrowserExtension(event)) return "browser-extensions";
  if (config.errorMessages.length > 0) {
    const matches = compileGlobs(config.errorMessages);
    if (errorMessages(event).some(matches)) return "error-message";
  }
  return undefined;
}

function isLocal(event: Event): boolean {
  const ip = event.user?.ip_address;
  if (typeof ip === "string" && LOCAL_HOSTS.has(ip)) return true;
  const url = event.request?.url;
  if (typeof url !== "string") return false;
  try {
    const host = new URL(url).hostname;
    return LOCAL_HOSTS.has(host) || host.endsWith(".localhost");
  } catch {
    return false;
  }
}

function userAgentOf(event: Event): string | undefined {
  const headers = event.request?.headers;
  if (Array.isArray(headers)) {
    const pair = headers.find((h) => Array.isArray(h) && String(h[0]).toLowerCase() === "user-agent");
    return typeof pair?.[1] === "string" ? pair[1] : undefined;
  }
  if (headers && typeof headers === "object") {
    for (const [name, value] of Object.entries(headers)) if (name.toLowerCase() === "user-agent" && typeof value === "string") return value;
  }
  return undefined;
}

/**
 * Browsers Sentry's legacy filter drops by default: Internet Explorer (all
 * versions), Opera before 15 (Presto) and Opera Mini, Android's stock browser
 * before 4, Safari before 12, Firefox before 67, Chrome before 63.
 */
function isLegacyBrowser(ua: string): boolean {
  if (/MSIE |Trident\//.test(ua)) return true;
  if (/Opera Mini|Presto\//.test(ua)) return true;
  const android = /Android (\d+)/.exec(ua);
  if (android && Number(android[1]) < 4 && !/Chrome\//.test(ua)) return true;
  const chrome = /(?:Chrome|CriOS)\/(\d+)/.exec(ua);
  if (chrome && !/Edg\//.test(ua)) return Number(chrome[1]) < 63;
  const firefox = /(?:Firefox|FxiOS)\/(\d+)/.exec(ua);
  if (firefox) return Number(firefox[1]) < 67;
  // Unambiguous parts only (a dot before more digits, no `\S+`), so a long user agent cannot make it backtrack.
  const safari = /Version\/(\d+)(?:\.[\d.]*)? (?:Mobile\/[\w.]+ )?Safari\//.exec(ua);
  if (safari) return Number(safari[1]) < 12;
  return false;
}

function fromBrowserExtension(event: Event): boolean {
  const exceptions: Event[] = event.exception?.values ?? [];
  for (const exception of exceptions) {
    const text = `${exception.type ?? ""}: ${exception.value ?? ""}`;
    if (EXTENSION_MESSAGES.test(text)) return true;
    const frames: Event[] = exception.stacktrace?.frames ?? [];
    const top = frames[frames.length - 1];
    const source = top?.abs_path ?? top?.filename;
    if (typeof source === "string" && EXTENSION_SOURCES.test(source)) return true;
  }
  return false;
}

/** The texts an error-message glob is matched against: `Type: value` of each exception, and the message. */
function errorMessages(event: Event): string[] {
  const texts: string[] = [];
  for (const exception of (event.exception?.values ?? []) as Event[]) {
    if (exception.type && exception.value) texts.push(`${exception.type}: ${exception.value}`);
    else if (exception.type || exception.value) texts.push(String(exception.type ?? exception.value));
  }
  const message = event.logentry?.formatted ?? event.logentry?.message ?? event.message;
  if (typeof message === "string") texts.push(message);
  return texts;
}

export function fingerprintComponentsBefore(event: Json): string[] {
  const defaults = defaultComponents(event);
  const custom = event.fingerprint;
  if (Array.isArray(custom) && custom.length > 0) {
    return custom.flatMap((part) => (/^\{\{\s*default\s*\}\}$/.test(String(part)) ? defaults : [`custom:${String(part)}`]));
  }
  return defaults;
}

function defaultComponents(event: Json): string[] {
  const exceptions: Json[] = Array.isArray(event.exception?.values) ? event.exception.values : Array.isArray(event.exception) ? event.exception : [];
  const root = exceptions.find((e) => e && (e.type || e.value || e.stacktrace));
  if (root) {
    const frames = framesOf(root.stacktrace ?? event.stacktrace ?? event.threads?.values?.find((t: Json) => t?.crashed)?.stacktrace);
    const parts = [`type:${root.type ?? root.mechanism?.type ?? "Error"}`];
    if (frames.length > 0) parts.push(...frames.map((f) => `frame:${f}`));
    else parts.push(`value:${normalizeMessage(String(root.value ?? ""))}`);
    return parts;
  }
  const message = event.logentry?.message ?? event.logentry?.formatted ?? (typeof event.message === "string" ? event.message : event.message?.message);
  if (typeof message === "string" && message !== "") return [`message:${normalizeMessage(message)}`];
  // Nothing to group by: the transaction or culprit, else one bucket for the project.
  return [`other:${String(event.transaction ?? event.culprit ?? "")}`];
}

function framesOf(stacktrace: Json | undefined): string[] {
  const frames: Json[] = Array.isArray(stacktrace?.frames) ? stacktrace.frames : [];
  const inApp = frames.filter((f) => f?.in_app === true);
  const chosen = inApp.length > 0 ? inApp : frames.filter((f) => f?.in_app !== false);
  return chosen.map((f) => `${f.module ?? normalizeFile(String(f.filename ?? f.abs_path ?? ""))}|${f.function ?? "?"}`);
}

