/**
 * Transpose: permute the axes (ONNX semantics; an empty `perm` reverses them). A pure copy: the
 * output keeps the input's frac. The copy loop is Tensor.transpose; this file adds the ONNX
 * attribute handling and validation shared by `infer` and the kernel, and the same permutation
 * as offset tables for the converter's constant folder.
 */
import { stridesOf, type Shape } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import { axisOffsets, type AxisOffsets } from "./axis-copy.js";
import { check, defineOp } from "./op.js";

/** The permutation for a rank: `perm` itself after validation, or the reversal when empty. */
export function resolvePerm(perm: readonly number[], rank: number): number[] {
  if (perm.length === 0) return [...Array(rank).keys()].reverse();
  const valid = perm.length === rank && [...perm].sort((a, b) => a - b).every((v, i) => v === i);
  check(valid, `Transpose perm [${perm.join(",")}] is not a permutation of the ${rank} axes 0..${rank - 1}`);
  return [...perm];
}

export function transposeShape(input: Shape, perm: readonly number[] = []): number[] {
  return resolvePerm(perm, input.length).map((a) => input[a]);
}

/** The per-axis offset tables of a transpose (copyOffsets): output axis d walks input axis perm[d]. */
export function transposeOffsets(input: Shape, perm: readonly number[] = []): AxisOffsets[] {
  const strides = stridesOf(input);
  return resolvePerm(perm, input.length).map((a) => axisOffsets(input[a], strides[a], (i) => i));
}

export function transpose(x: Tensor, perm: readonly number[] = []): Tensor {
  return x.transpose(resolvePerm(perm, x.rank));
}

export type TransposeAttrs = { perm: number[] };

export const Transpose = defineOp<TransposeAttrs>({
  kind: "Transpose",
  summary: "permute axes: output axis i is input axis perm[i]",
  inputs: ["data"],
  attrs: {
    perm: { type: "ints", default: [], doc: "a permutation of 0..rank-1; empty: reverse the axes" },
  },
  outputs: () => 1,
  infer: ([x], a) => [{ shape: transposeShape(x.shape, a.perm), frac: x.frac }],
  run: ([x], a) => [transpose(x, a.perm)],
});
