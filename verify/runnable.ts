/**
 * A model file ready to run samples on an engine (`detml run`): a .detml on the reference
 * executor, or compiled on the fly (compiler/cache.ts) and run on the wasm or vm engine, or a
 * compiled .wasm whose manifest gives the model's signature (inputs, outputs) as a Graph without
 * nodes. A trap of a compiled module names the op; when the .detml is at hand the reference
 * executor runs the same sample and its message (which names the index and the range of an
 * out-of-range Gather, say) is added, else the message points at `--engine ref` on the .detml.
 */
import { loadWasm, type Manifest } from "../abi/manifest.js";
import { type CacheOptions, compileCached } from "../compiler/cache.js";
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
  /** Runs one sample; undefined means the reference executor. */
  runSample?: SampleRunner;
}

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** A compiled module by its first bytes or, when those are damaged, by its .wasm name. */
function isWasmFile(path: string, bytes: Uint8Array): boolean {
  return WASM_MAGIC.every((b, i) => bytes[i] === b) || /\.wasm$/i.test(path);
}

/** Open a .detml or .wasm model for `engine` (default: ref for .detml, wasm for .wasm). */
export function openRunnable(path: string, engine?: EngineName, options: CacheOptions = {}): RunnableModel {
  const bytes = readFileOrFail(path, "model");
  if (isWasmFile(path, bytes)) {
    if (engine === "ref") throw new Error(`${path} is a compiled module: it runs on the wasm or vm engine only (run the .detml with --engine ref)`);
    const runner = wasmSampleRunner(bytes, path, engine ?? "wasm");
    const { manifest } = runner;
    return {
      graph: signatureGraph(manifest), modelId: manifest.model_id, sourceHash: manifest.source_hash, engine: engine ?? "wasm",
      runSample: explainingTraps(runner.run, undefined),
    };
  }
  const model = loadModel(path);
  if (engine === undefined || engine === "ref") return { graph: model.graph, modelId: null, sourceHash: model.sourceHash, engine: "ref" };
  const { wasm } = compileCached(model, options);
  const runner = wasmSampleRunner(wasm, path, engine);
  return { graph: model.graph, modelId: runner.manifest.model_id, sourceHash: model.sourceHash, engine, runSample: explainingTraps(runner.run, model.graph) };
}
