/**
 * What the relay reads of an event, typed. Every field is optional or an
 * empty list: a value of the wrong type in the payload reads as absent. Field
 * names are Sentry's, so a reader can map them to the protocol docs.
 */

export type Level = "debug" | "info" | "warning" | "error" | "fatal";

/** A `[name, value]` pair, as Sentry's pair lists (headers, tags) are sent. */
export type Pair = readonly [name: string, value: string];

export interface Frame {
  readonly function?: string;
  readonly module?: string;
  readonly filename?: string;
  readonly abs_path?: string;
  readonly in_app?: boolean;
}

export interface Stacktrace {
  /** Oldest call first, as Sentry orders them; entries that are not objects are left out. */
  readonly frames: readonly Frame[];
}

export interface Mechanism {
  readonly type?: string;
}

export interface Exception {
  readonly type?: string;
  readonly value?: string;
  readonly module?: string;
  readonly mechanism?: Mechanism;
  readonly stacktrace?: Stacktrace;
}

export interface Thread {
  readonly crashed?: boolean;
  readonly current?: boolean;
  readonly stacktrace?: Stacktrace;
}

export interface LogEntry {
  /** The template, e.g. `"Payment %s failed"`. */
  readonly message?: string;
  readonly formatted?: string;
}

export interface Request {
  readonly url?: string;
  readonly method?: string;
  /** In the order sent; names as sent (compare them case-insensitively). */
  readonly headers: readonly Pair[];
}

export interface User {
  readonly id?: string;
  readonly email?: string;
  readonly username?: string;
  readonly ip_address?: string;
}

export interface Breadcrumb {
  readonly type?: string;
  readonly category?: string;
  readonly message?: string;
  readonly level?: Level;
}

/** Raven-era template error location (`sentry.interfaces.Template`). */
export interface Template {
  readonly filename?: string;
  readonly abs_path?: string;
  readonly lineno?: number;
}

/** Sentry's event types for security reports, which are also the names of their interfaces. */
export type SecurityReportKind = "csp" | "hpkp" | "expectct" | "expectstaple";

export interface Event {
  readonly event_id?: string;
  /** As sent (`transaction`, `feedback`, `default`, `error`, ...); Sentry infers the rest. */
  readonly type?: string;
  readonly level?: Level;
  readonly platform?: string;
  readonly release?: string;
  readonly environment?: string;
  readonly transaction?: string;
  readonly culprit?: string;
  readonly logger?: string;
  /** The SDK's grouping override; undefined when absent or empty. */
  readonly fingerprint?: readonly string[];
  /** The exception chain, root cause first. */
  readonly exceptions: readonly Exception[];
  /** The deprecated event-level stack trace. */
  readonly stacktrace?: Stacktrace;
  readonly threads: readonly Thread[];
  /** `logentry`, or the legacy `message` / `sentry.interfaces.Message` it stands for. */
  readonly logentry?: LogEntry;
  readonly request?: Request;
  readonly user?: User;
  readonly tags: readonly Pair[];
  readonly breadcrumbs: readonly Breadcrumb[];
  readonly template?: Template;
  /** `contexts.trace.trace_id`. */
  readonly trace_id?: string;
  /** Which security report interface the event carries, if any. */
  readonly security_report?: SecurityReportKind;
}
