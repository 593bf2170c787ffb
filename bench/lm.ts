/**
 * The language-model benchmark (issue 17, docs/generate.md): for the small GPT trained here and,
 * when exported, GPT-2 small (`/usr/bin/python3 fixtures/pytorch/export_gpt2.py --context 64`:
 * .cache/gpt2/gpt2_t64_kv.onnx, GPT-2's initialisation), the key/value-cache model through every
 * stage, each measured in a fresh CLI process (wall time, CPU time, peak RSS): convert; compile
 * (canonical and fast builds, the cache as a state tensor `past=present`), with module and
 * weights-image sizes (the ~1B-parameter model of `export_gpt2.py --layers 136 --context 64
 * --kv-only`, at 8-bit weights, gets the fast build and its latency only), with module and
 * weights-image sizes; then, in this process, the per-token latency over a 32-token window of the
 * fast build in the JS engine next to onnxruntime-node on the float model (1 thread; the cache fed
 * back by hand), and the canonical build's VM steps per token; and a full dispute game over one
 * generated token (`detml dispute --token K`, a lying submitter). Prints a table and writes
 * bench/lm-results.json.
 *
 *   npx tsc -p bench/tsconfig.json && node dist/bench/lm.js [--small-only | --gpt2-only | --1b-only]
 *   (from the repository root, after npm run build)
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { packInputs } from "../abi/tensors.js";
import { loadWasm, WasmRunner } from "../runtime-wasm/index.js";
import { Tensor } from "../lib/tensor/tensor.js";
import { decodeModule, Machine } from "../vm/index.js";

const ROOT = process.cwd();
const CLI = join(ROOT, "dist", "bin", "detml.js");
const OUT = join(ROOT, ".cache", "bench-lm");
const WINDOW = 32;
// A fresh cache: the first compile of a model hashes its weights image, as on a new machine.
const CACHE = mkdtempSync(join(tmpdir(), "detml-bench-lm-"));
// Reports the process's peak RSS and CPU time on stderr as it exits.
const RSS_HOOK = `data:text/javascript,process.on("exit",()=>{const u=process.resourceUsage();process.stderr.write("maxrss-kib "+u.maxRSS+" cpu-us "+(u.userCPUTime+u.systemCPUTime)+"\\n")})`;

interface LanguageModel {
  name: string;
  onnx: string;
  parameters: string;
  /** The prompt of the dispute, and which generated token it is over. */
  prompt: string;
  token: number;
  /** Extra `detml convert` arguments. */
  convert: string[];
  /** Only the fast build and its per-token latency (no canonical build, VM or dispute), over this many tokens. */
  fastOnly?: number;
}

const MODELS: LanguageModel[] = [
  { name: "small GPT (trained here)", onnx: join(ROOT, "fixtures/models/small_gpt/small_gpt_kv.onnx"), parameters: "1.24M", prompt: "The meaning of life is", token: 1, convert: [] },
  // Q20: at the default Q16, 2 of 128 next-token argmaxes of the random-init GPT-2 flip against onnxruntime (near-ties); at Q20 none.
  { name: "GPT-2 small (GPT-2 init, context 64)", onnx: join(ROOT, ".cache/gpt2/gpt2_t64_kv.onnx"), parameters: "124M", prompt: "The", token: 0, convert: ["--frac", "20"] },
  // export_gpt2.py --layers 136 --context 64 --kv-only: 1.0B parameters, 8-bit weights (2 bytes per weight in the fast build).
  { name: "GPT-2 architecture, 136 layers, 8-bit weights", onnx: join(ROOT, ".cache/gpt2/l136_t64/gpt2_l136_t64_kv.onnx"), parameters: "1.00B", prompt: "The", token: 0, convert: ["--frac", "20", "--weight-bits", "8"], fastOnly: 4 },
];

interface Stage {
  stage: string;
  seconds: number;
  cpuSeconds: number;
  peakRssMiB: number;
  detail?: string;
}

