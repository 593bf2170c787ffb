/**
 * A model file ready to run samples on an engine (`detml run`): a .detml on the reference
 * executor, or compiled on the fly (compiler/cache.ts, either build cached) and run on the wasm
 * engine (the FAST build unless the canonical one is asked for: the same bytes, sooner) or the
 * vm engine (always the canonical build, the one the VM proves), or a
 * compiled .wasm whose manifest gives the model's signature (inputs, outputs) as a Graph without
 * nodes. A trap of a compiled module names the op; when the .detml is at hand the reference
 * executor runs the same sample and its message (which names the index and the range of an
 * out-of-range Gather, say) is added, else the message points at `--engine ref` on the .detml.
 */
import { loadWasm, type Manifest } from "../abi/manifest.js";
import { type CacheOptions, compileCached } from "../compiler/cache.js";
import type { Build } from "../compiler/compile.js";
import type { SampleRunner } from "../lib/batch.js";
import { run } from "../lib/executor.js";
import type { Graph } from "../lib/graph/ir.js";
import { loadModel, readFileOrFail } from "../lib/model-files.js";
import { WasmRunner, WasmTrap } from "../runtime-wasm/runtime.js";
import { VmRunner } from "../runtime-wasm/vm-runner.js";
import type { EngineName } from "./engines.js";

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
export function wasmSampleRunner(wasm: Uint8Array, source: string, engine: "wasm" | "vm" = "wasm"): { manifest: Manifest; run: SampleRunner } {
  const runner = engine === "vm" ? new VmRunner(wasm, source) : new WasmRunner(loadWasm(wasm, source));
  return { manifest: runner.manifest, run: (sample) => runner.run(sample) };
}

/**
 * A sample runner whose traps explain themselves: with the graph, the reference executor's
 * message for the same sample is appended; without (a bare .wasm), a pointer to `--engine ref`.
 */
export function explainingTraps(runSample: SampleRunner, graph: Graph | undefined): SampleRunner {
  return (sample) => {
    try {
      return runSample(sample);
    } catch (e) {
      if (!(e instanceof WasmTrap)) throw e;
      if (!graph) throw new WasmTrap(`${e.message} (a compiled module carries no graph to say why: run its .detml with --engine ref)`, e.segment);
      let reason: string | undefined;
      try {
        run(graph, sample);
      } catch (ref) {
        reason = (ref as Error).message;
      }
      throw new WasmTrap(reason ? `${e.message}: the reference executor says: ${reason}` : `${e.message} (the reference executor runs this sample without an error)`, e.segment);
    }
  };
}

/** A model file ready to run samples: a .detml on either engine, or a compiled .wasm (wasm or vm). */
export interface RunnableModel {
  graph: Graph;
  /** The VM module's id (vm/identity.ts) when a canonical module runs; null on the reference executor or a fast build. */
  modelId: string | null;
  /** Content hash of the .detml the model comes from. */
  sourceHash: string;
  engine: EngineName;
  /** The compiled module's build; undefined on the reference executor. */
  build?: Build;
  /** Runs one sample; undefined means the reference executor. */
  runSample?: SampleRunner;
}

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** A compiled module by its first bytes or, when those are damaged, by its .wasm name. */
function isWasmFile(path: string, bytes: Uint8Array): boolean {
  return WASM_MAGIC.every((b, i) => bytes[i] === b) || /\.wasm$/i.test(path);
}

/**
 * Open a .detml or .wasm model for `engine` (default: ref for .detml, wasm for .wasm). A .detml
 * on the wasm engine compiles in `options.build` (default fast); the vm engine takes the
 * canonical build only. A compiled .wasm runs in its own build: a `build` that names the other
 * one is an error.
 */
export function openRunnable(path: string, engine?: EngineName, options: CacheOptions = {}): RunnableModel {
  if (engine === "vm" && options.build === "fast") throw new Error("the vm engine runs the canonical build only (the fast build is for --engine wasm)");
  const bytes = readFileOrFail(path, "model");
  if (isWasmFile(path, bytes)) {
    if (engine === "ref") throw new Error(`${path} is a compiled module: it runs on the wasm or vm engine only (run the .detml with --engine ref)`);
    const runner = wasmSampleRunner(bytes, path, engine ?? "wasm");
    const { manifest } = runner;
    if (options.build && options.build !== manifest.build) throw new Error(`${path} is a compiled module of the ${manifest.build} build: a ${options.build} build is compiled from its .detml`);
    return {
      graph: signatureGraph(manifest), modelId: manifest.model_id, sourceHash: manifest.source_hash, engine: engine ?? "wasm", build: manifest.build,
      runSample: explainingTraps(runner.run, undefined),
    };
  }
  const model = loadModel(path);
  if (engine === undefined || engine === "ref") {
    if (options.build) throw new Error(`the reference executor runs the .detml itself: the ${options.build} build is a compiled module (--engine wasm, or vm for the canonical build)`);
    return { graph: model.graph, modelId: null, sourceHash: model.sourceHash, engine: "ref" };
  }
  const build = engine === "vm" ? "canonical" : options.build ?? "fast";
  const { wasm } = compileCached(model, { ...options, build });
  const runner = wasmSampleRunner(wasm, path, engine);
  return { graph: model.graph, modelId: runner.manifest.model_id, sourceHash: model.sourceHash, engine, build, runSample: explainingTraps(runner.run, model.graph) };
}
