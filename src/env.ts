import type { SpoolMessage } from "./forward/spool";
import type { QuotaCounter } from "./limits/counter-do";
import type { OutcomeLedger } from "./stats/ledger-do";
import type { FingerprintStore } from "./stats/fingerprint-do";

/** Bindings from wrangler.toml. */
export interface Env {
  /** The relay's configuration document (see src/config/schema.ts). */
  RELAY_CONFIG?: string;
  /** R2 bucket for projects with `"archive": true`. */
  ARCHIVE?: R2Bucket;
  /** Quota counters, one Durable Object per project. */
  QUOTAS?: DurableObjectNamespace<QuotaCounter>;
  /** Outcome ledgers (stats), one Durable Object per project; without it nothing is recorded. */
  LEDGER?: DurableObjectNamespace<OutcomeLedger>;
  /** Fingerprint state (first/last seen, counts, status), one Durable Object per project. */
  FINGERPRINTS?: DurableObjectNamespace<FingerprintStore>;
  /** The spool: envelopes the upstream could not take, retried by the queue consumer. */
  SPOOL?: Queue<SpoolMessage>;
  /** Bearer token for the admin API (a Worker secret); unset disables the admin API. */
  ADMIN_TOKEN?: string;
}
