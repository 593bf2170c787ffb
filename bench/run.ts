/**
 * `npm run bench`: for every bench model (bench/models.ts: the ONNX fixtures, the TF.js fixtures
 * and, when fetched, real TF.js models), measure in one run the compile time, .wasm size and
 * memory plan of the canonical build (and the FAST build), and the median single-input latency
 * of detml-wasm (canonical), detml-wasm-fast, detml-ref (the reference executor) and the float
 * baseline: onnxruntime-node (CPU, one thread) for ONNX models, tfjs-cpu for TF.js models.
 * Prints a table and writes bench/results.json: { machine, models: [...compile figures],
 * entries: [{model, engine, median_ms, ...}], skipped }. `node dist/bench/run.js [model...]`
 * limits the models.
 * The bench runs under `node --no-liftoff` so that every engine is measured in its optimized
 * tier (V8 otherwise starts WASM in its baseline compiler and tiers up after many calls). Compile
 * time is reported twice: warm (the median of three compiles in this process) and cold (`detml
 * compile` in a fresh, flag-less node process: what a user waits for, Binaryen not yet tiered up).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { compile, type CompileResult } from "../compiler/compile.js";
import { run } from "../lib/executor.js";
import { encodeGraph } from "../lib/graph/codec.js";
import { loadWasm, WasmRunner } from "../runtime-wasm/index.js";
import { adaptiveBudget, timeSync, type Timing } from "./measure.js";
import { type BenchModel, benchModels } from "./models.js";

/** The reference executor is slow on large models: fewer runs. */
const REF_BUDGET = { warmup: 2, maxRuns: 50, maxMs: 3000, minRuns: 3 };

interface ModelFigures {
  model: string;
  nodes: number;
  segments: number;
  compile_ms: number;
  cold_compile_ms?: number;
  compile_fast_ms?: number;
  wasm_bytes: number;
  wasm_fast_bytes?: number;
  peak_bytes: number;
  memory_bytes: number;
}

interface Entry extends Timing {
  model: string;
  engine: string;
}

/** `detml compile --json` in a fresh node process (no V8 flags): its own compile_ms figure. */
function coldCompile(bytes: Uint8Array): number | undefined {
  const dir = mkdtempSync(join(tmpdir(), "detml-bench-"));
  writeFileSync(join(dir, "model.detml"), bytes);
  const r = spawnSync(process.execPath, ["dist/bin/detml.js", "compile", join(dir, "model.detml"), "--json"], { encoding: "utf8" });
  return r.status === 0 ? (JSON.parse(r.stdout) as { compile_ms: number }).compile_ms : undefined;
}

/** Compile time: the median of three compiles (the first one also pays for warming up Binaryen). */
function timedCompile(bytes: Uint8Array, build: "canonical" | "fast"): { result: CompileResult; ms: number } {
  const runs = [0, 1, 2].map(() => compile(bytes, { build }));
  const times = runs.map((r) => r.stats.totalMs).sort((a, b) => a - b);
  return { result: runs[0], ms: times[1] };
}

async function benchModel(model: BenchModel): Promise<{ figures: ModelFigures; entries: Entry[] }> {
  const { name, graph, input } = model;
  const bytes = encodeGraph(graph);
  const canonical = timedCompile(bytes, "canonical");
  const fast = timedCompile(bytes, "fast");
  const entries: Entry[] = [];
  const add = (engine: string, t: Timing) => entries.push({ model: name, engine, ...t });
  const timeRunner = async (wasm: Uint8Array) => {
    const runner = new WasmRunner(loadWasm(wasm));
    const once = () => runner.run(input);
    return timeSync(once, await adaptiveBudget(once));
  };
  add("detml-wasm", await timeRunner(canonical.result.wasm));
  add("detml-wasm-fast", await timeRunner(fast.result.wasm));
  add("detml-ref", timeSync(() => run(graph, input), REF_BUDGET));
  add(model.baseline, await model.timeBaseline());

  const { stats } = canonical.result;
  return {
    figures: {
      model: name,
      nodes: stats.nodes,
      segments: stats.segments,
      compile_ms: canonical.ms,
      cold_compile_ms: coldCompile(bytes),
      compile_fast_ms: fast.ms,
      wasm_bytes: stats.wasmBytes,
      wasm_fast_bytes: fast.result.stats.wasmBytes,
      peak_bytes: stats.peakBytes,
      memory_bytes: stats.memoryBytes,
    },
    entries,
  };
}

function pad(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ")).join("\n");
}

const ms = (v: number | undefined) => (v === undefined ? "-" : v < 1 ? v.toFixed(4) : v.toFixed(2));
const kib = (v: number | undefined) => (v === undefined ? "-" : (v / 1024).toFixed(1));

async function main(): Promise<void> {
  ort.env.logLevel = "error";
  const models: ModelFigures[] = [];
  const entries: Entry[] = [];
  const skipped: Record<string, string> = {};
  for (const { name, load } of benchModels(process.argv.slice(2))) {
    process.stderr.write(`bench ${name}...\n`);
    try {
      const r = await benchModel(load());
      models.push(r.figures);
      entries.push(...r.entries);
    } catch (e) {
      skipped[name] = (e as Error).message;
    }
  }
  const median = (model: string, engine: string) => entries.find((e) => e.model === model && e.engine === engine)?.median_ms;
  const rows = [["model", "compile ms", "cold ms", "fast ms", "wasm KiB", "peak KiB", "wasm ms", "fast ms", "ref ms", "float", "float ms", "wasm/float", "fast/float"]];
  for (const m of models) {
    const baseline = entries.find((e) => e.model === m.model && !e.engine.startsWith("detml-"))?.engine ?? "-";
    const [w, f, r, o] = ["detml-wasm", "detml-wasm-fast", "detml-ref", baseline].map((e) => median(m.model, e));
    rows.push([m.model, ms(m.compile_ms), ms(m.cold_compile_ms), ms(m.compile_fast_ms), kib(m.wasm_bytes), kib(m.peak_bytes), ms(w), ms(f), ms(r), baseline, ms(o),
      w && o ? (w / o).toFixed(2) : "-", f && o ? (f / o).toFixed(2) : "-"]);
  }
  console.log(pad(rows));
  for (const [name, why] of Object.entries(skipped)) console.log(`skipped ${name}: ${why}`);
  const results = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, node: process.version, onnxruntime: ort.env.versions.common },
    models,
    entries: entries.map((e) => ({ model: e.model, engine: e.engine, median_ms: e.median_ms, min_ms: e.min_ms, runs: e.runs })),
    skipped,
  };
  writeFileSync("bench/results.json", JSON.stringify(results, null, 2) + "\n");
  console.log("wrote bench/results.json");
}

await main();
