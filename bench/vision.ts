/**
 * The vision latency benchmark (issue 15): per-image latency of the canonical and the FAST WASM
 * builds next to onnxruntime-node (float, one thread), all in this one process so the ratios
 * share the machine's state, for the MNIST LeNet and, when exported, torchvision's resnet18,
 * squeezenet1_1, mobilenet_v2 (fixtures/pytorch/export_torchvision.py) and ViT-B/16
 * (fixtures/pytorch/export_vit.py). Each model is converted in every format of FORMATS (a set of
 * convert options; the "a16" formats are calibrated as `convert --calibrate --activation-bits 16`
 * does: a frac per tensor at which its observed range fits 16 bits), compiled in both builds, and each
 * engine runs a fixed set of inputs in turn (LeNet: MNIST test digits; the others: seeded
 * normal(0, 1) images): the median per-image time after warm-up, with the number of runs
 * adapted so that a cell takes 1-3 s (ViT: one run), the ratio to ONNX Runtime, the argmax
 * agreement with ONNX Runtime over the inputs each engine ran, and whether the two builds gave
 * the same bytes. The issue's targets for the fast build (LeNet 2x, the CNNs 4x, ViT 6x) are a
 * column. Prints a table and writes bench/vision-results.json (a run limited with
 * `--models a,b` keeps the other models' last figures).
 *
 *   npx tsc -p bench/tsconfig.json && node --no-liftoff dist/bench/vision.js [--models mnist_lenet,resnet18]
 *   (from the repository root)
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import ort from "onnxruntime-node";
import { convertOnnxCalibrated } from "../converter/onnx/calibrate.js";
import { convertOnnx, type ConvertOptions } from "../converter/onnx/index.js";
import { compile, type Build } from "../compiler/compile.js";
import { argmaxRows } from "../lib/batch.js";
import type { Graph } from "../lib/graph/ir.js";
import { readNpy } from "../lib/tensor/npy.js";
import { Tensor } from "../lib/tensor/tensor.js";
import type { FloatTensor } from "../lib/verify/compare.js";
import { randomSamples } from "../lib/verify/inputs.js";
import { ORT_LOG_SEVERITY } from "../lib/verify/oracle.js";
import { loadWasm, WasmRunner } from "../runtime-wasm/index.js";
import { type Budget, timeAsync, timeSync, type Timing } from "./measure.js";

const ROOT = process.cwd();
const RESULTS = `${ROOT}/bench/vision-results.json`;

/**
 * The formats measured, each a set of convert options. `activations16`: calibrated 16-bit
 * activation formats (converter/onnx/calibrate.ts `convertOnnxCalibrated` at 16 bits) on the
 * model's calibration inputs.
 */
const FORMATS: { name: string; convert: ConvertOptions; activations16?: true }[] = [
  { name: "default", convert: {} },
  { name: "w8", convert: { weightBits: 8 } },
  { name: "a16-w8", convert: { weightBits: 8 }, activations16: true },
  { name: "a16-w16", convert: { weightBits: 16 }, activations16: true },
];

type InputKind = "mnist" | "random";
interface VisionModel {
  name: string;
  onnx: string;
  /** The issue's target: the fast build at most this many times ONNX Runtime's time. */
  target: number;
  inputs: InputKind;
  /** What makes the .onnx when it is missing. */
  make: string;
  /** One timed run per cell, one input (a run takes seconds to a minute). */
  slow?: true;
}

const TORCHVISION = "/usr/bin/python3 fixtures/pytorch/export_torchvision.py";
const MODELS: VisionModel[] = [
  { name: "mnist_lenet", onnx: "fixtures/models/mnist_lenet.onnx", target: 2, inputs: "mnist", make: "committed (fixtures/pytorch/train_mnist.py)" },
  { name: "resnet18", onnx: ".cache/torchvision/resnet18.onnx", target: 4, inputs: "random", make: TORCHVISION },
  { name: "squeezenet1_1", onnx: ".cache/torchvision/squeezenet1_1.onnx", target: 4, inputs: "random", make: TORCHVISION },
  { name: "mobilenet_v2", onnx: ".cache/torchvision/mobilenet_v2.onnx", target: 4, inputs: "random", make: TORCHVISION },
  { name: "vit_b_16", onnx: ".cache/vit/vit_b_16.onnx", target: 6, inputs: "random", make: "/usr/bin/python3 fixtures/pytorch/export_vit.py", slow: true },
];

/** Distinct timed inputs per model (each engine cycles through them), and calibration inputs (disjoint). */
const TIMED_INPUTS = 8;
const CALIBRATION_INPUTS = 8;
/** A cell's measuring time: at least 1 s of runs after warm-up, 5 runs at least unless one run takes a second. */
const CELL_MS = 1000;
const SLOW_RUN_MS = 1000;

const round = (x: number, digits = 2) => Number(x.toFixed(digits));
const now = () => performance.now();

