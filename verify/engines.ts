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
  dispose?(): void | Promise<void>;
  /** Gas used by the last run (engines that run on a chain). */
  lastGas?(): bigint | undefined;
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

/**
 * The EVM engine: the graph compiled to EVM contracts (compiler/evm), deployed on the embedded
 * in-process chain and run by `infer` transactions (chain/evm-model.ts), with the gas of each.
 * The compiler and the chain layer (viem, @ethereumjs) load only when this engine is used.
 */
export const evmEngine: Engine = {
  name: "evm",
  description: "the graph compiled to plain EVM contracts (compiler/evm), run on the embedded chain (chain/evm-model.ts)",
  load: async (graph) => {
    const [{ compileEvm, flattenInputs, overGasCap, splitOutputs }, { connectChain }, { deployEvmModel, inferEvm }] = await Promise.all([
      import("../compiler/evm/index.js"), import("../chain/connect.js"), import("../chain/evm-model.js"),
    ]);
    const artifact = compileEvm(graph);
    const tooLarge = overGasCap(artifact);
    if (tooLarge) throw new Error(`engine evm: ${tooLarge}`);
    const conn = await connectChain("local");
    const model = await deployEvmModel(conn, artifact);
    let gas: bigint | undefined;
    return {
      run: async (inputs) => {
        const result = await inferEvm(conn, model, flattenInputs(artifact, inputs), { measureGas: true });
        gas = result.gas;
        return splitOutputs(artifact, result.output);
      },
      lastGas: () => gas,
      dispose: () => conn.close(),
    };
  },
};

/** Every detml engine, by the names of `--engine`: the reference executor and the compiled engines. */
export const ENGINES: readonly Engine[] = [referenceEngine, wasmEngine, vmEngine, evmEngine];

export function engineByName(name: string): Engine {
  const engine = ENGINES.find((e) => e.name === name);
  if (!engine) throw new Error(`unknown engine '${name}' (engines: ${ENGINES.map((e) => e.name).join(", ")})`);
  return engine;
}
