/**
 * Elementwise arithmetic with numpy/ONNX broadcasting: Add, Sub, Mul and the variadic Min/Max,
 * plus the helpers the other elementwise files share (broadcast index maps, exact narrowing of
 * a wide value). Numerics: each output is the EXACT result of the integer expression (an i32
 * aligned to a common frac by a left shift, or an i32 x i32 product) narrowed ONCE to ctx.frac,
 * round half up, saturated to i32. Every wide intermediate stays below 2^63 in magnitude, so the
 * i64 code the compiler emits never wraps, provided a LEFT shift of a wide value (narrowing to a
 * higher frac) clamps the value to the i32 range first (this cannot change a saturated result).
 * In JS the fast path uses float64 when the value is provably exact, BigInt otherwise.
 * Min/Max rescale every input to ctx.frac (round half up, saturate) and then pick; since
 * rescaling is monotone this equals picking exactly and rescaling the winner.
 */
import { EXACT_LIMIT, narrow, narrowBig, rescale, saturate } from "../tensor/fixed.js";
import { type Shape, broadcastIndex, broadcastShapes } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { exactInFloat } from "./accumulate.js";
import { type TensorType, check, defineOp } from "./op.js";

/** The broadcast output shape of several inputs and, per input, the source index of each output element. */
export function broadcastInputs(shapes: Shape[]): { shape: number[]; index: Int32Array[] } {
  const shape = broadcastShapes(...shapes);
  return { shape, index: shapes.map((s) => broadcastIndex(s, shape)) };
}

/**
 * narrow() of an exact wide integer held as a BigInt. A right shift rounds half up; a left
 * shift (from < to) saturates instead of wrapping: a value beyond 2^53 is far outside i32.
 */
export function narrowWide(v: bigint, from: number, to: number): number {
  return from > to ? narrowBig(v, from, to) : saturate(Number(v) * 2 ** (to - from));
}

/**
 * narrow(a * b + c * 2^k, from, to) computed exactly, for integers with |a*b| <= 2^62,
 * |c * 2^k| <= 2^61 and from <= 60 (so the i64 value plus its rounding term stays below 2^63).
 * float64 when the product, the sum and the rounding add are all exact, BigInt otherwise.
 */
export function narrowMulAdd(a: number, b: number, c: number, k: number, from: number, to: number): number {
  const product = a * b;
  if (Math.abs(product) < EXACT_LIMIT) {
    // c * 2^k is exact (only the exponent changes); the sum is exact when its magnitude is below 2^53.
    const v = product + c * 2 ** k;
    if (exactInFloat(Math.abs(v), from, to)) return narrow(v, from, to);
  }
  return narrowWide(BigInt(a) * BigInt(b) + (BigInt(c) << BigInt(k)), from, to);
}

/** Apply `fn` to each broadcast pair of elements of a and b; the output has frac `frac`. */
function zipBroadcast(a: Tensor, b: Tensor, frac: number, fn: (x: number, y: number) => number): Tensor {
  const { shape, index } = broadcastInputs([a.shape, b.shape]);
  const [ia, ib] = index;
  const out = new Int32Array(ia.length);
  for (let i = 0; i < out.length; i++) out[i] = fn(a.data[ia[i]], b.data[ib[i]]);
  return new Tensor(shape, out, frac);
}

/** a + sign * b at frac `frac`: both aligned exactly to max(fa, fb), then one narrowing. */
function addSigned(a: Tensor, b: Tensor, sign: 1 | -1, frac: number): Tensor {
  const common = Math.max(a.frac, b.frac);
  const scaleA = 2 ** (common - a.frac);
  const shiftB = common - b.frac;
  return zipBroadcast(a, b, frac, (x, y) => narrowMulAdd(x, scaleA, sign * y, shiftB, common, frac));
}

export function add(a: Tensor, b: Tensor, frac = a.frac): Tensor {
  return addSigned(a, b, 1, frac);
}

