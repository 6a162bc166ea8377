import { Hono } from "hono";
import type { AppEnv } from "../ingest/endpoints";
import { archiveRoutes } from "./archive";
import { adminAuth } from "./auth";
import { fingerprintRoutes } from "./fingerprints";
import { adminQuotas } from "./quotas";
import { replayRoutes } from "./replay";
import { statsRoutes } from "./stats";

/** Everything under /admin: bearer ADMIN_TOKEN first, then the routes. */
export const admin = new Hono<AppEnv>();
admin.use("*", adminAuth);
admin.route("/", adminQuotas);
admin.route("/", replayRoutes);
admin.route("/", archiveRoutes);
admin.route("/", statsRoutes);
admin.route("/", fingerprintRoutes);