/** Run the CLI in a fresh process (with this run's own cache folder): wall time, CPU time, peak RSS and its stdout. */
function cli(stage: string, args: string[]): Stage & { stdout: string } {
  const started = performance.now();
  const r = spawnSync(process.execPath, ["--import", RSS_HOOK, CLI, ...args], { encoding: "utf8", maxBuffer: 1 << 26, env: { ...process.env, DETML_CACHE_DIR: CACHE } });
  const seconds = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`${stage} failed: ${r.stderr.split("\n").filter((l) => !l.startsWith("maxrss")).join("\n")}`);
  const usage = /maxrss-kib (\d+) cpu-us (\d+)/.exec(r.stderr);
  return { stage, seconds: round(seconds), cpuSeconds: round(Number(usage?.[2]) / 1e6), peakRssMiB: Math.round(Number(usage?.[1]) / 1024), stdout: r.stdout };
}

const round = (x: number, digits = 1) => Number(x.toFixed(digits));
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Per-token ms of the fast build (state in module memory) over `window` tokens at positions 0.. */
function wasmPerToken(wasmPath: string, window: number): number[] {
  const bytes = new Uint8Array(readFileSync(wasmPath));
  const runner = new WasmRunner(loadWasm(bytes, wasmPath));
  const times: number[] = [];
  for (let p = 0; p < window; p++) {
    const inputs = new Map([["token", Tensor.fromInts([(p * 7919) % 1000], [1, 1])], ["position", Tensor.fromInts([p], [1])]]);
    const t = performance.now();
    runner.run(inputs);
    times.push(performance.now() - t);
  }
  return times;
}

/** Per-token ms of onnxruntime-node (1 thread) on the float model, its present fed back as past. */
async function ortPerToken(onnx: string, window: number): Promise<number[]> {
  const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const pastDims = (session.inputMetadata as unknown as { name: string; shape: number[] }[]).find((m) => m.name === "past")?.shape;
  if (!pastDims) throw new Error(`${onnx}: no input 'past'`);
  let past = new ort.Tensor("float32", new Float32Array(pastDims.reduce((a, b) => a * b, 1)), pastDims);
  const times: number[] = [];
  for (let p = 0; p < window; p++) {
    const feeds = { token: new ort.Tensor("int64", BigInt64Array.from([BigInt((p * 7919) % 1000)]), [1, 1]), position: new ort.Tensor("int64", BigInt64Array.from([BigInt(p)]), [1]), past };
    const t = performance.now();
    const out = await session.run(feeds);
    times.push(performance.now() - t);
    past = out.present as typeof past;
  }
  return times;
}

/** VM steps of one token (position 0) of the canonical build, and the VM's time for it. */
function vmStepsPerToken(wasmPath: string): { steps: number; seconds: number } {
  const bytes = new Uint8Array(readFileSync(wasmPath));
  const model = loadWasm(bytes, wasmPath);
  const t = performance.now();
  const inputs = packInputs(model.manifest.inputs, new Map([["token", Tensor.fromInts([42], [1, 1])], ["position", Tensor.fromInts([0], [1])]]));
  const result = new Machine(decodeModule(bytes, { weights: model.weights }), inputs).runAll();
  return { steps: result.totalSteps, seconds: round((performance.now() - t) / 1000) };
}

