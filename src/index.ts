import { app } from "./app";
import type { Env } from "./env";

export { QuotaCounter } from "./limits/counter-do";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
