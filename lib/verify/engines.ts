/**
 * The detml engines `detml verify` can run a converted graph on. Each engine loads a graph once
 * (a compiled engine compiles here) and then runs samples one at a time. The reference executor
 * is the specification; the WASM and VM engines join this list as they land and must produce
 * the same bytes, which `verify` checks against the first engine it runs.
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

/** Every engine by name, in the order `--engine` lists them. */
export const ENGINES: readonly Engine[] = [referenceEngine];

export function engineByName(name: string): Engine {
  const engine = ENGINES.find((e) => e.name === name);
  if (!engine) throw new Error(`unknown engine '${name}' (engines: ${ENGINES.map((e) => e.name).join(", ")})`);
  return engine;
}
