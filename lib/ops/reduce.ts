/**
 * Reductions over a set of axes: ReduceSum, ReduceMean, ReduceMax and ReduceMin with the ONNX
 * attributes `axes` (negative allowed; empty means all axes, or none when
 * noop_with_empty_axes = 1, in which case every output is a reduction of one element),
 * `keepdims` and `noop_with_empty_axes`. Numerics: ReduceSum is the exact i64 sum narrowed once
 * to ctx.frac (round half up, saturate). ReduceMean is the exact sum S at the input frac f
 * divided ONCE, `divRound` (nearest, ties away from zero), by the count n at the output frac t:
 * divRound(S * 2^(t-f), n) when t >= f, else divRound(S, n * 2^(f-t)); then saturated. (A
 * compiled kernel must clamp S to +-n * 2^(32-(t-f)) before that left shift to stay inside i64;
 * the clamp cannot change the saturated result.) ReduceMax/ReduceMin are exact and keep the
 * input frac; over an empty axis they give I32_MIN / I32_MAX, sums give 0.
 */
import { I32_MAX, I32_MIN, divRound, divRoundBig, narrow, saturate } from "../tensor/fixed.js";
import { broadcastIndex, sizeOf, type Shape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { narrowWide } from "./binary.js";
import { type AttrSpec, type OpContext, type TensorType, check, defineOp, resolveAttrs } from "./op.js";

export type ReduceAttrs = { axes: number[]; keepdims: number; noop_with_empty_axes: number };

const REDUCE_ATTRS: Record<keyof ReduceAttrs, AttrSpec> = {
  axes: { type: "ints", default: [], doc: "axes to reduce, negative from the end; empty: all (or none, see noop_with_empty_axes)" },
  keepdims: { type: "int", default: 1, doc: "1 keeps each reduced axis with size 1, 0 drops it" },
  noop_with_empty_axes: { type: "int", default: 0, doc: "1: empty axes reduce nothing" },
};

export interface ReducePlan {
  /** The input shape with every reduced axis set to 1. */
  keptShape: number[];
  outShape: number[];
  /** Number of input elements behind each output element. */
  count: number;
}

/** Which axes a reduction removes and its output shape (the converter's folder reduces by it too). */
export function planReduce(shape: Shape, attrs: ReduceAttrs): ReducePlan {
  const { axes, keepdims, noop_with_empty_axes: noop } = attrs;
  check(keepdims === 0 || keepdims === 1, `attribute 'keepdims' must be 0 or 1, got ${keepdims}`);
  check(noop === 0 || noop === 1, `attribute 'noop_with_empty_axes' must be 0 or 1, got ${noop}`);
  const rank = shape.length;
  const reduced = new Array<boolean>(rank).fill(axes.length === 0 && noop === 0);
  for (const axis of axes) {
    check(axis >= -rank && axis < rank, `axis ${axis} in axes [${axes.join(",")}] is out of range for rank ${rank}`);
    const a = axis < 0 ? axis + rank : axis;
    check(!reduced[a], `axis ${axis} is listed twice in axes [${axes.join(",")}]`);
    reduced[a] = true;
  }
  const keptShape = shape.map((d, i) => (reduced[i] ? 1 : d));
  return {
    keptShape,
    outShape: keepdims === 1 ? keptShape : shape.filter((_, i) => !reduced[i]),
    count: sizeOf(shape.filter((_, i) => reduced[i])),
  };
}

/**
 * For each input element, the flat index of the output element it reduces into: the broadcast
 * map from the kept shape (dropping size-1 axes does not change the row-major order).
 */
function outputIndex(x: Tensor, plan: ReducePlan): Int32Array {
  return broadcastIndex(plan.keptShape, x.shape);
}

/** Up to this many addends, |sum| <= 2^52 and its float64 sum and narrowing are exact. */
const FLOAT_SUM_LIMIT = 2 ** 21;

/** Exact sums per output: float64 up to FLOAT_SUM_LIMIT addends, i64 (BigInt64Array) beyond. */
function exactSums(x: Tensor, plan: ReducePlan): Float64Array | BigInt64Array {
  const at = outputIndex(x, plan);
  const outSize = sizeOf(plan.keptShape);
  if (plan.count <= FLOAT_SUM_LIMIT) {
    const sums = new Float64Array(outSize);
    for (let i = 0; i < at.length; i++) sums[at[i]] += x.data[i];
    return sums;
  }
  const sums = new BigInt64Array(outSize);
  for (let i = 0; i < at.length; i++) sums[at[i]] += BigInt(x.data[i]);
  return sums;
}

function finishSums(sums: Float64Array | BigInt64Array, shape: number[], frac: number, finish: (s: number | bigint) => number): Tensor {
  const out = new Int32Array(sums.length);
  for (let i = 0; i < out.length; i++) out[i] = finish(sums[i]);
  return new Tensor(shape, out, frac);
}

export function reduceSum(x: Tensor, attrs: Partial<ReduceAttrs> = {}, frac = x.frac): Tensor {
  const plan = planReduce(x.shape, resolveAttrs(ReduceSum, attrs));
  return finishSums(exactSums(x, plan), plan.outShape, frac, (s) =>
    typeof s === "bigint" ? narrowWide(s, x.frac, frac) : narrow(s, x.frac, frac));
}

/** divRound(sum / (count * 2^(from-to))) saturated, with the power of two on the side that keeps it integral. */
function meanOf(sum: number | bigint, count: number, from: number, to: number): number {
  const up = to - from;
  if (typeof sum === "bigint") {
    const q = up >= 0 ? divRoundBig(sum << BigInt(up), BigInt(count)) : divRoundBig(sum, BigInt(count) << BigInt(-up));
    return saturate(Number(q));
  }
  // Scaling an exact integer by a power of two is exact; divRound switches to BigInt past 2^52.
  return saturate(up >= 0 ? divRound(sum * 2 ** up, count) : divRound(sum, count * 2 ** -up));
}

export function reduceMean(x: Tensor, attrs: Partial<ReduceAttrs> = {}, frac = x.frac): Tensor {
  const plan = planReduce(x.shape, resolveAttrs(ReduceMean, attrs));
  return finishSums(exactSums(x, plan), plan.outShape, frac, (s) => meanOf(s, plan.count, x.frac, frac));
}

function reducePick(x: Tensor, plan: ReducePlan, empty: number, pick: (a: number, b: number) => number): Tensor {
  const at = outputIndex(x, plan);
  const out = new Int32Array(sizeOf(plan.keptShape)).fill(empty);
  for (let i = 0; i < at.length; i++) out[at[i]] = pick(out[at[i]], x.data[i]);
  return new Tensor(plan.outShape, out, x.frac);
}

export function reduceMax(x: Tensor, attrs: Partial<ReduceAttrs> = {}): Tensor {
  return reducePick(x, planReduce(x.shape, resolveAttrs(ReduceMax, attrs)), I32_MIN, Math.max);
}

export function reduceMin(x: Tensor, attrs: Partial<ReduceAttrs> = {}): Tensor {
  return reducePick(x, planReduce(x.shape, resolveAttrs(ReduceMin, attrs)), I32_MAX, Math.min);
}

/** One reduce OpDef; `computes` ops write at ctx.frac, the others keep the input frac. */
function reduceOp(kind: string, summary: string, computes: boolean, kernel: (x: Tensor, attrs: ReduceAttrs, ctx: OpContext) => Tensor) {
  return defineOp<ReduceAttrs>({
    kind,
    summary,
    inputs: ["data"],
    attrs: REDUCE_ATTRS,
    outputs: () => 1,
    infer: ([x], attrs, ctx): TensorType[] => [{ shape: planReduce(x.shape, attrs).outShape, frac: computes ? ctx.frac : x.frac }],
    run: ([x], attrs, ctx) => [kernel(x, attrs, ctx)],
  });
}

export const ReduceSum = reduceOp("ReduceSum", "sum over axes, exact then one rounding to ctx.frac", true,
  (x, attrs, ctx) => reduceSum(x, attrs, ctx.frac));
export const ReduceMean = reduceOp("ReduceMean", "mean over axes: exact sum, one rounded division at ctx.frac", true,
  (x, attrs, ctx) => reduceMean(x, attrs, ctx.frac));
export const ReduceMax = reduceOp("ReduceMax", "maximum over axes, exact (keeps the input frac)", false,
  (x, attrs) => reduceMax(x, attrs));
export const ReduceMin = reduceOp("ReduceMin", "minimum over axes, exact (keeps the input frac)", false,
  (x, attrs) => reduceMin(x, attrs));
