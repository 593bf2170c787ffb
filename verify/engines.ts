/**
 * The one list of detml engines: what `detml run --engine` and `detml verify --engine` can run a
 * graph on. An engine loads a graph once (a compiled engine compiles there) and then runs
 * samples one at a time. The reference executor (lib/executor.ts) is the specification; the
 * compiled engines run the canonical module in the JS engine's WebAssembly (runtime-wasm/) or in
 * the rollup VM (vm/). This file sits above the compiler and the runtimes, which it joins.
 */
import { compile } from "../compiler/compile.js";
import { run } from "../lib/executor.js";
import type { Graph } from "../lib/graph/ir.js";
import type { Tensor } from "../lib/tensor/tensor.js";
import { wasmSampleRunner } from "./runnable.js";

/** A graph loaded into an engine, ready to run single samples. */
export interface LoadedEngine {
  run(inputs: Map<string, Tensor>): Promise<Map<string, Tensor>>;
  dispose?(): void;
}

export interface Engine {
  /** Short name used by `--engine`, e.g. "ref". */
  readonly name: string;
  readonly description: string;
  load(graph: Graph): Promise<LoadedEngine>;
}

export type EngineName = "ref" | "wasm" | "vm";

export const referenceEngine: Engine = {
  name: "ref",
  description: "the reference executor (lib/executor.ts), the executable specification",
  load: async (graph) => ({ run: async (inputs) => run(graph, inputs).outputs }),
};

/** A compiled engine for `detml verify`: compiles the graph (no cache: verify converts in memory). */
function compiledEngine(name: "wasm" | "vm", description: string): Engine {
  return {
    name,
    description,
    load: async (graph) => {
      const { run: runSample } = wasmSampleRunner(compile(graph).wasm, "module", name);
      return { run: async (inputs) => runSample(inputs) };
    },
  };
}

/** The WASM engine: the compiled canonical module in the JS engine's WebAssembly. */
export const wasmEngine = compiledEngine("wasm", "the compiled canonical WASM module (compiler/) run in the JS engine's WebAssembly (runtime-wasm/)");

/** The VM engine: the same compiled module, run step by step by the rollup VM's interpreter. */
export const vmEngine = compiledEngine("vm", "the compiled canonical WASM module run step by step by the rollup VM (vm/)");

/** Every detml engine, by the names of `--engine`: the reference executor and the two compiled engines. */
export const ENGINES: readonly Engine[] = [referenceEngine, wasmEngine, vmEngine];

export function engineByName(name: string): Engine {
  const engine = ENGINES.find((e) => e.name === name);
  if (!engine) throw new Error(`unknown engine '${name}' (engines: ${ENGINES.map((e) => e.name).join(", ")})`);
  return engine;
}
