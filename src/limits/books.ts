import type { Env } from "../env";
import type { LeaseCall } from "./leases";
import { DEFAULT_BOOK_KEYS, LeaseBook, sharedKeyStore, type KeyStore } from "./leases";

/**
 * One lease book per project (and leasing mode) per isolate: keyed by
 * configured project ids, so bounded by the config. A quota book keeps its
 * own keys (quota ids × configured public keys, and the project-rate keys:
 * a handful); the spike books' keys are fingerprints, which senders choose,
 * so all of them share one store of `maxKeys` keys: the isolate holds that
 * many fingerprints at most, however many projects are flooded at once.
 */
const books = new Map<string, LeaseBook>();
let fingerprints: KeyStore | undefined;

export function bookFor(projectId: string, leasing: boolean, maxKeys: number = DEFAULT_BOOK_KEYS): LeaseBook {
  const name = `${projectId}/${leasing ? "lease" : "exact"}`;
  let book = books.get(name);
  if (!book) {
    book = new LeaseBook(leasing, maxKeys);
    books.set(name, book);
  }
  book.resize(maxKeys);
  return book;
}

/** The project's per-fingerprint book, its keys in the isolate's one fingerprint store. */
export function spikeBookFor(projectId: string, leasing: boolean, maxKeys: number = DEFAULT_BOOK_KEYS): LeaseBook {
  fingerprints ??= sharedKeyStore(maxKeys);
  const name = `${projectId}/spike/${leasing ? "lease" : "exact"}`;
  let book = books.get(name);
  if (!book) {
    // The project id ends the prefix with a character no project id has, so no two projects' keys meet.
    book = new LeaseBook(leasing, { store: fingerprints, prefix: `${name}\u0000` });
    books.set(name, book);
  }
  book.resize(maxKeys);
  return book;
}

/** The project's counter: one Durable Object per project. */
export function counterFor(env: Env, projectId: string): LeaseCall | undefined {
  const namespace = env.QUOTAS;
  if (!namespace) return undefined;
  return (requests) => namespace.get(namespace.idFromName(projectId)).lease(requests);
}

/** Spike counters are spread over this many Durable Objects per project, by fingerprint. */
export const SPIKE_SHARDS = 16;

/**
 * The counter for per-fingerprint keys (`fp:<md5>`): one Durable Object per
 * shard, so one hot fingerprint cannot stall the project's other counters.
 */
export function spikeCounterFor(env: Env, projectId: string): LeaseCall | undefined {
  const namespace = env.QUOTAS;
  if (!namespace) return undefined;
  return async (requests) => {
    const byShard = new Map<number, typeof requests>();
    for (const request of requests) {
      const shard = Number.parseInt(request.key.slice(3, 7), 16) % SPIKE_SHARDS || 0;
      byShard.set(shard, [...(byShard.get(shard) ?? []), request]);
    }
    const grants = await Promise.all([...byShard].map(([shard, batch]) =>
      namespace.get(namespace.idFromName(`${projectId}/spike/${shard}`)).lease(batch)));
    return grants.flat();
  };
}
