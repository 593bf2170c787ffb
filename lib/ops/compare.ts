/**
 * Comparisons and selection with broadcasting. Equal, Less and Greater compare the two inputs
 * EXACTLY at the common frac max(fa, fb) (the lower-frac input shifted left, an i64 value below
 * 2^62) and output 1 or 0 at frac 0. Where(cond, x, y) reads cond as a boolean (raw integer
 * nonzero, whatever its frac) and picks x or y rescaled to ctx.frac (round half up, saturate).
 */
import { rescale } from "../tensor/fixed.js";
import { broadcastShapes } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { broadcastInputs } from "./binary.js";
import { defineOp, type OpDef } from "./op.js";

type Relation = (x: number, y: number) => boolean;

/** 1 where relation(a, b) holds, else 0, compared at the common frac. */
function compareBroadcast(a: Tensor, b: Tensor, relation: Relation): Tensor {
  const common = Math.max(a.frac, b.frac);
  // Multiplying an i32 by 2^k (k <= 30) is exact in float64: only the exponent changes.
  const scaleA = 2 ** (common - a.frac);
  const scaleB = 2 ** (common - b.frac);
  const { shape, index } = broadcastInputs([a.shape, b.shape]);
  const [ia, ib] = index;
  const out = new Int32Array(ia.length);
  for (let i = 0; i < out.length; i++) out[i] = relation(a.data[ia[i]] * scaleA, b.data[ib[i]] * scaleB) ? 1 : 0;
  return new Tensor(shape, out, 0);
}

export function equal(a: Tensor, b: Tensor): Tensor {
  return compareBroadcast(a, b, (x, y) => x === y);
}

export function less(a: Tensor, b: Tensor): Tensor {
  return compareBroadcast(a, b, (x, y) => x < y);
}

export function greater(a: Tensor, b: Tensor): Tensor {
  return compareBroadcast(a, b, (x, y) => x > y);
}

/** cond ? x : y elementwise with broadcasting of all three; `frac` defaults to x's. */
export function where(cond: Tensor, x: Tensor, y: Tensor, frac = x.frac): Tensor {
  const { shape, index } = broadcastInputs([cond.shape, x.shape, y.shape]);
  const [ic, ix, iy] = index;
  const out = new Int32Array(ic.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = cond.data[ic[i]] !== 0 ? rescale(x.data[ix[i]], x.frac, frac) : rescale(y.data[iy[i]], y.frac, frac);
  }
  return new Tensor(shape, out, frac);
}

function comparisonOp(kind: string, summary: string, kernel: (a: Tensor, b: Tensor) => Tensor): OpDef {
  return defineOp({
    kind,
    summary,
    inputs: ["a", "b"],
    attrs: {},
    outputs: () => 1,
    infer: ([a, b]) => [{ shape: broadcastShapes(a.shape, b.shape), frac: 0 }],
    run: ([a, b]) => [kernel(a, b)],
  });
}

export const Equal = comparisonOp("Equal", "a == b with broadcasting, exact; 1/0 at frac 0", equal);
export const Less = comparisonOp("Less", "a < b with broadcasting, exact; 1/0 at frac 0", less);
export const Greater = comparisonOp("Greater", "a > b with broadcasting, exact; 1/0 at frac 0", greater);

export const Where = defineOp({
  kind: "Where",
  summary: "cond != 0 ? x : y with broadcasting, x and y rescaled to ctx.frac",
  inputs: ["cond", "x", "y"],
  attrs: {},
  outputs: () => 1,
  infer: ([cond, x, y], _attrs, ctx) => [{ shape: broadcastShapes(cond.shape, x.shape, y.shape), frac: ctx.frac }],
  run: ([cond, x, y], _attrs, ctx) => [where(cond, x, y, ctx.frac)],
});
