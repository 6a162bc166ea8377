import { header, readEvent, type Event } from "../event";
import { compileGlobs } from "./globs";

/** A project's inbound filters, Relay's names. */
export interface FilterConfig {
  localhost: boolean;
  browserExtensions: boolean;
  webCrawlers: boolean;
  legacyBrowsers: boolean;
  healthChecks: boolean;
  errorMessages: string[];
  releases: string[];
}

/** Relay's filter stat keys, reported as the `filtered` outcome's reason. */
export type FilterReason =
  | "localhost"
  | "browser-extensions"
  | "web-crawlers"
  | "legacy-browsers"
  | "filtered-transaction"
  | "error-message"
  | "release-version";

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
 * Which filter drops this event, if any. Pure: the event (its read model, or
 * parsed JSON read through one), its item type and the project's filters in,
 * a reason or undefined out.
 */
export function inboundFilter(input: Event | object, itemType: string, config: FilterConfig): FilterReason | undefined {
  const event = readEvent(input);
  if (config.releases.length > 0 && event.release !== undefined && compileGlobs(config.releases)(event.release)) {
    return "release-version";
  }
  if (config.localhost && isLocal(event)) return "localhost";
  const userAgent = header(event.request, "user-agent");
  if (config.webCrawlers && userAgent && WEB_CRAWLERS.test(userAgent)) return "web-crawlers";
  if (config.legacyBrowsers && userAgent && isLegacyBrowser(userAgent)) return "legacy-browsers";
  if (itemType === "transaction") {
    if (config.healthChecks && event.transaction !== undefined && HEALTH_CHECKS(event.transaction)) return "filtered-transaction";
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
  if (ip !== undefined && LOCAL_HOSTS.has(ip)) return true;
  const url = event.request?.url;
  if (url === undefined) return false;
  try {
    const host = new URL(url).hostname;
    return LOCAL_HOSTS.has(host) || host.endsWith(".localhost");
  } catch {
    return false;
  }
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
  for (const exception of event.exceptions) {
    const text = `${exception.type ?? ""}: ${exception.value ?? ""}`;
    if (EXTENSION_MESSAGES.test(text)) return true;
    const frames = exception.stacktrace?.frames ?? [];
    const top = frames[frames.length - 1];
    const source = top?.abs_path ?? top?.filename;
    if (source !== undefined && EXTENSION_SOURCES.test(source)) return true;
  }
  return false;
}

/** The texts an error-message glob is matched against: `Type: value` of each exception, and the message. */
function errorMessages(event: Event): string[] {
  const texts: string[] = [];
  for (const exception of event.exceptions) {
    if (exception.type && exception.value) texts.push(`${exception.type}: ${exception.value}`);
    else if (exception.type || exception.value) texts.push((exception.type || exception.value)!);
  }
  const message = event.logentry?.formatted ?? event.logentry?.message;
  if (message !== undefined) texts.push(message);
  return texts;
}
