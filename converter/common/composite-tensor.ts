/**
 * Source ops with axes that detml has no kernel for but that are compositions of IR ops with
 * constants computed from the static shape, shared by the ONNX and TF.js front ends (see
 * composite-math.ts for the Composer contract and why compositions): Trilu (a 0/1 mask), CumSum
 * (a MatMul with a 0/1 triangular matrix), OneHot and Hardmax (comparisons with an index
 * ramp), GatherElements (GatherND with index tuples), ReduceProd (a chain of Muls), and the
 * normalizations MeanVarianceNormalization (LayerNormalization over transposed axes) and LRN.
 * All but ReduceProd, MVN and LRN are exact; the error of those three is stated beside them.
 * Their constants grow with the input's shape or an attribute (a OneHot depth, a Trilu mask of
 * rows x cols), so each is sized by the Composer's SizeGuard before it is built.
 */
import { normAxis, sizeOf, stridesOf } from "../../lib/tensor/shape.js";
import { emit1, intConst, materialize, realConst, type Composer, type Composite, type Operand } from "./composite-math.js";
import { constValue, type ValueClass } from "./values.js";

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** A constant of `shape` computed elementwise from the flat index, sized by the guard first. */
function computed(c: Composer, base: string, shape: number[], at: (i: number) => number): string {
  const data = c.guard.alloc(shape, `the constant '${base}'`);
  for (let i = 0; i < data.length; i++) data[i] = at(i);
  return c.constant(base, constValue("int", shape, data));
}

/** An int constant [1, ..., n, ..., 1] of rank `rank` holding 0..n-1 (plus `offset`) along `axis`. */
function ramp(c: Composer, base: string, n: number, axis: number, rank: number, offset = 0): string {
  return computed(c, base, range(rank).map((d) => (d === axis ? n : 1)), (i) => i + offset);
}

/** A 0/1 int matrix [rows, cols] with ones where keep(row, col). */
function mask(c: Composer, base: string, rows: number, cols: number, keep: (r: number, k: number) => boolean): string {
  return computed(c, base, [rows, cols], (i) => (keep(Math.floor(i / cols), i % cols) ? 1 : 0));
}

/** Value `v` of shape `from` reshaped to `to`, without a node when the shapes are equal. */
function reshaped(c: Composer, v: string, from: readonly number[], to: readonly number[]): string {
  return to.length === from.length && to.every((d, i) => d === from[i]) ? v : emit1(c, "Reshape", [v], { shape: [...to] });
}

/**
 * Index values at frac 0 (Div trunc, exact) unless they already are: a real index truncates, as
 * ONNX casts it, and an integer tensor that an elementwise op left at ctx.frac keeps Concat (which
 * rescales mixed fracs to ctx.frac, saturating large positions) at frac 0.
 */
function wholeIndices(c: Composer, indices: Operand): string {
  return indices.frac === 0 ? indices.name : emit1(c, "Div", [indices.name, intConst(c, "one", 1)], { mode: "trunc" }, "int");
}

/**
 * Trilu: x times a constant 0/1 mask over its last two axes (upper: keep column - row >= k,
 * lower: column - row <= k). Exact (x * 1 and x * 0), written at ctx.frac.
 */
export function trilu(c: Composer, x: Operand, k: number, upper: boolean): Composite {
  if (x.shape.length < 2) throw new Error(`input of rank ${x.shape.length} is not supported (Trilu needs rank >= 2)`);
  const [rows, cols] = x.shape.slice(-2);
  const keep = (r: number, col: number) => (upper ? col - r >= k : col - r <= k);
  // Every position kept (the extreme column - row differences pass): x itself, no mask.
  if (rows === 0 || cols === 0 || (upper ? 1 - rows >= k : cols - 1 <= k)) return x.name;
  return { kind: "Mul", inputs: [x.name, mask(c, "mask", rows, cols, keep)], dtype: x.dtype };
}

/** Largest CumSum axis: the composition stores an n x n matrix (4 MB of constants at 1024). */
export const MAX_CUMSUM_LENGTH = 1024;

