import { app } from "./app";
import type { Env } from "./env";
import { consumeDeadLetters, consumeSpool } from "./forward/consumer";
import type { SpoolMessage } from "./forward/spool";

export { QuotaCounter } from "./limits/counter-do";
export { OutcomeLedger } from "./stats/ledger-do";
export { FingerprintStore } from "./stats/fingerprint-do";

export default {
  fetch: app.fetch,
  async queue(batch, env, _ctx) {
    if (batch.queue.endsWith("-dlq")) await consumeDeadLetters(batch, env);
    else await consumeSpool(batch, env);
  },
} satisfies ExportedHandler<Env, SpoolMessage>;