/** Float inputs by name: MNIST test digits from index `from` on, or normal(0, 1) samples of the graph's input shapes seeded with `from`. */
function floatInputs(kind: InputKind, graph: Graph, count: number, from: number): Map<string, FloatTensor>[] {
  if (kind === "random") return randomSamples(graph, count, from).map((s) => s.float);
  const digits = readNpy(new Uint8Array(readFileSync(`${ROOT}/fixtures/data/mnist_test_1000.npy`)));
  const { name, shape } = graph.inputs[0];
  return Array.from({ length: count }, (_, i) => {
    const k = from + i;
    return new Map([[name, { shape: [...shape], data: Float64Array.from(digits.data.slice(k * 784, (k + 1) * 784), Number) }]]);
  });
}

/**
 * Warm-up and run count for one cell, from one untimed first run: warm-up worth about 300 ms,
 * then runs for CELL_MS (5 at least); a model whose run takes over SLOW_RUN_MS gets no more than
 * the first run as warm-up and is timed over what CELL_MS allows (1 run at least).
 */
async function cellBudget(fn: () => unknown, slow: boolean): Promise<Budget> {
  const t0 = now();
  await fn();
  const first = now() - t0;
  if (slow) return { warmup: 0, maxRuns: 1, maxMs: 0, minRuns: 1 };
  if (first > SLOW_RUN_MS) return { warmup: 0, maxRuns: 1000, maxMs: CELL_MS, minRuns: 1 };
  return { warmup: Math.max(1, Math.min(20, Math.ceil(300 / first))), maxRuns: 5000, maxMs: CELL_MS, minRuns: 5 };
}

/** An onnxruntime-node session (one thread, sequential, as bench/models.ts) on the timed inputs: their argmaxes, and a way to time a cell. */
async function openOrt(model: VisionModel, inputs: Map<string, FloatTensor>[]): Promise<{ argmax: number[]; time(): Promise<Timing>; release(): Promise<void> }> {
  const session = await ort.InferenceSession.create(`${ROOT}/${model.onnx}`, {
    executionProviders: ["cpu"], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", logSeverityLevel: ORT_LOG_SEVERITY,
  });
  const feeds = inputs.map((m) => Object.fromEntries([...m].map(([name, t]) => [name, new ort.Tensor("float32", Float32Array.from(t.data), t.shape)])));
  const output = session.outputNames[0];
  const argmax: number[] = [];
  for (const f of feeds) {
    const out = (await session.run(f))[output];
    argmax.push(argmaxRows({ shape: [...out.dims], data: out.data as Float32Array })![0]);
  }
  let i = 0;
  const once = () => session.run(feeds[i++ % feeds.length]);
  return { argmax, time: async () => timeAsync(once, await cellBudget(once, model.slow === true)), release: () => session.release() };
}

interface BuildFigures {
  compile_s: number;
  module_bytes: number;
  median_ms: number;
  runs: number;
  ratio_to_ort: number;
  /** Inputs whose argmax equals ONNX Runtime's, of the inputs this build ran. */
  argmax_agree: string;
}

/** One build of `graph`: compiled, then timed over the inputs in turn; its outputs by input index. */
async function timeBuild(graph: Graph, build: Build, inputs: Map<string, Tensor>[], ortArgmax: number[], ortMs: number, slow: boolean): Promise<BuildFigures & { outputs: Tensor[] }> {
  const t0 = now();
  const { wasm } = compile(graph, { build });
  const compileS = (now() - t0) / 1000;
  const runner = new WasmRunner(loadWasm(wasm));
  const output = graph.outputs[0];
  const outputs: Tensor[] = [];
  let i = 0;
  const once = () => {
    const k = i++ % inputs.length;
    outputs[k] = runner.run(inputs[k]).get(output)!;
  };
  const timing = timeSync(once, await cellBudget(once, slow));
  const ran = outputs.flatMap((t, k) => (t ? [k] : []));
  const agree = ran.filter((k) => argmaxRows(outputs[k])![0] === ortArgmax[k]).length;
  return {
    compile_s: round(compileS, 1), module_bytes: wasm.byteLength, median_ms: round(timing.median_ms, 3), runs: timing.runs,
    ratio_to_ort: round(timing.median_ms / ortMs), argmax_agree: `${agree}/${ran.length}`, outputs,
  };
}

