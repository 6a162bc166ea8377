import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { decodeBody } from "../../test/e2e/support/fake-upstream";

/** One request a client sent, as it came (body with content-encoding undone). */
export interface Recorded {
  client: string;
  step: string;
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * A Sentry-shaped HTTP server that keeps every request it gets. Clients name
 * what they are about to send with `GET /__step/<what>`; it answers like
 * Sentry (200 `{"id": …}`) and allows any origin, so browsers read answers.
 */
export class Recorder {
  readonly requests: Recorded[] = [];
  client = "";
  private step = "start";
  private server!: Server;

  constructor(readonly port: number) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const url = new URL(req.url ?? "/", "http://recorder");
        const cors = {
          "access-control-allow-origin": String(req.headers.origin ?? "*"),
          "access-control-allow-headers": "*",
          "access-control-allow-methods": "GET, POST, OPTIONS",
          "access-control-expose-headers": "x-sentry-rate-limits, retry-after",
        };
        if (url.pathname.startsWith("/__step/")) {
          this.step = decodeURIComponent(url.pathname.slice("/__step/".length));
          res.writeHead(204, cors).end();
          return;
        }
        if (req.method === "OPTIONS") {
          res.writeHead(204, cors).end();
          return;
        }
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.join(", ") : String(value);
        let body: Buffer;
        try {
          body = decodeBody(Buffer.concat(chunks), headers["content-encoding"]);
        } catch {
          body = Buffer.concat(chunks);
        }
        this.requests.push({ client: this.client, step: this.step, method: req.method ?? "", path: url.pathname, query: url.search, headers, body });
        const firstLine = body.toString("utf8", 0, Math.min(body.length, 4096)).split("\n", 1)[0] ?? "";
        let id: unknown = null;
        try {
          id = (JSON.parse(firstLine) as { event_id?: unknown }).event_id ?? null;
        } catch {
          // not JSON in the first line (raven's base64 body): no id to echo
        }
        res.writeHead(200, { "content-type": "application/json", ...cors }).end(JSON.stringify({ id }));
      });
    });
    // Dual-stack, so clients may reach it as `localhost` over IPv4 or IPv6.
    this.server.listen(this.port, "::");
    await once(this.server, "listening");
    return this;
  }

  /** Starts a new client: its requests are named after it, from step "start". */
  begin(client: string): void {
    this.client = client;
    this.step = "start";
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
