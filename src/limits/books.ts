import type { Env } from "../env";
import type { LeaseCall } from "./leases";
import { LeaseBook } from "./leases";

/** One lease book per project (and leasing mode) per isolate. */
const books = new Map<string, LeaseBook>();

export function bookFor(projectId: string, leasing: boolean): LeaseBook {
  const name = `${projectId}/${leasing ? "lease" : "exact"}`;
  let book = books.get(name);
  if (!book) {
    book = new LeaseBook(leasing);
    books.set(name, book);
  }
  return book;
}

/** The project's counter: one Durable Object per project. */
export function counterFor(env: Env, projectId: string): LeaseCall | undefined {
  const namespace = env.QUOTAS;
  if (!namespace) return undefined;
  return (requests) => namespace.get(namespace.idFromName(projectId)).lease(requests);
}
