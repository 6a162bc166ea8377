/** Bindings from wrangler.toml. */
export interface Env {
  /** The relay's configuration document (see src/config/schema.ts). */
  RELAY_CONFIG?: string;
  /** R2 bucket for projects with `"archive": true`. */
  ARCHIVE?: R2Bucket;
}
