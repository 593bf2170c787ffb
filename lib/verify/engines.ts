/**
 * The contract of a detml engine that `verifyGraph` can run a converted graph on: it loads a
 * graph once (a compiled engine compiles there) and then runs samples one at a time. The
 * reference executor, the specification, is defined here; the compiled engines (WASM, VM) and
 * the list of all engines live in compiler/engine.ts, since lib/ does not depend on the
 * compiler. Every engine must produce the reference's bytes, which `verify` checks.
 */
import { run } from "../executor.js";
import type { Graph } from "../graph/ir.js";
import type { Tensor } from "../tensor/tensor.js";

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

export const referenceEngine: Engine = {
  name: "ref",
  description: "the reference executor (lib/executor.ts), the executable specification",
  load: async (graph) => ({ run: async (inputs) => run(graph, inputs).outputs }),
};
