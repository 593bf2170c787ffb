/**
 * ONNX Einsum: the node's equation and operands handed to the shared composition of
 * converter/common/composite-einsum.ts (Transpose, Reshape, ReduceSum, Slice and one batched
 * MatMul), whose errors name the equation.
 */
import { einsum as composeEinsum } from "../common/composite-einsum.js";
import type { NodeCtx } from "./context.js";
import type { Handler } from "./handlers.js";

export const einsum: Handler = (n: NodeCtx) => {
  const composer = { op: n.emit.bind(n), constant: n.addConst.bind(n), guard: n.guard };
  const operands = n.inputs().map((name, i) => ({ name, shape: n.shape(i), dtype: n.dtype(i), frac: n.frac(i) }));
  n.alias(0, composeEinsum(composer, n.string("equation"), operands));
};