/**
 * CumSum along `axis` (normalized): a MatMul with a constant 0/1 triangular matrix L at frac 0,
 * L[j][i] = 1 when input i counts towards output j (i <= j; i < j exclusive; i >= j / i > j in
 * reverse). MatMul's contract makes each output one exact i64 dot product (|sum| < n * 2^31,
 * far from wrapping) narrowed once to ctx.frac: the exact cumulative sum, rounded only when x's
 * frac is above ctx.frac, saturated once at the end (never at an intermediate partial sum).
 * Cost: n^2 multiply-adds per line, hence the length limit.
 */
export function cumSum(c: Composer, x: Operand, axis: number, exclusive: boolean, reverse: boolean): Composite {
  const n = x.shape[axis];
  if (n > MAX_CUMSUM_LENGTH) throw new Error(`an axis of length ${n} is not supported (at most ${MAX_CUMSUM_LENGTH}: CumSum is a MatMul with an n x n triangular matrix)`);
  const counts = (j: number, i: number) => (reverse ? (exclusive ? i > j : i >= j) : exclusive ? i < j : i <= j);
  const pre = sizeOf(x.shape.slice(0, axis));
  const post = sizeOf(x.shape.slice(axis + 1));
  if (post === 1) {
    // Lines along the last axis: rows [pre, n] times L transposed ([i][j]).
    const triangle = mask(c, "triangle", n, n, (i, j) => counts(j, i));
    if (axis === x.shape.length - 1 && axis <= 1) return { kind: "MatMul", inputs: [x.name, triangle], dtype: x.dtype };
    const sums = emit1(c, "MatMul", [reshaped(c, x.name, x.shape, [pre, n]), triangle], {}, x.dtype);
    return { kind: "Reshape", inputs: [sums], attrs: { shape: [...x.shape] }, dtype: x.dtype };
  }
  const sums = emit1(c, "MatMul", [mask(c, "triangle", n, n, counts), reshaped(c, x.name, x.shape, [pre, n, post])], {}, x.dtype);
  return { kind: "Reshape", inputs: [sums], attrs: { shape: [...x.shape] }, dtype: x.dtype };
}

/**
 * OneHot: `on` where the index equals the position along the new axis `axis` (normalized, in
 * 0..rank), else `off`. Indices in [-depth, -1] count from the end when `wrapNegative` (ONNX;
 * TF gives all `off` there); any other index out of range gives all `off`. Real indices are
 * truncated to integers first (Div trunc, as ONNX casts them). Exact comparisons and a
 * selection: the values are rescaled to ctx.frac.
 */
export function oneHot(c: Composer, indices: Operand, depth: number, on: string, off: string, axis: number, wrapNegative: boolean, dtype: ValueClass): Composite {
  if (!Number.isInteger(depth) || depth < 1) throw new Error(`depth ${depth} is not supported (a positive integer is)`);
  const rank = indices.shape.length + 1;
  const column = emit1(c, "Unsqueeze", [wholeIndices(c, indices)], { axes: [axis] });
  let hot = emit1(c, "Equal", [column, ramp(c, "positions", depth, axis, rank)]);
  if (wrapNegative) hot = emit1(c, "Add", [hot, emit1(c, "Equal", [column, ramp(c, "negative_positions", depth, axis, rank, -depth)])], {}, "int");
  return { kind: "Where", inputs: [hot, on, off], dtype };
}

/**
 * Hardmax along `axis` (normalized): 1 at the first maximum of each line, 0 elsewhere, as
 * Equal(ArgMax(x, keepdims), positions). Exact (ArgMax compares raw integers; ties go to the
 * lower index, as in ONNX); the 0/1 result is at frac 0.
 */
export function hardmax(c: Composer, x: Operand, axis: number): Composite {
  const first = emit1(c, "ArgMax", [x.name], { axis, keepdims: 1, select_last_index: 0 }, "int");
  return { kind: "Equal", inputs: [first, ramp(c, "positions", x.shape[axis], axis, x.shape.length)], dtype: x.dtype };
}

/**
 * GatherElements along `axis` (normalized): out[i] = data[i with i[axis] replaced by
 * indices[i]]. data is viewed as [A, s, B] (the axes before `axis`, the axis, the axes after;
 * A or B dropped when 1) and each output position gets the index tuple (p, indices[i], q), with
 * p and q constants computed from the position: one GatherND, which copies values exactly and
 * resolves a negative index against s (an index still out of range traps, as ONNX forbids it).
 */
