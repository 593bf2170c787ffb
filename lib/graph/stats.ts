/**
 * Static statistics of a graph for `detml inspect`: a row per node (op, output shapes and fracs,
 * parameters it reads, multiply-accumulates), totals, and the activation memory a naive
 * executor holds (every value live at once) next to the weights' size.
 */
import type { TensorType } from "../ops/index.js";
import { sizeOf } from "../tensor/shape.js";
import type { Graph, Node } from "./ir.js";
import { inferTypes } from "./validate.js";

export interface NodeStats {
  name: string;
  op: string;
  inputs: string[];
  outputs: { name: string; shape: number[]; frac: number }[];
  params: number;
  macs: number;
}

export interface GraphStats {
  nodes: NodeStats[];
  inputs: { name: string; shape: number[]; frac: number }[];
  outputs: { name: string; shape: number[]; frac: number }[];
  params: number;
  macs: number;
  weightBytes: number;
  activationBytes: number;
  opCounts: Record<string, number>;
}

/** Multiply-accumulates of the ops that dominate cost; 0 for the rest. */
function macsOf(node: Node, ins: TensorType[], outs: TensorType[]): number {
  const out = outs[0] ? sizeOf(outs[0].shape) : 0;
  switch (node.op) {
    case "MatMul": {
      const a = ins[0].shape;
      return out * (a.length ? a[a.length - 1] : 1);
    }
    case "Gemm": {
      const a = ins[0].shape;
      return out * (node.attrs.transA ? a[0] : a[1]);
    }
    case "Conv": {
      const w = ins[1].shape; // [M, C/group, k...]
      return out * sizeOf(w.slice(1));
    }
    case "ConvTranspose": {
      const w = ins[1].shape; // [C, M/group, k...]
      return sizeOf(ins[0].shape) * sizeOf(w.slice(1));
    }
    default:
      return 0;
  }
}

export function graphStats(graph: Graph): GraphStats {
  const types = inferTypes(graph);
  const typed = (name: string) => ({ name, ...types.get(name)! });
  const opCounts: Record<string, number> = {};
  const nodes = graph.nodes.map((node) => {
    opCounts[node.op] = (opCounts[node.op] ?? 0) + 1;
    const ins = node.inputs.map((n) => types.get(n)!);
    const outs = node.outputs.map((n) => types.get(n)!);
    const params = node.inputs.filter((n) => graph.constants.has(n)).reduce((s, n) => s + graph.constants.get(n)!.size, 0);
    return { name: node.name, op: node.op, inputs: node.inputs, outputs: node.outputs.map(typed), params, macs: macsOf(node, ins, outs) };
  });
  const params = [...graph.constants.values()].reduce((s, t) => s + t.size, 0);
  const activations = graph.inputs.reduce((s, v) => s + sizeOf(v.shape), 0) +
    nodes.reduce((s, n) => s + n.outputs.reduce((a, o) => a + sizeOf(o.shape), 0), 0);
  return {
    nodes,
    inputs: graph.inputs.map((v) => ({ name: v.name, shape: [...v.shape], frac: v.frac })),
    outputs: graph.outputs.map(typed),
    params,
    macs: nodes.reduce((s, n) => s + n.macs, 0),
    weightBytes: params * 4,
    activationBytes: activations * 4,
    opCounts,
  };
}