async function measure(model: LanguageModel): Promise<Record<string, unknown>> {
  const base = join(OUT, model.onnx.split("/").pop()!.replace(/\.onnx$/, ""));
  const stages: Stage[] = [];
  const convert = cli("convert", ["convert", model.onnx, "-o", `${base}.detml`, "--json", ...model.convert]);
  stages.push({ ...convert, stdout: undefined, detail: mib(statSync(`${base}.detml`).size) } as Stage);
  const sizes: Record<string, number> = {};
  for (const build of model.fastOnly ? (["fast"] as const) : (["canonical", "fast"] as const)) {
    const wasm = `${base}.${build}.wasm`;
    const c = cli(`compile ${build}`, ["compile", `${base}.detml`, "-o", wasm, "--state", "past=present", "--json", ...(build === "fast" ? ["--fast"] : [])]);
    const image = wasm.replace(/\.wasm$/, ".weights");
    sizes[`${build}_module_bytes`] = statSync(wasm).size;
    sizes[`${build}_image_bytes`] = existsSync(image) ? statSync(image).size : 0;
    stages.push({ ...c, stdout: undefined, detail: `module ${mib(sizes[`${build}_module_bytes`])}, image ${mib(sizes[`${build}_image_bytes`])}` } as Stage);
  }
  const window = model.fastOnly ?? WINDOW;
  const wasmMs = wasmPerToken(`${base}.fast.wasm`, window);
  const ortMs = await ortPerToken(model.onnx, window);
  const perToken = { window, detml_fast_median: round(median(wasmMs), 2), onnxruntime_median: round(median(ortMs), 2), ratio: round(median(wasmMs) / median(ortMs), 2) };
  const common = { model: model.name, parameters: model.parameters, ...sizes, per_token_ms: perToken };
  const rows = () => stages.map(({ stage, seconds, cpuSeconds, peakRssMiB, detail }) => ({ stage, seconds, cpuSeconds, peakRssMiB, ...(detail && { detail }) }));
  if (model.fastOnly) return { ...common, stages: rows() };
  const vm = vmStepsPerToken(`${base}.canonical.wasm`);
  const dispute = cli(`dispute over generated token ${model.token}`, ["dispute", `${base}.canonical.wasm`, "--prompt", model.prompt, "--token", String(model.token), "--cheat", "output", "--json"]);
  stages.push({ ...dispute, stdout: undefined } as Stage);
  return { ...common, stages: rows(), vm: { steps_per_token: vm.steps, seconds_per_token: vm.seconds } };
}

function table(results: Record<string, any>[]): string {
  const rows = [["model", "stage", "wall s", "CPU s", "peak RSS", "detail"]];
  for (const r of results) {
    for (const s of r.stages) rows.push([r.model, s.stage, String(s.seconds), String(s.cpuSeconds), `${s.peakRssMiB} MiB`, s.detail ?? ""]);
    const t = r.per_token_ms;
    rows.push([r.model, `per token, ${t.window}-token window`, "", "", "", `detml fast ${t.detml_fast_median} ms, onnxruntime ${t.onnxruntime_median} ms (${t.ratio}x)`]);
    if (r.vm) rows.push([r.model, "VM, one token", String(r.vm.seconds_per_token), "", "", `${(r.vm.steps_per_token / 1e6).toFixed(1)} M steps`]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const only = process.argv.includes("--gpt2-only") ? [MODELS[1]] : process.argv.includes("--small-only") ? [MODELS[0]] : process.argv.includes("--1b-only") ? [MODELS[2]] : MODELS;
  const results: Record<string, unknown>[] = [];
  const skipped: string[] = [];
  for (const m of only) {
    if (!existsSync(m.onnx)) {
      skipped.push(`${m.name}: ${m.onnx} is missing (fixtures/pytorch/export_gpt2.py makes it, see its header)`);
      continue;
    }
    console.error(`bench lm: ${m.name}`);
    results.push(await measure(m));
  }
  console.log(table(results));
  const previous = existsSync(join(ROOT, "bench", "lm-results.json")) ? JSON.parse(readFileSync(join(ROOT, "bench", "lm-results.json"), "utf8")) : { results: [] };
  // A run limited to some models keeps the other models' last figures.
  for (const r of previous.results ?? []) if (!results.some((x) => x.model === r.model)) results.push(r);
  for (const s of skipped) console.log(`skipped: ${s}`);
  writeFileSync(join(ROOT, "bench", "lm-results.json"), `${JSON.stringify({ date: new Date().toISOString(), results, skipped }, null, 2)}\n`);
  console.log("wrote bench/lm-results.json");
}

await main();
