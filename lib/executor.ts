/**
 * The reference executor: the executable specification of what a detml graph computes. It walks
 * the nodes in order and calls each op's reference kernel; engines (WASM, VM) must produce the
 * same bytes. Readable over clever: no fusion, no buffer reuse.
 */
import type { Graph } from "./graph/ir.js";
import { opDef, resolveAttrs } from "./ops/index.js";
import { rescale } from "./tensor/fixed.js";
import { sameShape } from "./tensor/shape.js";
import { Tensor } from "./tensor/tensor.js";

export class InputError extends Error {
  override name = "InputError";
}

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

/**
 * Check given inputs against the graph's declared inputs and bring each to its declared frac
 * (rescale with the one rounding rule). Shapes must match exactly.
 */
export function prepareInputs(graph: Graph, inputs: Map<string, Tensor> | Record<string, Tensor>): Map<string, Tensor> {
  const given = inputs instanceof Map ? inputs : new Map(Object.entries(inputs));
  const out = new Map<string, Tensor>();
  for (const name of given.keys()) {
    if (!graph.inputs.some((v) => v.name === name)) {
      throw new InputError(`the model has no input '${name}' (inputs: ${graph.inputs.map((v) => v.name).join(", ")})`);
    }
  }
  for (const v of graph.inputs) {
    const t = given.get(v.name);
    if (!t) throw new InputError(`missing input '${v.name}' (shape [${v.shape.join(",")}])`);
    if (!sameShape(t.shape, v.shape)) {
      throw new InputError(`input '${v.name}' has shape [${t.shape.join(",")}] but the model expects [${v.shape.join(",")}]`);
    }
    out.set(v.name, t.frac === v.frac ? t : new Tensor(t.shape, t.data.map((x) => rescale(x, t.frac, v.frac)), v.frac));
  }
  return out;
}

export function run(graph: Graph, inputs: Map<string, Tensor> | Record<string, Tensor>, options: RunOptions = {}): RunResult {
  const values = new Map<string, Tensor>(graph.constants);
  for (const [name, t] of prepareInputs(graph, inputs)) values.set(name, t);
  const ctx = { frac: graph.frac };
  const captured = options.capture ? new Map<string, Tensor>() : undefined;
  graph.nodes.forEach((node, index) => {
    const def = opDef(node.op);
    const args = node.inputs.map((name) => (name === "" ? undefined : values.get(name))) as Tensor[];
    let results: Tensor[];
    try {
      results = def.run(args, resolveAttrs(def, node.attrs), ctx);
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
