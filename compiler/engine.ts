/**
 * The WASM engine: compile a .detml model on the fly (cached on disk by model id and compiler
 * version, so a model compiles once per machine) and run samples on the compiled module in the
 * JS engine's WebAssembly. Also the glue that lets a bare .wasm file run through the same
 * helpers as a .detml: its manifest gives the model's signature (inputs, outputs) as a Graph
 * without nodes. `ENGINES` lists every engine `verifyGraph` can run (lib/verify/engines.ts).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Graph } from "../lib/graph/ir.js";
import { type LoadedModel, loadModel, readFileOrFail } from "../lib/model-files.js";
import { type Engine, referenceEngine } from "../lib/verify/engines.js";
import type { Tensor } from "../lib/tensor/tensor.js";
import type { Manifest } from "../runtime-wasm/abi.js";
import { loadWasm, WasmRunner } from "../runtime-wasm/runtime.js";
import { VmRunner } from "../runtime-wasm/vm-runner.js";
import { type Build, compile, COMPILER_VERSION, type CompileResult } from "./compile.js";

export interface CacheOptions {
  /** Directory of cached modules; null disables the cache. Default: $DETML_CACHE_DIR or <tmpdir>/detml-cache. */
  cacheDir?: string | null;
  build?: Build;
}

export function defaultCacheDir(): string {
  return process.env.DETML_CACHE_DIR || join(tmpdir(), "detml-cache");
}

export interface CachedModule {
  wasm: Uint8Array;
  /** Present when this call compiled the module (not read from the cache). */
  compiled?: CompileResult;
  path?: string;
}

/**
 * The compiled module of a model, from the cache when a valid entry exists (its manifest must
 * name the same model id and build), else compiled now and stored (written atomically).
 */
export function compileCached(model: LoadedModel, options: CacheOptions = {}): CachedModule {
  const build = options.build ?? "canonical";
  const dir = options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir;
  const path = dir === null ? undefined : join(dir, `${model.sourceHash}-c${COMPILER_VERSION}-${build}.wasm`);
  if (path) {
    try {
      const wasm = new Uint8Array(readFileSync(path));
      const { manifest } = loadWasm(wasm, path);
      if (manifest.source_hash === model.sourceHash && manifest.build === build) return { wasm, path };
    } catch {
      // Missing or unusable cache entry: compile below.
    }
  }
  const compiled = compile(model.bytes, { build, source: model.path });
  if (path && dir) {
    mkdirSync(dir, { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, compiled.wasm);
    renameSync(temp, path);
  }
  return { wasm: compiled.wasm, compiled, path };
}

/** A compiled model's inputs and outputs as a Graph without nodes (what input readers need). */
export function signatureGraph(manifest: Manifest): Graph {
  return {
    frac: manifest.frac,
    inputs: manifest.inputs.map((s) => ({ name: s.name, shape: [...s.shape], frac: s.frac })),
    outputs: manifest.outputs.map((s) => s.name),
    constants: new Map(),
    nodes: [],
    metadata: {},
  };
}

/** Run samples on a compiled module: one instance (or VM program), reused for every sample. */
export function wasmSampleRunner(wasm: Uint8Array, source: string, engine: "wasm" | "vm" = "wasm"): { manifest: Manifest; run: (sample: Map<string, Tensor>) => Map<string, Tensor> } {
  const runner = engine === "vm" ? new VmRunner(wasm, source) : new WasmRunner(loadWasm(wasm, source));
  return { manifest: runner.manifest, run: (sample) => runner.run(sample) };
}

/** The WASM engine for `detml verify`: compiles the graph (no cache: verify converts in memory). */
export const wasmEngine: Engine = {
  name: "wasm",
  description: "the compiled canonical WASM module (compiler/) run in the JS engine's WebAssembly (runtime-wasm/)",
  load: async (graph) => {
    const { run } = wasmSampleRunner(compile(graph).wasm, "module", "wasm");
    return { run: async (inputs) => run(inputs) };
  },
};

/** The VM engine for `detml verify`: the same compiled module, run by the rollup VM's interpreter. */
export const vmEngine: Engine = {
  name: "vm",
  description: "the compiled canonical WASM module run step by step by the rollup VM (vm/)",
  load: async (graph) => {
    const { run } = wasmSampleRunner(compile(graph).wasm, "module", "vm");
    return { run: async (inputs) => run(inputs) };
  },
};

export type EngineName = "ref" | "wasm" | "vm";

/** Every detml engine, by the names of `--engine`: the reference executor and the two compiled engines. */
export const ENGINES: readonly Engine[] = [referenceEngine, wasmEngine, vmEngine];

export function engineByName(name: string): Engine {
  const engine = ENGINES.find((e) => e.name === name);
  if (!engine) throw new Error(`unknown engine '${name}' (engines: ${ENGINES.map((e) => e.name).join(", ")})`);
  return engine;
}

/** A model file ready to run samples: a .detml on either engine, or a compiled .wasm (wasm only). */
export interface RunnableModel {
  graph: Graph;
  /** The VM module's id (vm/identity.ts) when a canonical module runs; null on the reference executor or a fast build. */
  modelId: string | null;
  /** Content hash of the .detml the model comes from. */
  sourceHash: string;
  engine: EngineName;
  /** Runs one sample; undefined means the reference executor. */
  runSample?: (sample: Map<string, Tensor>) => Map<string, Tensor>;
}

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** Open a .detml or .wasm model for `engine` (default: ref for .detml, wasm for .wasm). */
export function openRunnable(path: string, engine?: EngineName, options: CacheOptions = {}): RunnableModel {
  const bytes = readFileOrFail(path, "model");
  if (WASM_MAGIC.every((b, i) => bytes[i] === b)) {
    if (engine === "ref") throw new Error(`${path} is a compiled module: it runs on the wasm or vm engine only (run the .detml with --engine ref)`);
    const runner = wasmSampleRunner(bytes, path, engine ?? "wasm");
    const { manifest } = runner;
    return { graph: signatureGraph(manifest), modelId: manifest.model_id, sourceHash: manifest.source_hash, engine: engine ?? "wasm", runSample: runner.run };
  }
  const model = loadModel(path);
  if (engine === undefined || engine === "ref") return { graph: model.graph, modelId: null, sourceHash: model.sourceHash, engine: "ref" };
  const { wasm } = compileCached(model, options);
  const runner = wasmSampleRunner(wasm, path, engine);
  return { graph: model.graph, modelId: runner.manifest.model_id, sourceHash: model.sourceHash, engine, runSample: runner.run };
}
