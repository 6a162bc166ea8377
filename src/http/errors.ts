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
