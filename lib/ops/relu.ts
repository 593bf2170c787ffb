/**
 * Relu: max(x, 0) elementwise. Exact in fixed point; the output keeps the input's frac.
 * This file is the pattern for every op: a functional kernel for library users and the OpDef
 * that the graph, the codec and the executor use.
 */
import { Tensor } from "../tensor/tensor.js";
import { defineOp } from "./op.js";

export function relu(x: Tensor): Tensor {
  const out = new Int32Array(x.size);
  for (let i = 0; i < out.length; i++) out[i] = x.data[i] > 0 ? x.data[i] : 0;
  return new Tensor(x.shape, out, x.frac);
}

export const Relu = defineOp({
  kind: "Relu",
  summary: "max(x, 0)",
  inputs: ["x"],
  attrs: {},
  outputs: () => 1,
  infer: ([x]) => [{ shape: [...x.shape], frac: x.frac }],
  run: ([x]) => [relu(x)],
});
