/**
 * The one list of detml engines: what `detml run --engine` and `detml verify --engine` can run a
 * graph on. An engine loads a graph once (a compiled engine compiles there) and then runs
 * samples one at a time. The reference executor (lib/executor.ts) is the specification; the
 * compiled engines run a module in the JS engine's WebAssembly (runtime-wasm/): the FAST build by
 * default, since where outputs are wanted it gives the canonical build's bytes sooner (memory
 * identical at every op boundary, docs/abi.md), or the canonical build on request; the VM engine
 * runs the canonical module (the only one it can prove) in the rollup VM (vm/). This file sits
 * above the compiler and the runtimes, which it joins.
 */
import { type Build, compile } from "../compiler/compile.js";
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
  /** The compiled build it runs (compiled WASM engines only). */
  readonly build?: Build;
  load(graph: Graph): Promise<LoadedEngine>;
}

export type EngineName = "ref" | "wasm" | "vm";

export const referenceEngine: Engine = {
  name: "ref",
  description: "the reference executor (lib/executor.ts), the executable specification",
  load: async (graph) => ({ run: async (inputs) => run(graph, inputs).outputs }),
};

/** A compiled engine for `detml verify`: compiles the graph in `build` (no cache: verify converts in memory). */
function compiledEngine(name: "wasm" | "vm", description: string, build: Build): Engine {
  return {
    name,
    description,
    build,
    load: async (graph) => {
      const { run: runSample } = wasmSampleRunner(compile(graph, { build }).wasm, "module", name);
      return { run: async (inputs) => runSample(inputs) };
    },
  };
}

/** The WASM engine by default: the FAST build (SIMD) in the JS engine's WebAssembly, bit-identical to the canonical build. */
export const wasmEngine = compiledEngine("wasm", "the compiled FAST WASM module (compiler/, SIMD, bit-identical to the canonical build) run in the JS engine's WebAssembly (runtime-wasm/)", "fast");

/** The WASM engine on the canonical build: the provable module the VM runs, in the JS engine's WebAssembly. */
export const canonicalWasmEngine = compiledEngine("wasm", "the compiled canonical WASM module (compiler/) run in the JS engine's WebAssembly (runtime-wasm/)", "canonical");

/** The VM engine: the canonical module, run step by step by the rollup VM's interpreter. */
export const vmEngine = compiledEngine("vm", "the compiled canonical WASM module run step by step by the rollup VM (vm/)", "canonical");

/**
 * An engine running the graph as EVM contracts on the embedded in-process chain: compiled by
 * `compileContracts`, deployed, and run by `infer` transactions (chain/evm-model.ts), with the
 * gas of each. The compiler and the chain layer (viem, @ethereumjs) load only when it is used.
 */
function evmContractsEngine(name: string, description: string, precompiles: boolean): Engine {
  return {
    name,
    description,
    load: async (graph) => {
      const [evm, { compileEvmPrecompiles }, { connectChain }, { deployEvmModel, inferEvm }] = await Promise.all([
        import("../compiler/evm/index.js"), import("../compiler/evm/precompiles.js"), import("../chain/connect.js"), import("../chain/evm-model.js"),
      ]);
      const artifact = precompiles ? compileEvmPrecompiles(graph) : evm.compileEvm(graph);
      const tooLarge = precompiles ? undefined : evm.overGasCap(artifact);
      if (tooLarge) throw new Error(`engine ${name}: ${tooLarge}`);
      const conn = await connectChain("local", { precompiles });
      const model = await deployEvmModel(conn, artifact);
      let gas: bigint | undefined;
      return {
        run: async (inputs) => {
          const result = await inferEvm(conn, model, evm.flattenInputs(artifact, inputs), { measureGas: true });
          gas = result.gas;
          return evm.splitOutputs(artifact, result.output);
        },
        lastGas: () => gas,
        dispose: () => conn.close(),
      };
    },
  };
}

/** The EVM engine: the graph compiled to plain EVM contracts (compiler/evm) on the embedded chain. */
export const evmEngine = evmContractsEngine("evm", "the graph compiled to plain EVM contracts (compiler/evm), run on the embedded chain (chain/evm-model.ts)", false);

/** The extended EVM: the graph compiled to a contract calling the DNN-operator precompiles, on the embedded chain that has them. */
export const evmPrecompilesEngine = evmContractsEngine("evm-precompiles",
  "the graph compiled to a contract calling the DNN-operator precompiles (compiler/evm/precompiles.ts), run on the embedded chain with them (chain/precompiles.ts)", true);

/** Every detml engine, by the names of `--engine`: the reference executor and the compiled engines. */
export const ENGINES: readonly Engine[] = [referenceEngine, wasmEngine, vmEngine, evmEngine, evmPrecompilesEngine];

/** The engine of an `--engine` name; `build` picks the wasm engine's build (default fast). */
export function engineByName(name: string, build: Build = "fast"): Engine {
  if (name === "wasm") return build === "fast" ? wasmEngine : canonicalWasmEngine;
  const engine = ENGINES.find((e) => e.name === name);
  if (!engine) throw new Error(`unknown engine '${name}' (engines: ${ENGINES.map((e) => e.name).join(", ")})`);
  return engine;
}
