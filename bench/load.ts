import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface LoadResult {
  /** Answers by HTTP status; network failures under 0. */
  statuses: Map<number, number>;
  /** Per request, in ms, sorted. */
  latencies: number[];
  seconds: number;
}

/** POSTs `count` requests with `concurrency` in flight, bounded in count, from this process. */
export async function postMany(
  url: string,
  count: number,
  concurrency: number,
  body: (i: number) => Uint8Array | string,
  headers: Record<string, string>,
): Promise<LoadResult> {
  const statuses = new Map<number, number>();
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++;
      const t0 = performance.now();
      let status = 0;
      try {
        const res = await fetch(url, { method: "POST", body: body(i), headers });
        await res.arrayBuffer();
        status = res.status;
      } catch {
        // counted under 0
      }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      latencies.push(performance.now() - t0);
    }
  }));
  latencies.sort((a, b) => a - b);
  return { statuses, latencies, seconds: (performance.now() - started) / 1000 };
}

export function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** An upstream that reads and discards each body and answers like Sentry. */
export async function startNullUpstream(): Promise<{ server: Server; port: number; count: () => number }> {
  let count = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      count++;
      res.writeHead(200, { "content-type": "application/json" }).end('{"id":"x"}');
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, port: (server.address() as AddressInfo).port, count: () => count };
}