async function measure(model: VisionModel): Promise<Record<string, unknown>> {
  const bytes = new Uint8Array(readFileSync(`${ROOT}/${model.onnx}`));
  const source = model.onnx;
  const tProbe = now();
  // The default conversion: the "default" format's graph, and the probe calibration plans on.
  const probe = convertOnnx(bytes, { source }).graph;
  const probeS = (now() - tProbe) / 1000;
  const count = model.slow ? 1 : TIMED_INPUTS;
  const timed = floatInputs(model.inputs, probe, count, model.inputs === "mnist" ? 0 : 2);
  // LeNet calibrates on test digits 500.. (the timed ones are the first); the others on seed-1 samples.
  const calibration = floatInputs(model.inputs, probe, model.slow ? 1 : CALIBRATION_INPUTS, model.inputs === "mnist" ? 500 : 1);
  const session = await openOrt(model, timed);
  const rows: Record<string, unknown>[] = [];
  try {
    for (const format of FORMATS) {
      console.error(`bench vision: ${model.name} ${format.name}`);
      const t1 = now();
      const plain = Object.keys(format.convert).length === 0 && !format.activations16;
      const calibrated = format.activations16
        ? await convertOnnxCalibrated(bytes, () => calibration, `${calibration.length} calibration inputs`, { ...format.convert, source }, 16)
        : undefined;
      const graph = plain ? probe : calibrated ? calibrated.graph : convertOnnx(bytes, { ...format.convert, source }).graph;
      const convertS = plain ? probeS : (now() - t1) / 1000;
      const inputs = timed.map((m) => new Map(graph.inputs.map((v) => [v.name, Tensor.fromFloat(m.get(v.name)!.data, v.shape, v.frac)])));
      // ONNX Runtime is timed again beside each format's cells: the shared cores' load drifts over a run.
      const ortTiming = await session.time();
      const ortMs = ortTiming.median_ms;
      const canonical = await timeBuild(graph, "canonical", inputs, session.argmax, ortMs, model.slow === true);
      const fast = await timeBuild(graph, "fast", inputs, session.argmax, ortMs, model.slow === true);
      const both = canonical.outputs.flatMap((t, k) => (t && fast.outputs[k] ? [k] : []));
      rows.push({
        format: format.name, frac: calibrated ? `Q${calibrated.calibration.fracRange.join("..Q")}` : `Q${graph.frac}`,
        convert_s: round(convertS, 2), ort_ms: round(ortMs, 3), ort_runs: ortTiming.runs,
        canonical: { ...canonical, outputs: undefined }, fast: { ...fast, outputs: undefined },
        fast_equals_canonical: `${both.filter((k) => fast.outputs[k].equals(canonical.outputs[k])).length}/${both.length}`,
        target_ratio: model.target, target_met: fast.ratio_to_ort <= model.target,
      });
    }
  } finally {
    await session.release();
  }
  return { model: model.name, inputs: model.inputs === "mnist" ? `${count} MNIST test digits` : `${count} normal(0,1) images (seed 2)`, formats: rows };
}

function table(results: Record<string, any>[]): string {
  const rows = [["model", "format", "frac", "convert s", "canonical", "fast", "ORT ms", "canonical ms", "fast ms", "argmax = ORT (canon, fast)", "fast = canon", "target"]];
  const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  for (const r of results) {
    for (const f of r.formats) {
      rows.push([r.model, f.format, String(f.frac), String(f.convert_s), kib(f.canonical.module_bytes), kib(f.fast.module_bytes), String(f.ort_ms),
        `${f.canonical.median_ms} (${f.canonical.ratio_to_ort}x)`, `${f.fast.median_ms} (${f.fast.ratio_to_ort}x)`,
        `${f.canonical.argmax_agree}, ${f.fast.argmax_agree}`, f.fast_equals_canonical, `<= ${f.target_ratio}x: ${f.target_met ? "met" : "not met"}`]);
    }
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows.map((row) => row.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

/** `--models a,b`: the named models (an unknown name is an error naming the known ones); default all. */
function pickModels(argv: string[]): VisionModel[] {
  const at = argv.indexOf("--models");
  if (at < 0) return MODELS;
  const names = (argv[at + 1] ?? "").split(",").filter(Boolean);
  const unknown = names.filter((n) => !MODELS.some((m) => m.name === n));
  if (names.length === 0 || unknown.length > 0) throw new Error(`--models ${argv[at + 1] ?? ""}: expected a comma-separated list of ${MODELS.map((m) => m.name).join(", ")}`);
  return MODELS.filter((m) => names.includes(m.name));
}

async function main(): Promise<void> {
  const results: Record<string, unknown>[] = [];
  const skipped: string[] = [];
  for (const model of pickModels(process.argv.slice(2))) {
    if (!existsSync(`${ROOT}/${model.onnx}`)) {
      skipped.push(`${model.name}: ${model.onnx} is missing (${model.make} makes it)`);
      continue;
    }
    results.push(await measure(model));
  }
  console.log(table(results));
  for (const s of skipped) console.log(`skipped: ${s}`);
  const previous = existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, "utf8")) : { results: [] };
  for (const r of previous.results ?? []) if (!results.some((x) => x.model === r.model)) results.push(r);
  const order = (r: Record<string, unknown>) => MODELS.findIndex((m) => m.name === r.model);
  results.sort((a, b) => order(a) - order(b));
  writeFileSync(RESULTS, `${JSON.stringify({ date: new Date().toISOString(), ort: `onnxruntime-node ${ort.env.versions.common} (cpu, 1 thread)`, formats: FORMATS, results, skipped }, null, 2)}\n`);
  console.log("wrote bench/vision-results.json");
}

await main().catch((e: Error) => {
  console.error(`bench vision: ${e.message}`);
  process.exit(1);
});
