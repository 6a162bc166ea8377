/**
 * An error that becomes an HTTP answer in Sentry's shape: `{"detail": "..."}`.
 * Everything the ingest path rejects is thrown as one of these; anything else
 * that escapes is a bug and answers 500.
 */
export class RelayError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = "RelayError";
  }
}

/** The most of one piece of request text a detail repeats. */
export const MAX_ECHOED_CHARS = 64;

/**
 * Request text as a detail may quote it, in double quotes: every character
 * outside printable ASCII (and `"`, `\`) written as `\uXXXX`, so neither a
 * CR/LF nor raw UTF-8 can reach a header, and cut to `max` characters of
 * output, so no sender can make an answer large.
 */
export function quoted(text: string, max: number = MAX_ECHOED_CHARS): string {
  let out = "";
  let i = 0;
  for (; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const piece = code >= 0x20 && code <= 0x7e && code !== 0x22 && code !== 0x5c ? text[i]! : `\\u${code.toString(16).padStart(4, "0")}`;
    if (out.length + piece.length > max) break;
    out += piece;
  }
  return `"${out}${i < text.length ? "..." : ""}"`;
}

/** Longest `X-Sentry-Error` value sent. */
const MAX_HEADER_CHARS = 256;

/**
 * A detail as a header value: printable ASCII only (anything else becomes
 * `?`), and bounded. The last guard: details should already quote request
 * text with `quoted`.
 */
export function headerSafe(text: string): string {
  let out = "";
  for (let i = 0; i < Math.min(text.length, MAX_HEADER_CHARS); i++) {
    const code = text.charCodeAt(i);
    out += code >= 0x20 && code <= 0x7e ? text[i] : "?";
  }
  return text.length > MAX_HEADER_CHARS ? `${out}...` : out;
}

/**
 * Headers for an error answer built as a value rather than thrown (a 429 from
 * a quota, an upstream refusal): `X-Sentry-Error` repeats the detail, as on
 * every error answer the relay gives and as Sentry sends it.
 */
export function errorHeaders(detail: string, headers: Record<string, string> = {}): Record<string, string> {
  return { "x-sentry-error": headerSafe(detail), ...headers };
}
