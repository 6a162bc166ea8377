import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";

export interface ReceivedItem {
  header: Record<string, unknown>;
  payload: Buffer;
  json(): any;
}

/** One request the fake upstream saw, whatever it was. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body as it came over the wire (still compressed, if it was). */
  wire: Buffer;
  /** The body after `content-encoding` was undone; absent when that failed. */
  body?: Buffer;
  /** The envelope in the body, when it parsed as one. */
  envelope?: ReceivedEnvelope;
  /** Why the body could not be decoded or parsed. */
  error?: string;
  /** The status this server answered. */
  status: number;
}

export interface ReceivedEnvelope {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  header: Record<string, unknown>;
  items: ReceivedItem[];
  /** The decompressed body. */
  raw: Buffer;
  /** The status this server answered: an envelope answered with an error was not "stored". */
  status: number;
  accepted: boolean;
}

/** How to answer one request; every field optional. */
export interface UpstreamResponse {
  status?: number;
  headers?: Record<string, string>;
  /** A string or an object (sent as JSON). Default: `{"id": <event_id>}`, or `{"detail": ...}` for errors. */
  body?: string | Record<string, unknown>;
  /** Wait this long before answering (to make the relay's request time out). */
  delayMs?: number;
  /** Drop the connection without an answer. */
  destroy?: boolean;
}

export type Responder = (request: RecordedRequest) => UpstreamResponse | undefined;

/**
 * A Sentry-compatible upstream that records every request it is sent. It
 * decodes and parses envelopes with its own few lines, independent of the
 * relay's code, so a bug there cannot hide itself here. It answers
 * `200 {"id": …}` unless told otherwise (`respondOnce`, `respondWith`).
 */
