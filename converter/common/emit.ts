/**
 * Draft graph to detml Graph: constants quantized per tensor (chooseFrac for floats, frac 0 for
 * integers and booleans), real attributes quantized at ATTR_FRAC, float inputs at the graph frac
 * and integer inputs at frac 0. Everything goes through GraphBuilder, so the result is validated
 * node by node and errors name the node.
 */
import { GraphBuilder } from "../../lib/graph/builder.js";
import type { Graph } from "../../lib/graph/ir.js";
import { irAttrs, irOp, type DraftGraph } from "./draft.js";
import { toTensor } from "./values.js";

export function emitGraph(draft: DraftGraph): Graph {
  const g = new GraphBuilder({ frac: draft.frac });
  for (const v of draft.inputs) g.input(v.name, v.shape, v.dtype === "float" ? draft.frac : 0);
  const used = new Set([...draft.outputs, ...draft.nodes.flatMap((n) => n.inputs)]);
  for (const [name, value] of draft.constants) if (used.has(name)) g.constant(name, toTensor(name, value));
  for (const n of draft.nodes) g.op(n.op, n.inputs, irAttrs(irOp(n.op), n.attrs), { name: n.name, outputs: n.outputs });
  g.output(...draft.outputs);
  for (const [k, v] of Object.entries(draft.metadata)) g.meta(k, v);
  return g.build();
}