export function gatherElements(c: Composer, data: Operand, indices: Operand, axis: number): Composite {
  const [dShape, iShape] = [data.shape, indices.shape];
  if (dShape.length !== iShape.length) throw new Error(`indices of rank ${iShape.length} must have the rank of data (${dShape.length})`);
  iShape.forEach((d, k) => {
    if (k !== axis && d > dShape[k]) throw new Error(`indices [${iShape.join(",")}] exceed data [${dShape.join(",")}] on axis ${k}`);
  });
  // The flat position in data's axes lo..hi-1 of each output position, as a column [..., 1].
  const tuple = (lo: number, hi: number) => {
    const strides = stridesOf(dShape.slice(lo, hi));
    const iStrides = stridesOf(iShape);
    return computed(c, lo === 0 ? "outer_index" : "inner_index", [...iShape, 1], (flat) =>
      range(hi - lo).reduce((p, k) => p + (Math.floor(flat / iStrides[lo + k]) % iShape[lo + k]) * strides[k], 0));
  };
  const [before, after] = [sizeOf(dShape.slice(0, axis)), sizeOf(dShape.slice(axis + 1))];
  const parts = [
    ...(before > 1 ? [tuple(0, axis)] : []),
    emit1(c, "Unsqueeze", [wholeIndices(c, indices)], { axes: [iShape.length] }),
    ...(after > 1 ? [tuple(axis + 1, dShape.length)] : []),
  ];
  const view = reshaped(c, data.name, dShape, [...(before > 1 ? [before] : []), dShape[axis], ...(after > 1 ? [after] : [])]);
  const index = parts.length === 1 ? parts[0] : emit1(c, "Concat", parts, { axis: -1 }, "int");
  return { kind: "GatherND", inputs: [view, index], attrs: { batch_dims: 0 }, dtype: data.dtype };
}

/** Largest number of factors per output of ReduceProd (the composition has one Mul per factor). */
export const MAX_PRODUCT_FACTORS = 64;

/**
 * ReduceProd over `axes` (normalized): each axis is split into its slices, which a chain of Muls
 * multiplies; keepdims 0 squeezes the axes at the end. Error: one rounding per Mul (n - 1 for n
 * factors), each at most half a unit of ctx.frac carried by the magnitude of the later factors.
 */
export function reduceProd(c: Composer, x: Operand, axes: number[], keepdims: boolean): Composite {
  const factors = sizeOf(axes.map((a) => x.shape[a]));
  if (factors === 0) throw new Error(`a product over an empty axis is not supported (input [${x.shape.join(",")}])`);
  if (factors > MAX_PRODUCT_FACTORS) throw new Error(`a product of ${factors} values per output is not supported (at most ${MAX_PRODUCT_FACTORS}: ReduceProd is a chain of Muls)`);
  let result: Composite = x.name;
  for (const a of axes.filter((axis) => x.shape[axis] > 1)) {
    const slices = c.op("Split", [materialize(c, result)], { axis: a, split: new Array<number>(x.shape[a]).fill(1) }, x.dtype);
    const acc = slices.slice(1, -1).reduce((p, s) => emit1(c, "Mul", [p, s], {}, x.dtype), slices[0]);
    result = { kind: "Mul", inputs: [acc, slices[slices.length - 1]], dtype: x.dtype };
  }
  if (keepdims) return result;
  return { kind: "Squeeze", inputs: [materialize(c, result)], attrs: { axes: [...axes] }, dtype: x.dtype };
}

/**
 * MeanVarianceNormalization over `axes` (normalized): (x - mean) / sqrt(mean((x - mean)^2)), as
 * LayerNormalization with epsilon 0 and unit scale over the reduced axes moved last (two
 * Transposes, none when they already are). ONNX adds 1e-9 to the standard deviation to keep a
 * float division finite; that is below Q16's resolution and dropped (relative effect 1e-9/sigma;
 * a constant group gives 0 in both). Error: LayerNormalization's (about 0.5 ulp, docs/numerics.md).
 */
