/**
 * `npm run bench`: for every fixture ONNX model the converter handles, measure in one run the
 * compile time, .wasm size and memory plan of the canonical build (and the FAST build), and the
 * median single-input latency of detml-wasm (canonical), detml-wasm-fast, detml-ref (the
 * reference executor) and onnxruntime-node (float, CPU, one thread). Prints a table and writes
 * bench/results.json: { machine, models: [...compile figures], entries: [{model, engine,
 * median_ms, ...}] }. `node dist/bench/run.js [model...]` limits the models.
 * The bench runs under `node --no-liftoff` so that every engine is measured in its optimized
 * tier (V8 otherwise starts WASM in its baseline compiler and tiers up after many calls). Compile
 * time is reported twice: warm (the median of three compiles in this process) and cold (`detml
 * compile` in a fresh, flag-less node process: what a user waits for, Binaryen not yet tiered up).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { compile, type CompileResult } from "../compiler/compile.js";
import { convertOnnxFile } from "../converter/onnx/index.js";
import { run } from "../lib/executor.js";
import { encodeGraph } from "../lib/graph/codec.js";
import type { Graph } from "../lib/graph/ir.js";
import { readInputs } from "../lib/model-files.js";
import { readNpy } from "../lib/tensor/npy.js";
import type { Tensor } from "../lib/tensor/tensor.js";
import { loadWasm, WasmRunner } from "../runtime-wasm/runtime.js";
import { DEFAULT_BUDGET, timeAsync, timeSync, type Timing } from "./measure.js";

const MODELS = "fixtures/models";
const DATA = "fixtures/data";
const INPUTS: Record<string, string> = { mnist_lenet: "mnist_test_1000.npy", transformer_block_op17: "transformer_block_input.npy" };
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

/** First sample of the fixture input, for detml (quantized Tensors) and ONNX Runtime (float/int64). */
function sampleInputs(name: string, graph: Graph): { detml: Map<string, Tensor>; ort: Record<string, ort.Tensor> } {
  const file = join(DATA, INPUTS[name] ?? `${name}_input.npy`);
  const detml = readInputs(graph, new Map([["", file]]))[0];
  const npy = readNpy(new Uint8Array(readFileSync(file)), file);
  const shape = [...graph.inputs[0].shape];
  const count = shape.reduce((a, b) => a * b, 1);
  const data = npy.data.slice(0, count);
  const tensor = npy.dtype.startsWith("float")
    ? new ort.Tensor("float32", Float32Array.from(data as ArrayLike<number>), shape)
    : new ort.Tensor("int64", BigInt64Array.from(data as ArrayLike<bigint | number>, (v) => BigInt(v)), shape);
  return { detml, ort: { [graph.inputs[0].name]: tensor } };
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

async function benchModel(name: string): Promise<{ figures: ModelFigures; entries: Entry[] } | string> {
  let graph: Graph;
  try {
    graph = convertOnnxFile(join(MODELS, `${name}.onnx`)).graph;
  } catch (e) {
    return `not converted: ${(e as Error).message}`;
  }
  const bytes = encodeGraph(graph);
  const canonical = timedCompile(bytes, "canonical");
  let fast: { result: CompileResult; ms: number } | undefined;
  try {
    fast = timedCompile(bytes, "fast");
  } catch {
    fast = undefined;
  }
  const inputs = sampleInputs(name, graph);
  const entries: Entry[] = [];
  const add = (engine: string, t: Timing) => entries.push({ model: name, engine, ...t });

  const wasm = new WasmRunner(loadWasm(canonical.result.wasm));
  add("detml-wasm", timeSync(() => wasm.run(inputs.detml)));
  if (fast) {
    const fastRunner = new WasmRunner(loadWasm(fast.result.wasm));
    add("detml-wasm-fast", timeSync(() => fastRunner.run(inputs.detml)));
  }
  add("detml-ref", timeSync(() => run(graph, inputs.detml), REF_BUDGET));
  const session = await ort.InferenceSession.create(join(MODELS, `${name}.onnx`), {
    executionProviders: ["cpu"], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", logSeverityLevel: 3,
  });
  add("onnxruntime-node", await timeAsync(() => session.run(inputs.ort), DEFAULT_BUDGET));
  await session.release();

  const { stats } = canonical.result;
  return {
    figures: {
      model: name,
      nodes: stats.nodes,
      segments: stats.segments,
      compile_ms: canonical.ms,
      cold_compile_ms: coldCompile(bytes),
      compile_fast_ms: fast?.ms,
      wasm_bytes: stats.wasmBytes,
      wasm_fast_bytes: fast?.result.stats.wasmBytes,
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
  const only = process.argv.slice(2);
  const names = readdirSync(MODELS).filter((f) => f.endsWith(".onnx")).map((f) => f.slice(0, -5))
    .filter((n) => only.length === 0 || only.includes(n)).sort();
  const models: ModelFigures[] = [];
  const entries: Entry[] = [];
  const skipped: Record<string, string> = {};
  for (const name of names) {
    process.stderr.write(`bench ${name}...\n`);
    const r = await benchModel(name);
    if (typeof r === "string") {
      skipped[name] = r;
      continue;
    }
    models.push(r.figures);
    entries.push(...r.entries);
  }
  const median = (model: string, engine: string) => entries.find((e) => e.model === model && e.engine === engine)?.median_ms;
  const rows = [["model", "compile ms", "cold ms", "fast ms", "wasm KiB", "peak KiB", "wasm ms", "fast ms", "ref ms", "ort ms", "wasm/ort", "fast/ort"]];
  for (const m of models) {
    const [w, f, r, o] = ["detml-wasm", "detml-wasm-fast", "detml-ref", "onnxruntime-node"].map((e) => median(m.model, e));
    rows.push([m.model, ms(m.compile_ms), ms(m.cold_compile_ms), ms(m.compile_fast_ms), kib(m.wasm_bytes), kib(m.peak_bytes), ms(w), ms(f), ms(r), ms(o),
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
