import type { ProjectConfig, RelayConfig } from "./schema";

/**
 * The project configured under `id`, by own keys only: ids come from URLs,
 * DSNs and queue messages, and a plain lookup would find `__proto__`,
 * `constructor` or `toString` on every object.
 */
export function projectById(config: Pick<RelayConfig, "projects">, id: string): ProjectConfig | undefined {
  return Object.hasOwn(config.projects, id) ? config.projects[id] : undefined;
}
