/// <reference types="vite/client" />
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import expectedChanges from "../fixtures/corpus/expected-changes.json";
import index from "../fixtures/corpus/index.json";
import type { CorpusEntry as Entry } from "../../scripts/corpus/fixtures";
import { KEY, UPSTREAM_DSN, UPSTREAM_KEY, compress, fakeUpstream, post, relay } from "./support/harness";

/**
 * Every payload `npm run corpus` recorded from a real client, replayed through
 * the whole pipeline with project 42's default config (default filters and
 * scrubbing). What reached the upstream must equal what the client sent,
 * JSON path by JSON path, except where the scrubber is expected to act:
 * `expected-changes.json` lists those paths per fixture and item, so any
 * other change fails.
 */


const files = import.meta.glob("../fixtures/corpus/*/*", { query: "?raw", import: "default", eager: true }) as Record<string, string>;
const entries = index as Entry[];
const expected = expectedChanges as Record<string, Record<string, string[]>>;

interface Item {
  header: Record<string, unknown>;
  payload: Uint8Array;
}

/** Sentry's envelope framing, read independently of the relay's parser. */
function parseEnvelope(bytes: Uint8Array): { header: Record<string, unknown>; items: Item[] } {
  const decoder = new TextDecoder();
  const nextNewline = (from: number) => {
    const at = bytes.indexOf(10, from);
    return at === -1 ? bytes.length : at;
  };
  let end = nextNewline(0);
  const header = JSON.parse(decoder.decode(bytes.subarray(0, end))) as Record<string, unknown>;
  const items: Item[] = [];
  let offset = end + 1;
  while (offset < bytes.length) {
    end = nextNewline(offset);
    const line = decoder.decode(bytes.subarray(offset, end));
    offset = end + 1;
    if (line.trim() === "") continue;
    const itemHeader = JSON.parse(line) as Record<string, unknown>;
    const length = itemHeader.length;
    let payload: Uint8Array;
    if (typeof length === "number") {
      payload = bytes.subarray(offset, offset + length);
      offset += length + 1;
    } else {
      end = nextNewline(offset);
      payload = bytes.subarray(offset, end);
      offset = end + 1;
    }
    items.push({ header: itemHeader, payload });
  }
  return { header, items };
}

/** Paths (dot-joined) where `after` differs from `before`: changed, removed or added values. */
function changedPaths(before: unknown, after: unknown, path = ""): string[] {
  if (Object.is(before, after)) return [];
  const bothObjects = typeof before === "object" && before !== null && typeof after === "object" && after !== null;
  if (!bothObjects || Array.isArray(before) !== Array.isArray(after)) return [path];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  const out: string[] = [];
  for (const key of keys) {
    const child = path === "" ? key : `${path}.${key}`;
    const a = (before as Record<string, unknown>)[key];
    const b = (after as Record<string, unknown>)[key];
    if (!(key in (before as object)) || !(key in (after as object))) out.push(child);
    else out.push(...changedPaths(a, b, child));
  }
  return out;
}

const isJsonItem = (type: unknown) => type !== "attachment" && type !== "replay_recording";

async function requestFor(entry: Entry, body: string): Promise<Request> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(entry.headers)) headers[name] = value.split("<key>").join(KEY);
  let wire: Uint8Array | string = body;
  if (entry.bodyEncoding === "base64+deflate") {
    const deflated = await compress(body, "deflate");
    wire = btoa(String.fromCharCode(...deflated));
  }
  if (headers["content-encoding"] === "gzip") wire = await compress(wire, "gzip");
  return post(`${entry.path}${entry.query.split("<key>").join(KEY)}`, wire, headers);
}

/** After `npm run corpus`, set true to print each fixture's changed paths (to review into expected-changes.json). */
const PRINT_CHANGES = false;

let upstream: ReturnType<typeof fakeUpstream>;
beforeEach(() => {
  upstream = fakeUpstream();
});
afterEach(() => upstream.restore());

describe("the corpus of real client payloads, replayed", () => {
  it("has every indexed file and nothing unindexed", () => {
    const onDisk = Object.keys(files).map((f) => f.replace("../fixtures/corpus/", "")).sort();
    expect(onDisk).toEqual(entries.map((e) => e.file).sort());
    expect(entries.length).toBeGreaterThan(50);
    for (const file of Object.keys(expected)) expect(entries.map((e) => e.file)).toContain(file);
  });

  it.each(entries.map((entry) => [entry.file, entry] as const))("%s", async (file, entry) => {
    const body = files[`../fixtures/corpus/${file}`]!;
    const response = await relay(await requestFor(entry, body));
    const answer = await response.text();
    expect(response.status, answer).toBe(200);

    const isEnvelope = file.endsWith(".envelope");
    const sent = isEnvelope ? parseEnvelope(new TextEncoder().encode(body)) : undefined;
    const sentEvents = isEnvelope ? sent!.items.filter((i) => i.header.type === "event" || i.header.type === "transaction") : [];
    const eventId = isEnvelope ? (sent!.header.event_id as string | undefined) : (JSON.parse(body) as { event_id?: string }).event_id;
    if (!isEnvelope || (eventId !== undefined && sentEvents.length > 0)) {
      // Sentry answers with the id in its canonical form (32 hex digits, no hyphens).
      expect(JSON.parse(answer)).toEqual({ id: eventId?.replace(/-/g, "").toLowerCase() });
    }

    expect(upstream.calls, "one delivery upstream").toHaveLength(1);
    const forwarded = parseEnvelope(upstream.calls[0]!.body);
    expect(forwarded.items.map((i) => i.header.type)).toEqual(entry.items);

    const recorded = isEnvelope ? sent!.items : [{ header: { type: "event" }, payload: new TextEncoder().encode(body) }];
    const changes: Record<string, string[]> = {};
    if (isEnvelope) {
      // The relay names the upstream project in the header: the DSN and the sampling context's key.
      const { dsn, trace, ...rest } = forwarded.header as { dsn?: unknown; trace?: Record<string, unknown> };
      const { dsn: sentDsn, trace: sentTrace, ...sentRest } = sent!.header as { dsn?: unknown; trace?: Record<string, unknown> };
      if (sentDsn !== undefined) expect(dsn).toBe(UPSTREAM_DSN);
      if (sentTrace?.public_key !== undefined) expect(trace).toEqual({ ...sentTrace, public_key: UPSTREAM_KEY });
      else expect(trace).toEqual(sentTrace);
      const headerChanges = changedPaths(sentRest, rest);
      if (headerChanges.length) changes.header = headerChanges;
    }
    recorded.forEach((item, i) => {
      const out = forwarded.items[i]!;
      const key = `${i}:${String(item.header.type)}`;
      if (!isJsonItem(item.header.type)) {
        // Attachments are bytes: forwarded exactly as sent.
        expect(new TextDecoder().decode(out.payload), key).toBe(new TextDecoder().decode(item.payload));
        return;
      }
      const paths = changedPaths(JSON.parse(new TextDecoder().decode(item.payload)), JSON.parse(new TextDecoder().decode(out.payload)));
      if (paths.length) changes[key] = paths.sort();
    });
    if (PRINT_CHANGES) console.log(`CORPUS-CHANGES ${JSON.stringify({ file, changes })}`);
    expect(changes).toEqual(expected[file] ?? {});
  });
});
