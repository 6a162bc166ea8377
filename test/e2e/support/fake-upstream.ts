import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";

export interface ReceivedItem {
  header: Record<string, unknown>;
  payload: Buffer;
  json(): any;
}

export interface ReceivedEnvelope {
  path: string;
  headers: IncomingHttpHeaders;
  header: Record<string, unknown>;
  items: ReceivedItem[];
  raw: Buffer;
}

/**
 * A Sentry-compatible upstream that records every envelope it is sent. It
 * parses envelopes with its own few lines, independent of the relay's parser,
 * so a bug there cannot hide itself here.
 */
export class FakeUpstream {
  readonly received: ReceivedEnvelope[] = [];
  private server!: Server;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        try {
          const raw = decode(Buffer.concat(chunks), req.headers["content-encoding"]);
          const { header, items } = parse(raw);
          this.received.push({ path: req.url ?? "", headers: req.headers, header, items, raw });
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id: header.event_id ?? null }));
        } catch (err) {
          res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ detail: String(err) }));
        }
      });
    });
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  dsn(publicKey: string, projectId: string): string {
    return `http://${publicKey}@127.0.0.1:${this.port}/${projectId}`;
  }

  /** Every item of the given type received so far, with its envelope. */
  items(type: string): Array<{ envelope: ReceivedEnvelope; item: ReceivedItem }> {
    return this.received.flatMap((envelope) =>
      envelope.items.filter((item) => item.header.type === type).map((item) => ({ envelope, item })),
    );
  }

  async waitFor<T>(find: () => T | undefined, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found !== undefined && found !== false) return found;
      if (Date.now() > deadline) throw new Error(`fake upstream: nothing matching arrived within ${timeoutMs} ms; got ${this.received.length} envelopes`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

function decode(body: Buffer, encoding: string | undefined): Buffer {
  switch (encoding) {
    case undefined:
    case "":
    case "identity":
      return body;
    case "gzip":
      return gunzipSync(body);
    case "deflate":
      return inflateSync(body);
    case "br":
      return brotliDecompressSync(body);
    default:
      throw new Error(`unexpected content-encoding ${encoding}`);
  }
}

function parse(raw: Buffer): { header: Record<string, unknown>; items: ReceivedItem[] } {
  let newline = raw.indexOf(10);
  if (newline === -1) newline = raw.length;
  const header = JSON.parse(raw.subarray(0, newline).toString("utf8"));
  const items: ReceivedItem[] = [];
  let offset = newline + 1;
  while (offset < raw.length) {
    let end = raw.indexOf(10, offset);
    if (end === -1) end = raw.length;
    const line = raw.subarray(offset, end).toString("utf8").trim();
    offset = end + 1;
    if (!line) continue;
    const itemHeader = JSON.parse(line);
    let payload: Buffer;
    if (typeof itemHeader.length === "number") {
      payload = raw.subarray(offset, offset + itemHeader.length);
      offset += itemHeader.length + 1;
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
