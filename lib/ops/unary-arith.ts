/**
 * Elementwise unary arithmetic: Neg, Abs, LeakyRelu, PRelu, Clip and HardSigmoid.
 * Neg and Abs are exact and keep the input's frac (only -I32_MIN saturates to I32_MAX). Clip
 * only selects between the input and its bounds, so it keeps the input's frac too: its Q16 bounds
 * are rescaled to that frac with round half up (the nearest representable bound, which makes the
 * result the correctly rounded clip of the real input; I32_MIN/I32_MAX stay -inf/+inf). LeakyRelu, PRelu and HardSigmoid compute
 * new values: the exact product with the Q16 (or tensor) slope, plus the aligned offset for
 * HardSigmoid, narrowed once to ctx.frac (round half up, saturate). Non-negative inputs of
 * LeakyRelu/PRelu are rescaled to ctx.frac, which is the same narrowing of x * 1.
 */
import { I32_MAX, I32_MIN, quantize, rescale, saturate } from "../tensor/fixed.js";
import { broadcastIndex, broadcastShapes, sameShape, type Shape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { narrowMulAdd } from "./binary.js";
import { ATTR_FRAC, check, defineOp, resolveAttrs } from "./op.js";

function mapValues(x: Tensor, frac: number, fn: (v: number) => number): Tensor {
  const out = new Int32Array(x.size);
  for (let i = 0; i < out.length; i++) out[i] = fn(x.data[i]);
  return new Tensor(x.shape, out, frac);
}

export function neg(x: Tensor): Tensor {
  return mapValues(x, x.frac, (v) => saturate(-v));
}

export function abs(x: Tensor): Tensor {
  return mapValues(x, x.frac, (v) => saturate(Math.abs(v)));
}

/** x for x >= 0, slope * x below (slope at `slopeFrac`), written at `frac`. */
function leaky(v: number, slope: number, xFrac: number, slopeFrac: number, frac: number): number {
  return v >= 0 ? rescale(v, xFrac, frac) : narrowMulAdd(v, slope, 0, 0, xFrac + slopeFrac, frac);
}

export type LeakyReluAttrs = { alpha: number };

export function leakyRelu(x: Tensor, attrs: Partial<LeakyReluAttrs> = {}, frac = x.frac): Tensor {
  const { alpha } = resolveAttrs(LeakyRelu, attrs);
  return mapValues(x, frac, (v) => leaky(v, alpha, x.frac, ATTR_FRAC, frac));
}

/** Check that `slope` broadcasts to x's shape without changing it (ONNX unidirectional broadcasting). */
function checkSlope(x: Shape, slope: Shape): void {
  let ok: boolean;
  try {
    ok = sameShape(broadcastShapes(x, slope), x);
  } catch {
    ok = false;
  }
  check(ok, `slope shape [${slope.join(",")}] does not broadcast to input shape [${x.join(",")}]`);
}

export function prelu(x: Tensor, slope: Tensor, frac = x.frac): Tensor {
  checkSlope(x.shape, slope.shape);
  const at = broadcastIndex(slope.shape, x.shape);
  const out = new Int32Array(x.size);
  for (let i = 0; i < out.length; i++) out[i] = leaky(x.data[i], slope.data[at[i]], x.frac, slope.frac, frac);
  return new Tensor(x.shape, out, frac);
}

export type ClipAttrs = { min: number; max: number };

/**
 * A Q16 clip bound at the input's frac. I32_MIN and I32_MAX stand for -infinity and +infinity
 * at every frac (so the default bounds mean "no bound", even for inputs whose frac is below 16).
 */
function clipBound(bound: number, frac: number): number {
  return bound === I32_MIN || bound === I32_MAX ? bound : rescale(bound, ATTR_FRAC, frac);
}

/** min(max(x, lo), hi): when lo > hi every output is hi, as in ONNX. */
export function clip(x: Tensor, attrs: Partial<ClipAttrs> = {}): Tensor {
  const resolved = resolveAttrs(Clip, attrs);
  const lo = clipBound(resolved.min, x.frac);
  const hi = clipBound(resolved.max, x.frac);
  return mapValues(x, x.frac, (v) => Math.min(Math.max(v, lo), hi));
}

export type HardSigmoidAttrs = { alpha: number; beta: number };

/** max(0, min(1, alpha * x + beta)): alpha*x + beta exact at frac fx+16, one narrowing, then the clamp. */
export function hardSigmoid(x: Tensor, attrs: Partial<HardSigmoidAttrs> = {}, frac = x.frac): Tensor {
  const { alpha, beta } = resolveAttrs(HardSigmoid, attrs);
  const one = 2 ** frac;
  // Clamping after the narrowing equals narrowing the clamped value: 0 and 1 are representable.
  return mapValues(x, frac, (v) => Math.min(Math.max(narrowMulAdd(v, alpha, beta, x.frac, x.frac + ATTR_FRAC, frac), 0), one));
}

export const Neg = defineOp({
  kind: "Neg",
  summary: "-x, exact (keeps the input frac; -I32_MIN saturates)",
  inputs: ["x"],
  attrs: {},
  outputs: () => 1,
  infer: ([x]) => [{ shape: [...x.shape], frac: x.frac }],
  run: ([x]) => [neg(x)],
});

export const Abs = defineOp({
  kind: "Abs",
  summary: "|x|, exact (keeps the input frac; |I32_MIN| saturates)",
  inputs: ["x"],
  attrs: {},
  outputs: () => 1,
  infer: ([x]) => [{ shape: [...x.shape], frac: x.frac }],
  run: ([x]) => [abs(x)],
});

export const LeakyRelu = defineOp<LeakyReluAttrs>({
  kind: "LeakyRelu",
  summary: "x >= 0 ? x : alpha * x, one rounding to ctx.frac",
  inputs: ["x"],
  attrs: { alpha: { type: "fixed", default: quantize(0.01, ATTR_FRAC), doc: "slope below zero" } },
  outputs: () => 1,
  infer: ([x], _attrs, ctx) => [{ shape: [...x.shape], frac: ctx.frac }],
  run: ([x], attrs, ctx) => [leakyRelu(x, attrs, ctx.frac)],
});

export const PRelu = defineOp({
  kind: "PRelu",
  summary: "x >= 0 ? x : slope * x, slope broadcast to x, one rounding to ctx.frac",
  inputs: ["x", "slope"],
  attrs: {},
  outputs: () => 1,
  infer: ([x, slope], _attrs, ctx) => {
    checkSlope(x.shape, slope.shape);
    return [{ shape: [...x.shape], frac: ctx.frac }];
  },
  run: ([x, slope], _attrs, ctx) => [prelu(x, slope, ctx.frac)],
});

export const Clip = defineOp<ClipAttrs>({
  kind: "Clip",
  summary: "min(max(x, min), max), keeps the input frac",
  inputs: ["x"],
  attrs: {
    min: { type: "fixed", default: I32_MIN, doc: "lower bound; I32_MIN (the default) means -infinity" },
    max: { type: "fixed", default: I32_MAX, doc: "upper bound; I32_MAX (the default) means +infinity" },
  },
  outputs: () => 1,
  infer: ([x]) => [{ shape: [...x.shape], frac: x.frac }],
  run: ([x], attrs) => [clip(x, attrs)],
});

export const HardSigmoid = defineOp<HardSigmoidAttrs>({
  kind: "HardSigmoid",
  summary: "max(0, min(1, alpha * x + beta)), one rounding to ctx.frac",
  inputs: ["x"],
  attrs: {
    alpha: { type: "fixed", default: quantize(0.2, ATTR_FRAC) },
    beta: { type: "fixed", default: quantize(0.5, ATTR_FRAC) },
  },
  outputs: () => 1,
  infer: ([x], _attrs, ctx) => [{ shape: [...x.shape], frac: ctx.frac }],
  run: ([x], attrs, ctx) => [hardSigmoid(x, attrs, ctx.frac)],
});
