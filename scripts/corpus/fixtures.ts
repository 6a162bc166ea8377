import { hostname } from "node:os";
import { inflateSync } from "node:zlib";
import type { Recorded } from "./recorder";

/** What the index says about one recorded request; the replay tests read it. */
export interface CorpusEntry extends Omit<Recorded, "body"> {
  file: string;
  /** How the client encoded the body beyond Content-Encoding (raven-node: base64 of zlib). */
  bodyEncoding?: "base64+deflate";
  /** Item types in the envelope, or the event type of a store body. */
  items: string[];
}

const KEPT_HEADERS = ["content-type", "content-encoding", "x-sentry-auth", "user-agent"];

/** Turns one recorded request into a fixture file's bytes and its index entry. */
export function toFixture(request: Recorded, n: number, key: string, root: string): { name: string; bytes: Buffer; entry: CorpusEntry } | undefined {
  let body = request.body;
  let bodyEncoding: CorpusEntry["bodyEncoding"];
  const text = body.toString("latin1");
  if (text.length > 0 && !text.startsWith("{") && /^[A-Za-z0-9+/=\s]+$/.test(text.slice(0, 200))) {
    // raven-node sends base64(zlib(json)) as application/octet-stream.
    body = inflateSync(Buffer.from(text, "base64"));
    bodyEncoding = "base64+deflate";
  }
  if (body.length === 0) return undefined;
  const envelope = !body.toString("utf8", 0, 1).startsWith("{") ? false : isEnvelope(body);
  const redacted = envelope ? redactEnvelope(body, root) : redactText(body, root);
  const items = envelope ? envelopeItemTypes(redacted) : [String((JSON.parse(redacted.toString("utf8")) as { type?: unknown }).type ?? "event")];
  const name = `${n}-${describe(request.step, items)}.${envelope ? "envelope" : "json"}`;
  const headers: Record<string, string> = {};
  for (const header of KEPT_HEADERS) {
    const value = request.headers[header];
    if (value !== undefined) headers[header] = redactText(Buffer.from(value.split(key).join("<key>")), root).toString("utf8");
  }
  return {
    name,
    bytes: redacted,
    entry: {
      file: `${request.client}/${name}`,
      client: request.client,
      step: request.step,
      method: request.method,
      path: request.path,
      query: request.query.split(key).join("<key>"),
      headers,
      ...(bodyEncoding ? { bodyEncoding } : {}),
      items,
    },
  };
}

/** The item types each step is meant to produce. */
const STEP_ITEMS: Record<string, string[]> = {
  exception: ["event"],
  message: ["event"],
  attachment: ["attachment"],
  transaction: ["transaction", "span"],
  log: ["log"],
  feedback: ["feedback"],
  "user-report": ["user_report"],
  "check-in": ["check_in"],
  session: ["session", "sessions"],
};

/**
 * A file is named after its step when it holds what the step sends; what an
 * SDK sent on its own meanwhile (a session update, a span) is named by its items.
 */
function describe(step: string, items: string[]): string {
  return STEP_ITEMS[step]?.some((type) => items.includes(type)) ? step : items.join("+");
}

function isEnvelope(body: Buffer): boolean {
  const newline = body.indexOf(10);
  if (newline === -1) return false;
  try {
    const second = body.toString("utf8", newline + 1, body.indexOf(10, newline + 1) === -1 ? body.length : body.indexOf(10, newline + 1));
    return typeof (JSON.parse(second) as { type?: unknown }).type === "string";
  } catch {
    return false;
  }
}

/** The names of this machine that may appear in frames, server_name and paths. */
function redactText(bytes: Buffer, root: string): Buffer {
  let text = bytes.toString("utf8");
  text = text.split(root).join("/srv/corpus");
  const host = hostname();
  // A short host name ("vm") is replaced only where it is a whole JSON string
  // (server_name, server.address); a long one wherever it appears.
  text = text.split(JSON.stringify(host)).join('"corpus-host"');
  if (host.length >= 6) text = text.split(host).join("corpus-host");
  return Buffer.from(text, "utf8");
}

interface Segment {
  header: Buffer;
  payload: Buffer;
  newline: boolean;
}

/**
 * Redacts inside each item and fixes its `length`, keeping the envelope's own
 * framing (trailing newlines, items without length) as the client wrote it.
 */
function redactEnvelope(raw: Buffer, root: string): Buffer {
  const first = raw.indexOf(10);
  const envelopeHeader = raw.subarray(0, first);
  const segments: Segment[] = [];
  let offset = first + 1;
  while (offset < raw.length) {
    let end = raw.indexOf(10, offset);
    if (end === -1) end = raw.length;
    const header = raw.subarray(offset, end);
    offset = end + 1;
    const length = (JSON.parse(header.toString("utf8")) as { length?: number }).length;
    let payload: Buffer;
    if (typeof length === "number") {
      payload = raw.subarray(offset, offset + length);
      offset += length;
    } else {
      let stop = raw.indexOf(10, offset);
      if (stop === -1) stop = raw.length;
      payload = raw.subarray(offset, stop);
      offset = stop;
    }
    const newline = offset < raw.length && raw[offset] === 10;
    if (newline) offset += 1;
    segments.push({ header, payload, newline });
  }
  const rebuilt = serialize(envelopeHeader, segments);
  if (!rebuilt.equals(raw)) throw new Error("envelope framing not understood; refusing to rewrite it");
  const redacted = segments.map((segment) => {
    const payload = redactText(segment.payload, root);
    if (payload.equals(segment.payload)) return segment;
    const headerText = segment.header.toString("utf8");
    const fixed = headerText.replace(/"length":\s*\d+/, `"length":${payload.length}`);
    return { header: Buffer.from(fixed), payload, newline: segment.newline };
  });
  return serialize(redactText(envelopeHeader, root), redacted);
}

function serialize(header: Buffer, segments: Segment[]): Buffer {
  const parts: Buffer[] = [header, Buffer.from("\n")];
  for (const segment of segments) {
    parts.push(segment.header, Buffer.from("\n"), segment.payload);
    if (segment.newline) parts.push(Buffer.from("\n"));
  }
  // The envelope header ends with a newline only if anything follows it.
  const joined = Buffer.concat(parts);
  return segments.length === 0 ? header : joined;
}

function envelopeItemTypes(raw: Buffer): string[] {
  const types: string[] = [];
  const first = raw.indexOf(10);
  let offset = first + 1;
  while (offset < raw.length) {
    let end = raw.indexOf(10, offset);
    if (end === -1) end = raw.length;
    const header = JSON.parse(raw.toString("utf8", offset, end)) as { type: string; length?: number };
    types.push(header.type);
    offset = end + 1;
    if (typeof header.length === "number") offset += header.length + 1;
    else {
      const stop = raw.indexOf(10, offset);
      offset = stop === -1 ? raw.length : stop + 1;
    }
  }
  return types;
}
