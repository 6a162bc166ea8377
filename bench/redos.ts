/**
 * CPU for the adversarial inputs of issue 10 at 10 KB, 100 KB and 1 MB:
 * the scrubber (default rules and IP scrubbing, as a new project gets them),
 * the fingerprint normalizer, the glob matcher and a custom pattern. Each
 * should grow linearly: about 10x per step. Runs in Node's V8, the engine
 * workerd embeds; writes bench/results/redos.json.
 *
 *   npm run bench:redos
 *   npm run bench:redos -- --sizes=10240,40960 --skip=glob,custom --out=/tmp/before.json
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { relayConfigSchema } from "../src/config/schema";
import { compileGlobs } from "../src/filters/globs";
import { compileScrubber } from "../src/scrub/compile";
import { scrubJson } from "../src/scrub/walk";
import { normalizeFile, normalizeMessage } from "../src/spike/fingerprint";

const KEY = "0123456789abcdef0123456789abcdef";
const scrubberFor = (scrub: Record<string, unknown>) =>
  compileScrubber(relayConfigSchema.parse({ projects: { "1": { keys: [KEY], archive: true, scrub } } }).projects["1"]!.scrub);
const defaults = scrubberFor({});
const customRule = (pattern: string) => scrubberFor({ defaults: false, scrubIpAddresses: false, rules: [{ selector: "$string", pattern }] });
const custom = [customRule("(x+x+)+y"), customRule("(x+x+)+[yz]")] as const;

/** `unit` repeated to about `size` characters, then `tail`. */
const fill = (unit: string, size: number, tail = "") => unit.repeat(Math.max(1, Math.floor((size - tail.length) / unit.length))) + tail;

interface Case {
  name: string;
  group: "scrub" | "normalize" | "glob" | "custom";
  input: (size: number) => string;
  run: (text: string) => unknown;
}

const scrub = (text: string) => scrubJson({ message: text }, defaults, "event");
const globs = [compileGlobs(["*a*a*a*a*a*b"]), compileGlobs(["*?*?*?*?*?*b"])] as const;

const cases: Case[] = [
  { name: '"a." x n + " //@"', group: "scrub", input: (n) => fill("a.", n, " //@"), run: scrub },
  { name: '"a@" x n', group: "scrub", input: (n) => fill("a@", n), run: scrub },
  { name: '"1" x n', group: "scrub", input: (n) => fill("1", n), run: scrub },
  { name: '"1." x n', group: "scrub", input: (n) => fill("1.", n), run: scrub },
  { name: '"1 " x n (card digits)', group: "scrub", input: (n) => fill("1 ", n), run: scrub },
  { name: '":" x n', group: "scrub", input: (n) => fill(":", n), run: scrub },
  { name: '"ab:" x n (hex and colons)', group: "scrub", input: (n) => fill("ab:", n), run: scrub },
  { name: '"//a:" x n', group: "scrub", input: (n) => fill("//a:", n), run: scrub },
  { name: '"-----BEGIN RSA PRIVATE KEY-----\\n" x n', group: "scrub", input: (n) => fill("-----BEGIN RSA PRIVATE KEY-----\n", n), run: scrub },
  { name: '"password" x n + "#:"', group: "scrub", input: (n) => fill("password", n, "#:"), run: scrub },
  { name: '"token=" x n', group: "scrub", input: (n) => fill("token=", n), run: scrub },
  { name: '"Bearer " x n', group: "scrub", input: (n) => fill("Bearer ", n), run: scrub },
  { name: '"a." x n + " //@"', group: "normalize", input: (n) => fill("a.", n, " //@"), run: normalizeMessage },
  { name: '"a@" x n', group: "normalize", input: (n) => fill("a@", n), run: normalizeMessage },
  { name: '"1." x n', group: "normalize", input: (n) => fill("1.", n), run: normalizeMessage },
  { name: '"a1" x n (hex)', group: "normalize", input: (n) => fill("a1", n), run: normalizeMessage },
  { name: `"'a" x n (quotes)`, group: "normalize", input: (n) => fill("'a", n), run: normalizeMessage },
  { name: 'file "?" x n', group: "normalize", input: (n) => fill("?", n), run: normalizeFile },
  { name: "*a*a*a*a*a*b vs a x n", group: "glob", input: (n) => fill("a", n), run: (t) => globs[0](t) },
  { name: "*?*?*?*?*?*b vs a x n", group: "glob", input: (n) => fill("a", n), run: (t) => globs[1](t) },
  { name: "(x+x+)+y vs x x n", group: "custom", input: (n) => fill("x", n), run: (t) => scrubJson({ message: t }, custom[0], "event") },
  { name: "(x+x+)+[yz] vs x x n", group: "custom", input: (n) => fill("x", n), run: (t) => scrubJson({ message: t }, custom[1], "event") },
];

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=") as [string, string]));
const sizes = (args.get("sizes") ?? "10240,102400,1048576").split(",").map(Number);
const skip = new Set((args.get("skip") ?? "").split(",").filter(Boolean));
const out = args.get("out") ?? "bench/results/redos.json";

/** Best of a few runs, in milliseconds. */
function time(run: () => unknown, size: number): number {
  const runs = size <= 200_000 ? 7 : 3;
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    run();
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e6);
  }
  return best;
}

const label = (size: number) => (size >= 1 << 20 ? `${size / (1 << 20)} MB` : `${Math.round(size / 1024)} KB`);
const rows: { group: string; name: string; ms: Record<string, number>; ratios: number[] }[] = [];
for (const c of cases) {
  if (skip.has(c.group)) continue;
  c.run(c.input(1024)); // warm up
  const ms: Record<string, number> = {};
  const ratios: number[] = [];
  let previous: number | undefined;
  for (const size of sizes) {
    const input = c.input(size);
    const t = time(() => c.run(input), size);
    ms[label(size)] = Number(t.toFixed(3));
    if (previous !== undefined) ratios.push(Number((t / previous).toFixed(1)));
    previous = t;
  }
  rows.push({ group: c.group, name: c.name, ms, ratios });
}

const headers = sizes.map(label);
const width = Math.max(...rows.map((r) => r.name.length)) + 12;
console.log(`${"input".padEnd(width)}${headers.map((h) => h.padStart(12)).join("")}   growth per step`);
for (const row of rows) {
  console.log(`${`${row.group}: ${row.name}`.padEnd(width)}${headers.map((h) => `${row.ms[h]!.toFixed(2)} ms`.padStart(12)).join("")}   ${row.ratios.map((r) => `${r}x`).join(" ")}`);
}
mkdirSync("bench/results", { recursive: true });
writeFileSync(out, `${JSON.stringify({ node: process.version, sizes: headers, rows }, null, 2)}\n`);
console.log(`\nwrote ${out}`);
