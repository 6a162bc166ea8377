import { cachedItemJson } from "../envelope/envelope";
import type { EnvelopeItem } from "../envelope/types";
import {
  aliased, booleanOf, field, integerOf, jsonLenientString, lenientString, listOf, mapPresent, objectOf, pairsOf,
  stringOf, valuesOf, type JsonObject,
} from "./read";
import type {
  Breadcrumb, Event, Exception, Frame, Level, LogEntry, Pair, Request, SecurityReportKind, Stacktrace, Template,
  Thread, User,
} from "./types";

/**
 * The tolerant read model of one event: every shape Sentry's ingestion
 * accepts reads the same, anything else reads as absent. Built over the
 * parsed JSON without copying it; each part is read the first time a stage
 * asks for it and remembered, so a stage that reads only the release pays
 * for the release alone. It reads and never writes: what is forwarded stays
 * the SDK's own bytes.
 *
 * Legacy names are Relay's `legacy_alias`es (relay-event-schema `Event`):
 * `sentry.interfaces.Exception`, `.Message` (and the top-level `message`),
 * `.Stacktrace`, `.Http`, `.User`, `.Breadcrumbs`, `.Template`, `.Contexts`,
 * `.Csp`, `.Hpkp`, `.ExpectCT`, `.ExpectStaple`.
 */
class EventView implements Event {
  // Plain (TypeScript-private) fields, not `#private` ones: bundlers lower
  // those to one WeakMap per field, which made building a model cost more
  // than reading the event.
  private readonly raw: JsonObject;
  private exceptionsRead?: readonly Exception[];
  private threadsRead?: readonly Thread[];
  private tagsRead?: readonly Pair[];
  private breadcrumbsRead?: readonly Breadcrumb[];
  private requestRead?: { value: Request | undefined };
  private logentryRead?: { value: LogEntry | undefined };

  constructor(raw: JsonObject) {
    this.raw = raw;
  }

  get event_id(): string | undefined {
    return stringOf(field(this.raw, "event_id"));
  }
  get type(): string | undefined {
    return stringOf(field(this.raw, "type"));
  }
  get level(): Level | undefined {
    return levelOf(field(this.raw, "level"));
  }
  get platform(): string | undefined {
    return stringOf(field(this.raw, "platform"));
  }
  get release(): string | undefined {
    return lenientString(field(this.raw, "release"));
  }
  get environment(): string | undefined {
    return stringOf(field(this.raw, "environment"));
  }
  get transaction(): string | undefined {
    return stringOf(field(this.raw, "transaction"));
  }
  get culprit(): string | undefined {
    return stringOf(field(this.raw, "culprit"));
  }
  get logger(): string | undefined {
    return stringOf(field(this.raw, "logger"));
  }

  get fingerprint(): readonly string[] | undefined {
    const parts = mapPresent(listOf(field(this.raw, "fingerprint")), lenientString);
    return parts.length > 0 ? parts : undefined;
  }

  get exceptions(): readonly Exception[] {
    return (this.exceptionsRead ??= mapPresent(valuesOf(aliased(this.raw, "exception", ["sentry.interfaces.Exception"])), exceptionOf));
  }

  get stacktrace(): Stacktrace | undefined {
    return stacktraceOf(aliased(this.raw, "stacktrace", ["sentry.interfaces.Stacktrace"]));
  }

  get threads(): readonly Thread[] {
    return (this.threadsRead ??= mapPresent(valuesOf(field(this.raw, "threads")), threadOf));
  }

  get logentry(): LogEntry | undefined {
    this.logentryRead ??= { value: logEntryOf(aliased(this.raw, "logentry", ["sentry.interfaces.Message", "message"])) };
    return this.logentryRead.value;
  }

  get request(): Request | undefined {
    this.requestRead ??= { value: requestOf(aliased(this.raw, "request", ["sentry.interfaces.Http"])) };
    return this.requestRead.value;
  }

  get user(): User | undefined {
    const user = objectOf(aliased(this.raw, "user", ["sentry.interfaces.User"]));
    if (user === undefined) return undefined;
    return {
      id: lenientString(field(user, "id")),
      email: stringOf(field(user, "email")),
      username: stringOf(field(user, "username")),
      ip_address: stringOf(field(user, "ip_address")),
    };
  }

  get tags(): readonly Pair[] {
    return (this.tagsRead ??= pairsOf(field(this.raw, "tags"), tagKeyOf, tagValueOf));
  }

  get breadcrumbs(): readonly Breadcrumb[] {
    return (this.breadcrumbsRead ??= mapPresent(valuesOf(aliased(this.raw, "breadcrumbs", ["sentry.interfaces.Breadcrumbs"])), breadcrumbOf));
  }

  get template(): Template | undefined {
    const template = objectOf(aliased(this.raw, "template", ["sentry.interfaces.Template"]));
    if (template === undefined) return undefined;
    return {
      filename: stringOf(field(template, "filename")),
      abs_path: stringOf(field(template, "abs_path")),
      lineno: integerOf(field(template, "lineno")),
    };
  }

  get trace_id(): string | undefined {
    const contexts = objectOf(aliased(this.raw, "contexts", ["sentry.interfaces.Contexts"]));
    return stringOf(field(objectOf(field(contexts, "trace")), "trace_id"));
  }

  get security_report(): SecurityReportKind | undefined {
    for (const [kind, alias] of SECURITY_INTERFACES) {
      if (objectOf(aliased(this.raw, kind, [alias])) !== undefined) return kind;
    }
    return undefined;
  }
}

