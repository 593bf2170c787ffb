/**
 * The reference executor: the executable specification of what a detml graph computes. It walks
 * the nodes in order and calls each op's reference kernel; engines (WASM, VM) must produce the
 * same bytes. Readable over clever: no fusion, no buffer reuse.
 */
import { type Graph, nodeContext } from "./graph/ir.js";
import { opDef, resolveAttrs } from "./ops/index.js";
import { orderInputs, type NamedTensors } from "./inputs.js";
import type { Tensor } from "./tensor/tensor.js";

/** Re-exported where it was first defined: lib/index.ts and older importers name it from here. */
export { InputError } from "./inputs.js";

export interface RunOptions {
  /** Keep every intermediate value (node outputs), in execution order. */
  capture?: boolean;
  /** Called after each node with its index and the node count (progress displays). */
  onNode?: (index: number, count: number) => void;
}

export interface RunResult {
  outputs: Map<string, Tensor>;
  /** Every node output by name, when `capture` was set. */
  values?: Map<string, Tensor>;
}

/** Check given inputs against the graph's declared inputs and bring each to its declared frac (lib/inputs.ts). */
export function prepareInputs(graph: Graph, inputs: NamedTensors): Map<string, Tensor> {
  const ordered = orderInputs(graph.inputs, inputs);
  return new Map(graph.inputs.map((v, i) => [v.name, ordered[i]]));
}

export function run(graph: Graph, inputs: NamedTensors, options: RunOptions = {}): RunResult {
  const values = new Map<string, Tensor>(graph.constants);
  for (const [name, t] of prepareInputs(graph, inputs)) values.set(name, t);
  const captured = options.capture ? new Map<string, Tensor>() : undefined;
  graph.nodes.forEach((node, index) => {
    const def = opDef(node.op);
    const args = node.inputs.map((name) => (name === "" ? undefined : values.get(name))) as Tensor[];
    let results: Tensor[];
    try {
      results = def.run(args, resolveAttrs(def, node.attrs), nodeContext(graph, node));
    } catch (e) {
      throw new Error(`node '${node.name}' (${node.op}) failed: ${(e as Error).message}`);
    }
    node.outputs.forEach((name, i) => {
      values.set(name, results[i]);
      captured?.set(name, results[i]);
    });
    options.onNode?.(index, graph.nodes.length);
  });
  return { outputs: new Map(graph.outputs.map((name) => [name, values.get(name)!])), values: captured };
}
