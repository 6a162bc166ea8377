/**
 * `npm run bench:lease-memory`: what a lease book keyed by fingerprints costs
 * in V8's heap. A book is driven with distinct `fp:<32 hex>` keys through a
 * counter that grants what is asked (so only the book's memory counts), and
 * the heap is measured after a forced GC: bytes per key with no cap (200,000
 * keys), then the whole store after 1,000,000 keys under the default cap.
 * Keys are stored as the relay stores them: prefixed by the spike book's
 * name in the isolate's one fingerprint store. Needs `--expose-gc` (the npm script
 * passes it).
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { DEFAULT_BOOK_KEYS, LeaseBook, sharedKeyStore, type LeaseCall } from "../src/limits/leases";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc (npm run bench:lease-memory)");

const grantAll: LeaseCall = async (requests) => requests.map((r) => ({ key: r.key, granted: r.want, bucket: 29_000_000, used: r.want }));
/** Keys made as the spike stage makes them: `fp:` and an MD5 in hex. */
const fp = (i: number) => `fp:${createHash("md5").update(`bug ${i}`).digest("hex")}`;
const MiB = 1024 * 1024;
/** A spike book's prefix in the isolate's fingerprint store, as books.ts makes it. */
const PREFIX = "42/spike/lease\u0000";

function heap(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

async function fill(book: LeaseBook, keys: number, now: number): Promise<void> {
  for (let i = 0; i < keys; i++) {
    await book.take([{ quota: { key: fp(i), limit: 100, windowSeconds: 60 }, amounts: [1] }], grantAll, now);
  }
}

async function main(): Promise<void> {
  const now = Date.now();
  const uncappedKeys = 200_000;
  let before = heap();
  const uncapped = new LeaseBook(true, { store: sharedKeyStore(Number.MAX_SAFE_INTEGER), prefix: PREFIX });
  await fill(uncapped, uncappedKeys, now);
  const perKey = (heap() - before) / uncappedKeys;
  if (uncapped.size !== uncappedKeys) throw new Error("the uncapped book lost keys");

  before = heap();
  const capped = new LeaseBook(true, { store: sharedKeyStore(DEFAULT_BOOK_KEYS), prefix: PREFIX });
  await fill(capped, 1_000_000, now);
  const cappedBytes = heap() - before;

  const result = {
    bytesPerKey: Math.round(perKey),
    defaultCap: DEFAULT_BOOK_KEYS,
    defaultCapMiB: +((perKey * DEFAULT_BOOK_KEYS) / MiB).toFixed(2),
    afterOneMillionKeys: { keysHeld: capped.size, heapMiB: +(cappedBytes / MiB).toFixed(2) },
    uncapped200kMiB: +((perKey * uncappedKeys) / MiB).toFixed(2),
    node: process.version,
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync("bench/results", { recursive: true });
  writeFileSync("bench/results/lease-book-memory.json", `${JSON.stringify(result, null, 2)}\n`);
  // Keep both books alive until measured.
  if (uncapped.size + capped.size < 0) console.log("unreachable");
}

await main();