export function meanVarianceNormalization(c: Composer, x: Operand, axes: number[]): Composite {
  const rank = x.shape.length;
  const kept = range(rank).filter((a) => !axes.includes(a));
  const perm = [...kept, ...range(rank).filter((a) => axes.includes(a))];
  const moved = perm.every((a, i) => a === i) ? undefined : perm;
  const t = moved ? emit1(c, "Transpose", [x.name], { perm: moved }) : x.name;
  const unit = c.constant("unit_scale", constValue("float", [1], [1]));
  const attrs = { axis: kept.length, epsilon: 0 };
  if (!moved) return { kind: "LayerNormalization", inputs: [t, unit], attrs };
  const normed = emit1(c, "LayerNormalization", [t, unit], attrs);
  const inverse = new Array<number>(rank);
  moved.forEach((a, i) => (inverse[a] = i));
  return { kind: "Transpose", inputs: [normed], attrs: { perm: inverse } };
}

export interface LrnParams {
  size: number;
  alpha: number;
  beta: number;
  bias: number;
}

/**
 * LRN on [N, C, ...]: y = x / (bias + alpha/size * S)^beta with S the sum of x^2 over the
 * channel window [c - floor((size-1)/2), c + ceil((size-1)/2)]. Written as base = bias + sum of
 * u^2 over the window with u = x / sqrt(size/alpha) (one exactly rounded Div by a constant of
 * about 30 significant bits, so alpha/size is not quantized to Q16, and u^2 stays within Q16 for
 * every x when alpha/size <= 2^-15); the window sum is a MatMul of a constant 0/1 band matrix
 * with the squares viewed as [N, C, rest] (exact). The power is Sqrt for beta 1/2, the base
 * itself for beta 1, else Exp(beta * Log(base)); then one exactly rounded Div. Not exact (a real
 * exponent is not an IR op). Error at Q16, relative to y, for bias >= 1: the roundings of u and
 * u^2 summed over the window (at most 1.5 * size * 2^-17 of the base), of Log and of the product
 * carried through Exp, and Exp's final rounding: about (1.5 * beta * size + beta + 2) * 2^-17,
 * 6e-5 for AlexNet's size 5 and beta 0.75, 15 times below the conformance bound rtol 2^-10
 * (docs/conformance.md). Needs alpha > 0 and bias > 0.
 */
export function lrn(c: Composer, x: Operand, p: LrnParams): Composite {
  if (x.shape.length < 2) throw new Error(`input of rank ${x.shape.length} is not supported (LRN needs [N, C, ...])`);
  if (!(p.bias > 0) || !(p.alpha > 0)) throw new Error(`bias ${p.bias} and alpha ${p.alpha} are not supported (the composition takes the log of bias + alpha * ...; both > 0 are)`);
  if (!Number.isInteger(p.size) || p.size < 1) throw new Error(`size ${p.size} is not supported (a positive integer is)`);
  const [n, channels] = x.shape;
  const [lo, hi] = [Math.floor((p.size - 1) / 2), Math.ceil((p.size - 1) / 2)];
  const u = emit1(c, "Div", [x.name, realConst(c, "sqrt_size_over_alpha", Math.sqrt(p.size / p.alpha))]);
  const lines = [n, channels, sizeOf(x.shape.slice(2))];
  const band = mask(c, "window", channels, channels, (out, i) => i >= out - lo && i <= out + hi);
  const sums = emit1(c, "MatMul", [band, reshaped(c, emit1(c, "Mul", [u, u]), x.shape, lines)]);
  const base = emit1(c, "Add", [reshaped(c, sums, lines, x.shape), realConst(c, "bias", p.bias)]);
  let denominator = base;
  if (p.beta === 0.5) denominator = emit1(c, "Sqrt", [base]);
  else if (p.beta !== 1) denominator = emit1(c, "Exp", [emit1(c, "Mul", [emit1(c, "Log", [base]), realConst(c, "beta", p.beta)])]);
  return { kind: "Div", inputs: [x.name, denominator] };
}

/** Normalize a list of axes (error naming `what` for one out of range), sorted and unique. */
export function normAxes(axes: readonly number[], rank: number, what: string): number[] {
  return [...new Set(axes.map((a) => normAxis(a, rank, what)))].sort((a, b) => a - b);
}
