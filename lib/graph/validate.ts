/**
 * Graph validation and shape inference in one pass over the topologically ordered nodes: every
 * name defined once and before use, every op known with resolved attributes and the right input
 * count, every node's input types accepted by its OpDef. Errors name the node and op at fault.
 */
import { opDef, inputArity, resolveAttrs, type AnyOpDef, type TensorType } from "../ops/index.js";
import { type Graph, type Node, nodeContext } from "./ir.js";

export class GraphError extends Error {
  override name = "GraphError";
}

function nodeError(node: Node, message: string): GraphError {
  return new GraphError(`node '${node.name}' (${node.op}): ${message}`);
}

/** Check a node's input count and that no required input is absent (""). */
export function checkArity(def: AnyOpDef, node: Node): void {
  const { min, max } = inputArity(def);
  if (node.inputs.length < min || node.inputs.length > max) {
    const want = max === Infinity ? `at least ${min}` : min === max ? `${min}` : `${min} to ${max}`;
    throw nodeError(node, `takes ${want} inputs, got ${node.inputs.length}`);
  }
  node.inputs.forEach((name, i) => {
    if (name === "" && i < min) throw nodeError(node, `input ${i} (${def.inputs[i]}) is required`);
  });
}

/** Validate the graph and return the static type of every value (inputs, constants, node outputs). */
export function inferTypes(graph: Graph): Map<string, TensorType> {
  if (!Number.isInteger(graph.frac) || graph.frac < 0 || graph.frac > 30) {
    throw new GraphError(`graph frac ${graph.frac} is not in 0..30`);
  }
  const types = new Map<string, TensorType>();
  const define = (name: string, t: TensorType, where: string) => {
    if (name === "") throw new GraphError(`${where}: empty value name`);
    if (types.has(name)) throw new GraphError(`${where}: value '${name}' is defined twice`);
    types.set(name, t);
  };
  for (const v of graph.inputs) {
    if (!v.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new GraphError(`input '${v.name}': shape [${v.shape.join(",")}] is not static (dimensions must be integers >= 0)`);
    }
    define(v.name, { shape: [...v.shape], frac: v.frac }, `input '${v.name}'`);
  }
  for (const [name, t] of graph.constants) define(name, { shape: [...t.shape], frac: t.frac }, `constant '${name}'`);

  const nodeNames = new Set<string>();
  for (const node of graph.nodes) {
    if (nodeNames.has(node.name)) throw nodeError(node, "node name used twice");
    if (node.frac !== undefined && !(Number.isInteger(node.frac) && node.frac >= 0 && node.frac <= 30)) throw nodeError(node, `frac ${node.frac} is not in 0..30`);
    nodeNames.add(node.name);
    let def;
    try {
      def = opDef(node.op);
    } catch (e) {
      throw nodeError(node, (e as Error).message);
    }
    checkArity(def, node);
    const inTypes: TensorType[] = [];
    node.inputs.forEach((name, i) => {
      if (name === "") return;
      const t = types.get(name);
      if (!t) throw nodeError(node, `input '${name}' is not defined before this node`);
      inTypes[i] = t;
    });
    let outTypes: TensorType[];
    try {
      const attrs = resolveAttrs(def, node.attrs);
      const count = def.outputs(attrs);
      if (node.outputs.length !== count) throw new Error(`has ${node.outputs.length} outputs, the op gives ${count}`);
      outTypes = def.infer(inTypes, attrs, nodeContext(graph, node));
    } catch (e) {
      throw nodeError(node, (e as Error).message);
    }
    node.outputs.forEach((name, i) => define(name, outTypes[i], `node '${node.name}' (${node.op})`));
  }
  if (graph.outputs.length === 0) throw new GraphError("the graph has no outputs");
  for (const name of graph.outputs) {
    if (!types.has(name)) throw new GraphError(`graph output '${name}' is not produced by any node`);
  }
  return types;
}