export class FakeUpstream {
  /** Every request, in arrival order. */
  readonly requests: RecordedRequest[] = [];
  /** Every request whose body parsed as an envelope, answered with any status. */
  readonly received: ReceivedEnvelope[] = [];
  private queued: UpstreamResponse[] = [];
  private responder: Responder | undefined;
  private server!: Server;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => void this.handle(req, Buffer.concat(chunks), res));
    });
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  dsn(publicKey: string, projectId: string): string {
    return `http://${publicKey}@127.0.0.1:${this.port}/${projectId}`;
  }

  /** The next request (one per call, in order) gets this answer instead of the default. */
  respondOnce(response: UpstreamResponse): this {
    this.queued.push(response);
    return this;
  }

  /** Decide the answer to every request (after queued ones); return undefined for the default. */
  respondWith(responder: Responder | undefined): this {
    this.responder = responder;
    return this;
  }

  /** Every item of the given type in envelopes this server accepted (2xx), with its envelope. */
  items(type: string): Array<{ envelope: ReceivedEnvelope; item: ReceivedItem }> {
    return this.received
      .filter((envelope) => envelope.accepted)
      .flatMap((envelope) => envelope.items.filter((item) => item.header.type === type).map((item) => ({ envelope, item })));
  }

  /** The accepted event item with this id (hyphenated or not), if it arrived. */
  event(eventId: string): { envelope: ReceivedEnvelope; item: ReceivedItem } | undefined {
    const id = eventId.replace(/-/g, "").toLowerCase();
    return this.items("event").find(({ item }) => String(item.json().event_id).replace(/-/g, "").toLowerCase() === id);
  }

  /** Polls `find` until it returns something other than undefined/false/null. */
  async waitFor<T>(find: () => T | undefined | null | false, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found !== undefined && found !== false && found !== null) return found;
      if (Date.now() > deadline) {
        throw new Error(`fake upstream: nothing matching arrived within ${timeoutMs} ms; got ${this.describe()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Waits for an accepted envelope matching `match`. */
  waitForEnvelope(match: (envelope: ReceivedEnvelope) => boolean, timeoutMs?: number): Promise<ReceivedEnvelope> {
    return this.waitFor(() => this.received.find((envelope) => envelope.accepted && match(envelope)), timeoutMs);
  }

  /** Waits for the accepted event item with this id. */
  waitForEvent(eventId: string, timeoutMs?: number): Promise<{ envelope: ReceivedEnvelope; item: ReceivedItem }> {
    return this.waitFor(() => this.event(eventId), timeoutMs);
  }

  /** Forgets every request and every programmed answer. */
  reset(): void {
    this.requests.length = 0;
    this.received.length = 0;
    this.queued = [];
    this.responder = undefined;
  }

  async close(): Promise<void> {
    if (!this.server?.listening) return;
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  stop(): Promise<void> {
    return this.close();
  }

  /** A short account of what arrived, for failure messages. */
  describe(): string {
    if (this.requests.length === 0) return "no request at all";
    return `${this.requests.length} request(s): ${this.requests
      .slice(-10)
      .map((r) => {
        const types = r.envelope?.items.map((i) => i.header.type).join("+");
        return `${r.method} ${r.path} -> ${r.status}${types ? ` [${types}]` : ""}${r.error ? ` (${r.error})` : ""}`;
      })
      .join("; ")}`;
  }

  private async handle(req: IncomingMessage, wire: Buffer, res: ServerResponse): Promise<void> {
    const record: RecordedRequest = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, wire, status: 0 };
    let eventId: unknown;
    try {
      record.body = decodeBody(wire, req.headers["content-encoding"]);
      if (record.method === "POST") {
        const { header, items } = parseEnvelope(record.body);
        eventId = header.event_id;
        record.envelope = { method: record.method, path: record.path, headers: req.headers, header, items, raw: record.body, status: 0, accepted: false };
      }
    } catch (err) {
      record.error = (err as Error).message;
    }
    this.requests.push(record);
    if (record.envelope) this.received.push(record.envelope);

    const programmed = this.queued.shift() ?? this.responder?.(record);
    const fallback: UpstreamResponse = record.error
      ? { status: 400, body: { detail: `fake upstream: ${record.error}` } }
      : { status: 200 };
    const answer = { ...fallback, ...programmed };
    const status = answer.status ?? 200;
    record.status = status;
    if (record.envelope) {
      record.envelope.status = status;
      record.envelope.accepted = status >= 200 && status < 300 && !answer.destroy;
    }

    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (answer.destroy) {
      record.status = 0;
      req.socket.destroy();
      return;
    }
    const body =
      answer.body === undefined
        ? JSON.stringify(status < 300 ? { id: eventId ?? null } : { detail: `fake upstream answered ${status}` })
        : typeof answer.body === "string"
          ? answer.body
          : JSON.stringify(answer.body);
    if (res.destroyed) return;
    res.writeHead(status, { "content-type": "application/json", ...answer.headers }).end(body);
  }
}

/** Undoes `content-encoding` (none, identity, gzip, deflate (zlib), br). */
export function decodeBody(body: Buffer, encoding: string | undefined): Buffer {
  switch ((encoding ?? "").trim().toLowerCase()) {
    case "":
    case "identity":
      return body;
    case "gzip":
    case "x-gzip":
      return gunzipSync(body);
    case "deflate":
      return inflateSync(body);
    case "br":
      return brotliDecompressSync(body);
    default:
      throw new Error(`unexpected content-encoding ${encoding}`);
  }
}

/**
 * Sentry's envelope format, strictly: a JSON header line, then items, each a
 * JSON header line and a payload of exactly `length` bytes when `length` is
 * given (followed by a newline or the end), else up to the next newline.
 */
export function parseEnvelope(raw: Buffer): { header: Record<string, unknown>; items: ReceivedItem[] } {
  let newline = raw.indexOf(10);
  if (newline === -1) newline = raw.length;
  const header = jsonObject(raw.subarray(0, newline), "envelope header");
  const items: ReceivedItem[] = [];
  let offset = newline + 1;
  while (offset < raw.length) {
    let end = raw.indexOf(10, offset);
    if (end === -1) end = raw.length;
    const line = raw.subarray(offset, end);
    offset = end + 1;
    // Blank lines between items (a trailing newline) are allowed.
    if (line.toString("utf8").trim() === "") continue;
    const itemHeader = jsonObject(line, `header of item ${items.length}`);
    if (typeof itemHeader.type !== "string") throw new Error(`item ${items.length} has no type`);
    let payload: Buffer;
    if (itemHeader.length !== undefined) {
      const length = itemHeader.length;
      if (typeof length !== "number" || !Number.isInteger(length) || length < 0) throw new Error(`item ${items.length}: bad length ${JSON.stringify(length)}`);
      if (offset + length > raw.length) throw new Error(`item ${items.length}: length ${length} runs past the body (${raw.length - offset} bytes left)`);
      payload = raw.subarray(offset, offset + length);
      offset += length;
      if (offset < raw.length) {
        if (raw[offset] !== 10) throw new Error(`item ${items.length}: no newline after its ${length}-byte payload`);
        offset += 1;
      }
    } else {
      let stop = raw.indexOf(10, offset);
      if (stop === -1) stop = raw.length;
      payload = raw.subarray(offset, stop);
      offset = stop + 1;
    }
    items.push({ header: itemHeader, payload, json: () => JSON.parse(payload.toString("utf8")) });
  }
  return { header, items };
}

function jsonObject(bytes: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    throw new Error(`${what} is not JSON: ${(err as Error).message}: ${bytes.subarray(0, 80).toString("utf8")}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}
