/** Sent upstream in `sentry_client` and `User-Agent`. */
export const RELAY_CLIENT = "edge-relay/0.1.0";