export function sub(a: Tensor, b: Tensor, frac = a.frac): Tensor {
  return addSigned(a, b, -1, frac);
}

/** a * b: the exact product at frac fa + fb, narrowed once to `frac`. */
export function mul(a: Tensor, b: Tensor, frac = a.frac): Tensor {
  const from = a.frac + b.frac;
  return zipBroadcast(a, b, frac, (x, y) => narrowMulAdd(x, y, 0, 0, from, frac));
}

function rescaleTensor(x: Tensor, frac: number): Tensor {
  return x.frac === frac ? x : new Tensor(x.shape, x.data.map((v) => rescale(v, x.frac, frac)), frac);
}

/** Elementwise pick over 1..n broadcast inputs, each rescaled to `frac` first. */
function pickBroadcast(inputs: Tensor[], frac: number | undefined, pick: (x: number, y: number) => number): Tensor {
  check(inputs.length >= 1, "needs at least one input");
  const to = frac ?? inputs[0].frac;
  const [first, ...rest] = inputs.map((x) => rescaleTensor(x, to));
  return rest.reduce((acc, x) => zipBroadcast(acc, x, to, pick), first);
}

/** Elementwise maximum; `frac` defaults to the first input's. */
export function max(inputs: Tensor[], frac?: number): Tensor {
  return pickBroadcast(inputs, frac, Math.max);
}

/** Elementwise minimum; `frac` defaults to the first input's. */
export function min(inputs: Tensor[], frac?: number): Tensor {
  return pickBroadcast(inputs, frac, Math.min);
}

/** infer() of every elementwise op that writes at ctx.frac. */
function inferBroadcast(inputs: TensorType[], frac: number): TensorType[] {
  return [{ shape: broadcastShapes(...inputs.map((t) => t.shape)), frac }];
}

export const Add = defineOp({
  kind: "Add",
  summary: "a + b with broadcasting, exact then one rounding to ctx.frac",
  inputs: ["a", "b"],
  attrs: {},
  outputs: () => 1,
  infer: (inputs, _attrs, ctx) => inferBroadcast(inputs, ctx.frac),
  run: ([a, b], _attrs, ctx) => [add(a, b, ctx.frac)],
});

export const Sub = defineOp({
  kind: "Sub",
  summary: "a - b with broadcasting, exact then one rounding to ctx.frac",
  inputs: ["a", "b"],
  attrs: {},
  outputs: () => 1,
  infer: (inputs, _attrs, ctx) => inferBroadcast(inputs, ctx.frac),
  run: ([a, b], _attrs, ctx) => [sub(a, b, ctx.frac)],
});

export const Mul = defineOp({
  kind: "Mul",
  summary: "a * b with broadcasting, exact product then one rounding to ctx.frac",
  inputs: ["a", "b"],
  attrs: {},
  outputs: () => 1,
  infer: (inputs, _attrs, ctx) => inferBroadcast(inputs, ctx.frac),
  run: ([a, b], _attrs, ctx) => [mul(a, b, ctx.frac)],
});

export const Max = defineOp({
  kind: "Max",
  summary: "elementwise maximum of 1..n broadcast inputs, rescaled to ctx.frac",
  inputs: ["...data"],
  attrs: {},
  outputs: () => 1,
  infer: (inputs, _attrs, ctx) => inferBroadcast(inputs, ctx.frac),
  run: (inputs, _attrs, ctx) => [max(inputs, ctx.frac)],
});

export const Min = defineOp({
  kind: "Min",
  summary: "elementwise minimum of 1..n broadcast inputs, rescaled to ctx.frac",
  inputs: ["...data"],
  attrs: {},
  outputs: () => 1,
  infer: (inputs, _attrs, ctx) => inferBroadcast(inputs, ctx.frac),
  run: (inputs, _attrs, ctx) => [min(inputs, ctx.frac)],
});