const SECURITY_INTERFACES: ReadonlyArray<readonly [SecurityReportKind, string]> = [
  ["csp", "sentry.interfaces.Csp"],
  ["hpkp", "sentry.interfaces.Hpkp"],
  ["expectct", "sentry.interfaces.ExpectCT"],
  ["expectstaple", "sentry.interfaces.ExpectStaple"],
];

const LEVELS: ReadonlyMap<unknown, Level> = new Map<unknown, Level>([
  ["debug", "debug"], ["info", "info"], ["log", "info"], ["warning", "warning"], ["error", "error"],
  ["fatal", "fatal"], ["critical", "fatal"],
  // Python logging's numeric levels, as Raven sent them.
  [10, "debug"], [20, "info"], [30, "warning"], [40, "error"], [50, "fatal"],
]);

function levelOf(value: unknown): Level | undefined {
  return LEVELS.get(value);
}

function exceptionOf(value: unknown): Exception | undefined {
  const exception = objectOf(value);
  if (exception === undefined) return undefined;
  const mechanism = objectOf(field(exception, "mechanism"));
  return {
    type: stringOf(field(exception, "type")),
    value: jsonLenientString(field(exception, "value")),
    module: stringOf(field(exception, "module")),
    mechanism: mechanism && { type: stringOf(field(mechanism, "type")) },
    stacktrace: stacktraceOf(aliased(exception, "stacktrace", ["sentry.interfaces.Stacktrace"])),
  };
}

function stacktraceOf(value: unknown): Stacktrace | undefined {
  const stacktrace = objectOf(value);
  if (stacktrace === undefined) return undefined;
  return { frames: mapPresent(listOf(field(stacktrace, "frames")), frameOf) };
}

function frameOf(value: unknown): Frame | undefined {
  const frame = objectOf(value);
  if (frame === undefined) return undefined;
  return {
    function: stringOf(field(frame, "function")),
    module: stringOf(field(frame, "module")),
    filename: stringOf(field(frame, "filename")),
    abs_path: stringOf(field(frame, "abs_path")),
    in_app: booleanOf(field(frame, "in_app")),
  };
}

function threadOf(value: unknown): Thread | undefined {
  const thread = objectOf(value);
  if (thread === undefined) return undefined;
  return {
    crashed: booleanOf(field(thread, "crashed")),
    current: booleanOf(field(thread, "current")),
    stacktrace: stacktraceOf(field(thread, "stacktrace")),
  };
}

/**
 * Relay's `LogEntry`: an object with `message`/`formatted`, or the legacy
 * bare message, which is the formatted text (`false` means none, any other
 * JSON value is its JSON text, as Sentry historically did).
 */
function logEntryOf(value: unknown): LogEntry | undefined {
  if (value === undefined || value === false) return undefined;
  const entry = objectOf(value);
  if (entry === undefined) return { formatted: jsonLenientString(value) };
  return { message: stringOf(field(entry, "message")), formatted: stringOf(field(entry, "formatted")) };
}

function requestOf(value: unknown): Request | undefined {
  const request = objectOf(value);
  if (request === undefined) return undefined;
  return {
    url: stringOf(field(request, "url")),
    method: stringOf(field(request, "method")),
    headers: pairsOf(field(request, "headers"), stringOf, headerValueOf),
  };
}

/** Relay's `HeaderValue`: a lenient string, or a list of them joined with commas. */
function headerValueOf(value: unknown): string | undefined {
  if (!Array.isArray(value)) return lenientString(value);
  return mapPresent(value, lenientString).join(",");
}

/** Relay's `TagEntry`: lenient strings, the key trimmed with spaces as dashes, the value trimmed. */
function tagKeyOf(value: unknown): string | undefined {
  return lenientString(value)?.trim().replaceAll(" ", "-");
}

function tagValueOf(value: unknown): string | undefined {
  return lenientString(value)?.trim();
}

function breadcrumbOf(value: unknown): Breadcrumb | undefined {
  const crumb = objectOf(value);
  if (crumb === undefined) return undefined;
  return {
    type: stringOf(field(crumb, "type")),
    category: stringOf(field(crumb, "category")),
    message: stringOf(field(crumb, "message")),
    level: levelOf(field(crumb, "level")),
  };
}

const EMPTY: JsonObject = Object.freeze({});

/**
 * The read model of parsed event JSON. Anything that is not a JSON object
 * reads as an empty event; a model passed in is returned as it is. Building
 * one is a single small object: its parts are read when first asked for.
 */
export function readEvent(json: unknown): Event {
  if (json instanceof EventView) return json;
  return new EventView(objectOf(json) ?? EMPTY);
}

// Keyed by the item, not by the parsed object: a model holds its parsed
// object, and a WeakMap whose value holds its own key costs the garbage
// collector more than building the model (ephemeron cycles).
const models = new WeakMap<EnvelopeItem, Event | null>();

/**
 * The read model of an item's payload, built once per item however many
 * stages read it; undefined when the payload is not a JSON object.
 */
export function eventOf(item: EnvelopeItem): Event | undefined {
  let model = models.get(item);
  if (model === undefined) {
    const json = cachedItemJson(item);
    model = objectOf(json) === undefined ? null : readEvent(json);
    models.set(item, model);
  }
  return model ?? undefined;
}

/** A request header's value by name, compared case-insensitively as HTTP does; the first one wins. */
export function header(request: Request | undefined, name: string): string | undefined {
  if (request === undefined) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of request.headers) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/** A tag's value by key; the first one wins, as in Relay. */
export function tag(event: Event, key: string): string | undefined {
  for (const [name, value] of event.tags) if (name === key) return value;
  return undefined;
}
