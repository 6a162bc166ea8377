import { loadConfig } from "../config/load";
import { projectById } from "../config/projects";
import { itemCategory, itemQuantity } from "../envelope/categories";
import { EnvelopeError } from "../envelope/errors";
import { parseEnvelope } from "../envelope/parse";
import type { Env } from "../env";
import type { Outcome } from "../outcomes";
import { archiveKey } from "./archive";
import { backoffOf, DEFAULT_BACKOFF, parseRetryAfter, retryDelaySeconds } from "./backoff";
import { breakers, breakerTiming, DEFAULT_TIMING, throughBreaker } from "./breaker";
import { recordOutcomes } from "./client-reports";
import { gzipForWire } from "./compress";
import { putKnownLength, spooledEnvelope, type SpoolMessage } from "./spool";
import { accepted, sendToUpstream, upstreamTarget } from "./upstream";

/** How often the queue redelivers before a message goes to the dead-letter queue (wrangler.toml `max_retries`). */
export const MAX_ATTEMPTS = 10;

/**
 * The spool's consumer: sends each envelope upstream again. Accepted → done;
 * 429 → again after its Retry-After; 5xx, timeout, network, or an open
 * breaker → again after an exponential, jittered delay; any other 4xx → the
 * upstream will never take it: dropped as `invalid`, with its answer logged.
 * Every answer below 500 (the 429 and the 4xx too) closes the host's breaker:
 * the host is up (see breaker.ts).
 */
export async function consumeSpool(batch: MessageBatch<SpoolMessage>, env: Env, clock: number | undefined = undefined): Promise<void> {
  const config = loadConfig(env.RELAY_CONFIG);
  const backoff = config.ok ? backoffOf(config.config.delivery) : DEFAULT_BACKOFF;
  const timing = config.ok ? breakerTiming(config.config.delivery, config.config.upstreamTimeoutMs) : DEFAULT_TIMING;
  for (const message of batch.messages) {
    // Each message's own time: a batch may spend an upstream timeout on each.
    const now = clock ?? Date.now();
    const spooled = message.body;
    const project = config.ok ? projectById(config.config, spooled.projectId) : undefined;
    if (!config.ok) {
      message.retry({ delaySeconds: 60 });
      continue;
    }
    if (!project?.upstream) {
      // Accepted with 200, so not dropped: retried until the dead-letter queue keeps it in R2.
      console.error(`edge-relay: spooled envelope for project ${spooled.projectId} has no upstream any more; retrying until it is a dead letter`);
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts, undefined, Math.random, backoff) });
      continue;
    }
    const body = await spooledEnvelope(env, spooled);
    if (!body) {
      console.error(`edge-relay: spooled envelope ${spooled.r2Key} is missing from R2; dropped`);
      message.ack();
      continue;
    }
    const target = upstreamTarget(project.upstream);
    const host = new URL(target.url).host;
    const result = await throughBreaker(breakers, host, now, timing, async () =>
      sendToUpstream(target, await gzipForWire(body), { timeoutMs: config.config.upstreamTimeoutMs }));
    if (result.kind === "breaker-open") {
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts, undefined, Math.random, backoff) });
    } else if (accepted(result)) {
      message.ack();
      if (spooled.r2Key) await env.ARCHIVE?.delete(spooled.r2Key);
    } else if (result.kind === "response" && result.status === 429) {
      const retryAfter = parseRetryAfter(result.headers.get("retry-after"), now) ?? 60;
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts, retryAfter, Math.random, backoff) });
    } else if (result.kind === "response" && result.status < 500) {
      console.error(`edge-relay: upstream refused a spooled envelope for project ${spooled.projectId} with ${result.status}: ${result.body.slice(0, 200)}`);
      recordOutcomes(spooled.projectId, invalidOutcomes(spooled), now);
      message.ack();
    } else {
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts, undefined, Math.random, backoff) });
    }
  }
}

/**
 * The dead-letter queue's consumer: what could not be delivered after every
 * retry is written to R2 under `dead-letter/`, so it is kept (and can be
 * replayed) even for projects that do not archive.
 */
export async function consumeDeadLetters(batch: MessageBatch<SpoolMessage>, env: Env, now: number = Date.now()): Promise<void> {
  for (const message of batch.messages) {
    const spooled = message.body;
    const body = await spooledEnvelope(env, spooled);
    if (!body || !env.ARCHIVE) {
      console.error(`edge-relay: dead letter for project ${spooled.projectId} could not be kept`);
      message.retry({ delaySeconds: 60 });
      continue;
    }
    const key = `dead-letter/${archiveKey(spooled.projectId, spooled.eventId ?? message.id, new Date(now))}`;
    await putKnownLength(env.ARCHIVE, key, body, {
      customMetadata: { project: spooled.projectId, reason: spooled.reason, spooledAt: new Date(spooled.spooledAt).toISOString(), attempts: String(message.attempts) },
    });
    console.error(`edge-relay: envelope for project ${spooled.projectId} undeliverable after retries; kept at ${key}`);
    // The dead letter is the copy now; the spool's own would only linger.
    if (spooled.r2Key) await env.ARCHIVE.delete(spooled.r2Key);
    message.ack();
  }
}

function invalidOutcomes(message: SpoolMessage): Outcome[] {
  if (message.quantities) {
    return message.quantities.map(({ category, quantity }) => ({ category, reason: "invalid" as const, quantity, detail: "upstream_rejected" }));
  }
  // Messages spooled before quantities were recorded: read the envelope, when it travelled in the message.
  if (!message.body) return [];
  try {
    return parseEnvelope(new Uint8Array(message.body)).items.flatMap((item) => {
      const category = itemCategory(item.header);
      return category ? [{ category, reason: "invalid" as const, quantity: itemQuantity(item), detail: "upstream_rejected" }] : [];
    });
  } catch (err) {
    if (err instanceof EnvelopeError) return [];
    throw err;
  }
}
