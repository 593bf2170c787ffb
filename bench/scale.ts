/**
 * The scale benchmark of weights outside the code (issue 17, docs/abi.md "Weights image"), on
 * ViT-B/16 (torchvision, seeded random weights, 86.6M parameters, 330 MiB): for each way of
 * compiling it (the fast build with its weights as data segments, as before; the fast and the
 * canonical build with a weights image) the compile time, peak RSS, module and image sizes; then
 * `detml run` of the fast build on one image, on a machine that has never seen the weights image
 * (its tree hashed to check the manifest's root) and again (its tree taken from the cache by the
 * SHA-256 of the bytes), with the inference's own time. Every
 * measurement runs the CLI (dist/bin/detml.js) in a fresh process; peak RSS is the process's
 * own maxRSS. Prints a table and writes bench/scale-results.json.
 *
 *   /usr/bin/python3 fixtures/pytorch/export_vit.py            # .cache/vit/vit_b_16.onnx (once)
 *   node dist/bin/detml.js convert .cache/vit/vit_b_16.onnx    # .cache/vit/vit_b_16.detml (once)
 *   npx tsc -p bench/tsconfig.json && node dist/bench/scale.js [--convert]   (from the repository root)
 *
 * `--convert` also measures the conversion (about 80 s here).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Run from the repository's root; $DETML_CLI names another build of the CLI.
const ROOT = process.cwd();
const CLI = process.env.DETML_CLI ?? join(ROOT, "dist", "bin", "detml.js");
const VIT = join(ROOT, ".cache", "vit");
const OUT = join(VIT, "bench");
// Reports the process's peak RSS and CPU time on stderr as it exits (wall time suffers when other work shares the cores).
const RSS_HOOK = `data:text/javascript,process.on("exit",()=>{const u=process.resourceUsage();process.stderr.write("maxrss-kib "+u.maxRSS+" cpu-us "+(u.userCPUTime+u.systemCPUTime)+"\\n")})`;

interface Measurement {
  what: string;
  seconds: number;
  cpuSeconds: number;
  peakRssMiB: number;
  wasmBytes?: number;
  weightsBytes?: number;
  /** The compiler's own stages, ms (what happens outside them is reading, decoding and hashing the .detml). */
  stages?: Record<string, number>;
}

/** The --json output of the last CLI run. */
let lastJson: { ms?: number; stages?: Record<string, number> } = {};

/** Run the CLI in a fresh process; its wall time and peak RSS. */
function cli(what: string, args: string[], env: Record<string, string> = {}): Measurement {
  const started = performance.now();
  const r = spawnSync(process.execPath, ["--import", RSS_HOOK, CLI, ...args], { encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  const seconds = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`${what} failed: ${r.stderr}`);
  lastJson = JSON.parse(r.stdout.slice(r.stdout.indexOf("{")));
  const usage = /maxrss-kib (\d+) cpu-us (\d+)/.exec(r.stderr);
  return { what, seconds: Number(seconds.toFixed(1)), cpuSeconds: Number((Number(usage?.[2]) / 1e6).toFixed(1)), peakRssMiB: Math.round(Number(usage?.[1]) / 1024) };
}

function compileRow(what: string, output: string, flags: string[], cache: string): Measurement {
  const m = cli(what, ["compile", join(VIT, "vit_b_16.detml"), "-o", output, "--json", ...flags], { DETML_CACHE_DIR: cache });
  const image = output.replace(/\.wasm$/, ".weights");
  return { ...m, stages: lastJson.stages, wasmBytes: statSync(output).size, weightsBytes: flags.includes("never") || !existsSync(image) ? 0 : statSync(image).size };
}

function main(): void {
  if (!existsSync(join(VIT, "vit_b_16.onnx"))) throw new Error("no .cache/vit/vit_b_16.onnx: run /usr/bin/python3 fixtures/pytorch/export_vit.py first");
  mkdirSync(OUT, { recursive: true });
  const rows: Measurement[] = [];
  if (process.argv.includes("--convert") || !existsSync(join(VIT, "vit_b_16.detml"))) {
    rows.push(cli("convert", ["convert", join(VIT, "vit_b_16.onnx"), "-o", join(VIT, "vit_b_16.detml"), "--json"]));
  }
  // Compiling: the first compile with an image hashes its tree, the next (same weights) takes it from the cache.
  const compileCache = mkdtempSync(join(tmpdir(), "detml-scale-cache-"));
  rows.push(compileRow("compile --fast, weights as data segments (before)", join(OUT, "vit_fast_segments.wasm"), ["--fast", "--weights-image", "never"], compileCache));
  rows.push(compileRow("compile (canonical), weights image, first time", join(OUT, "vit.wasm"), ["--weights-image", "auto"], compileCache));
  rows.push(compileRow("compile --fast, weights image, tree cached", join(OUT, "vit_fast.wasm"), ["--fast", "--weights-image", "auto"], compileCache));
  rmSync(compileCache, { recursive: true, force: true });
  // Loading and one inference: the image's tree hashed (a fresh cache), then taken from the cache.
  const cache = mkdtempSync(join(tmpdir(), "detml-scale-cache-"));
  const run = ["run", join(OUT, "vit_fast.wasm"), "--input", join(VIT, "vit_b_16_input.npy"), "--json"];
  rows.push(runRow("run --fast build, 1 image, weights image not seen before", run, cache));
  rows.push(runRow("run --fast build, 1 image, image tree cached", run, cache));
  rmSync(cache, { recursive: true, force: true });
  console.log(table(rows));
  const results = { model: "torchvision vit_b_16, seeded random weights (fixtures/pytorch/export_vit.py)", parameters: 86.6e6, date: new Date().toISOString(), rows };
  writeFileSync(join(ROOT, "bench", "scale-results.json"), `${JSON.stringify(results, null, 2)}\n`);
  console.log("wrote bench/scale-results.json");
}

/** `detml run` with its own cache folder; the inference's time (from --json) as `inferenceMs`. */
function runRow(what: string, args: string[], cache: string): Measurement & { inferenceMs: number } {
  const m = cli(what, args, { DETML_CACHE_DIR: cache });
  return { ...m, inferenceMs: lastJson.ms ?? NaN };
}

function table(rows: Measurement[]): string {
  const mib = (n?: number) => (n === undefined ? "" : `${(n / 2 ** 20).toFixed(1)} MiB`);
  const cells = [["what", "wall s", "CPU s", "peak RSS", "module", "weights image", "inference"],
    ...rows.map((r) => [r.what, r.seconds.toFixed(1), r.cpuSeconds.toFixed(1), `${r.peakRssMiB} MiB`, mib(r.wasmBytes), mib(r.weightsBytes), "inferenceMs" in r ? `${(r.inferenceMs as number).toFixed(0)} ms` : ""])];
  const widths = cells[0].map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

main();
