/**
 * Pointwise nonlinear functions: Exp, Log, Sqrt, Reciprocal, Pow, Sigmoid, Tanh, Erf, Gelu and
 * Elu. Each maps one i32 at the input's frac to one i32 at the output frac (ctx.frac) with the
 * integer algorithms of fixed-math.ts, fixed-exp-log.ts and fixed-erf.ts; the error bounds and
 * the conventions at the edges are in docs/numerics.md: exp saturates, log(x <= 0) = I32_MIN,
 * sqrt(x < 0) = 0, 1/0 = I32_MAX. Pow takes its exponent as a `fixed` attribute `exponent`
 * (ONNX passes it as the tensor Y, which the converter folds): integers in [-64, 64] by repeated
 * multiplication (negative ones multiply the rounded reciprocal), and 0.5 as Sqrt.
 */
import { I32_MAX, rescale, saturate } from "../tensor/fixed.js";
import { Tensor } from "../tensor/tensor.js";
import { fixedErf, fixedGelu, fixedGeluTanh } from "./fixed-erf.js";
import { fixedExp, fixedLog, fixedSigmoid, fixedTanh } from "./fixed-exp-log.js";
import { ONE_Q30, bitLength, divShiftRound, mulShift, sqrtFloorShifted } from "./fixed-math.js";
import { ATTR_FRAC, type Attrs, type OpDef, check, defineOp, resolveAttrs } from "./op.js";

/** A scalar kernel: value x at frac fx to the result at frac fo. */
export type ScalarFn = (x: number, fx: number, fo: number) => number;

export function mapScalar(x: Tensor, frac: number, fn: ScalarFn): Tensor {
  const out = new Int32Array(x.size);
  for (let i = 0; i < out.length; i++) out[i] = fn(x.data[i], x.frac, frac);
  return new Tensor(x.shape, out, frac);
}

/** sqrt(x / 2^fx) at frac fo, exactly rounded (half up); negative inputs give 0. */
export function fixedSqrt(x: number, fx: number, fo: number): number {
  if (x <= 0) return 0;
  // R = floor(sqrt(M)) with M = floor(x * 2^t) = floor(4 * real * 2^(2 fo)), so R = floor(2 * y)
  // for the exact y = sqrt(real) * 2^fo, and round_half_up(y) = (R + 1) >> 1.
  const t = 2 * fo - fx + 2;
  if (bitLength(x) + t > 64) return I32_MAX; // M >= 2^64: y >= 2^31
  const root = t >= 0 ? sqrtFloorShifted(x, t) : sqrtFloorShifted(Math.floor(x / 2 ** -t), 0);
  return saturate(Math.floor((root + 1) / 2));
}

/** 1 / (x / 2^fx) at frac fo: round(2^(fx+fo) / x), ties away from zero; 1/0 = I32_MAX. */
export function fixedReciprocal(x: number, fx: number, fo: number): number {
  return saturate(divShiftRound(1, fx + fo, x));
}

/** alpha * (e^x - 1) for x < 0, x itself (rescaled) otherwise; alpha at ATTR_FRAC. */
export function fixedElu(x: number, fx: number, fo: number, alpha: number): number {
  if (x >= 0) return rescale(x, fx, fo);
  const expm1 = fixedExp(x, fx, 30) - ONE_Q30; // in [-2^30, 0]
  return saturate(mulShift(expm1, alpha, 30 + ATTR_FRAC - fo));
}

/** Largest |n| of an integer Pow exponent (a bounded loop of |n| multiplications). */
export const MAX_POW_EXPONENT = 64;
const HALF = 2 ** (ATTR_FRAC - 1);

/** The Pow exponent (at ATTR_FRAC) must be 0.5 or an integer within +-MAX_POW_EXPONENT. */
function checkPowExponent(exponent: number): void {
  const real = exponent / 2 ** ATTR_FRAC;
  check(exponent === HALF || Number.isInteger(real),
    `Pow exponent ${Number(real.toPrecision(6))} is not supported: only integers and 0.5`);
  check(Math.abs(real) <= MAX_POW_EXPONENT,
    `Pow exponent ${real} is not supported: integer exponents must be within -${MAX_POW_EXPONENT}..${MAX_POW_EXPONENT}`);
}

/**
 * (x / 2^fx)^n at frac fo for an integer n: acc = 1, then |n| times acc = acc * base rounded
 * half up to fo and saturated, where base is x (n >= 0) or the rounded reciprocal 1/x at fo
 * (n < 0). x^0 = 1 (also for x = 0); 0^-n = I32_MAX (1/0 saturates).
 */
function fixedPowInt(x: number, fx: number, fo: number, n: number): number {
  const base = n >= 0 ? x : fixedReciprocal(x, fx, fo);
  const baseFrac = n >= 0 ? fx : fo;
  let acc = 2 ** fo;
  for (let i = 0; i < Math.abs(n); i++) acc = saturate(mulShift(acc, base, baseFrac));
  return acc;
}

/** An elementwise IR op applying a scalar kernel, output at the graph's frac (also the trig ops of trig.ts). */
export function unaryOp(kind: string, summary: string, fn: ScalarFn): OpDef<Attrs> {
  return defineOp({
    kind,
    summary,
    inputs: ["x"],
    attrs: {},
    outputs: () => 1,
    infer: ([x], _attrs, ctx) => [{ shape: [...x.shape], frac: ctx.frac }],
    run: ([x], _attrs, ctx) => [mapScalar(x, ctx.frac, fn)],
  });
}

export const exp = (x: Tensor, frac = x.frac): Tensor => mapScalar(x, frac, fixedExp);
export const log = (x: Tensor, frac = x.frac): Tensor => mapScalar(x, frac, fixedLog);
export const sqrt = (x: Tensor, frac = x.frac): Tensor => mapScalar(x, frac, fixedSqrt);
export const reciprocal = (x: Tensor, frac = x.frac): Tensor => mapScalar(x, frac, fixedReciprocal);
export const sigmoid = (x: Tensor, frac = x.frac): Tensor => mapScalar(x, frac, fixedSigmoid);
export const tanh = (x: Tensor, frac = x.frac): Tensor => mapScalar(x, frac, fixedTanh);
export const erf = (x: Tensor, frac = x.frac): Tensor => mapScalar(x, frac, fixedErf);

export const Exp = unaryOp("Exp", "e^x (saturates above the output range)", fixedExp);
export const Log = unaryOp("Log", "ln x (x <= 0 gives I32_MIN)", fixedLog);
export const Sqrt = unaryOp("Sqrt", "sqrt x, exactly rounded (x < 0 gives 0)", fixedSqrt);
export const Reciprocal = unaryOp("Reciprocal", "1 / x, exactly rounded (1/0 saturates)", fixedReciprocal);
export const Sigmoid = unaryOp("Sigmoid", "1 / (1 + e^-x)", fixedSigmoid);
export const Tanh = unaryOp("Tanh", "tanh x", fixedTanh);
export const Erf = unaryOp("Erf", "the error function", fixedErf);

export type GeluAttrs = { approximate: string };

export function gelu(x: Tensor, attrs: Partial<GeluAttrs> = {}, frac = x.frac): Tensor {
  const { approximate } = resolveAttrs(Gelu, attrs);
  return mapScalar(x, frac, approximate === "tanh" ? fixedGeluTanh : fixedGelu);
}

export const Gelu = defineOp<GeluAttrs>({
  kind: "Gelu",
  summary: "x * Phi(x), exact (erf) or the tanh approximation",
  inputs: ["x"],
  attrs: { approximate: { type: "enum", values: ["none", "tanh"], default: "none", doc: "none: erf form; tanh: tanh approximation" } },
  outputs: () => 1,
  infer: ([x], _attrs, ctx) => [{ shape: [...x.shape], frac: ctx.frac }],
  run: ([x], attrs, ctx) => [gelu(x, attrs, ctx.frac)],
});

export type EluAttrs = { alpha: number };

export function elu(x: Tensor, attrs: Partial<EluAttrs> = {}, frac = x.frac): Tensor {
  const { alpha } = resolveAttrs(Elu, attrs);
  return mapScalar(x, frac, (v, fx, fo) => fixedElu(v, fx, fo, alpha));
}

export const Elu = defineOp<EluAttrs>({
  kind: "Elu",
  summary: "x for x >= 0, alpha * (e^x - 1) below",
  inputs: ["x"],
  attrs: { alpha: { type: "fixed", default: 2 ** ATTR_FRAC, doc: "scale of the negative part (default 1.0)" } },
  outputs: () => 1,
  infer: ([x], _attrs, ctx) => [{ shape: [...x.shape], frac: ctx.frac }],
  run: ([x], attrs, ctx) => [elu(x, attrs, ctx.frac)],
});

export type PowAttrs = { exponent: number };

export function pow(x: Tensor, attrs: Partial<PowAttrs>, frac = x.frac): Tensor {
  const { exponent } = resolveAttrs(Pow, attrs);
  checkPowExponent(exponent);
  if (exponent === HALF) return mapScalar(x, frac, fixedSqrt);
  const n = exponent / 2 ** ATTR_FRAC;
  return mapScalar(x, frac, (v, fx, fo) => fixedPowInt(v, fx, fo, n));
}

export const Pow = defineOp<PowAttrs>({
  kind: "Pow",
  summary: "x^exponent for an integer exponent in -64..64 or 0.5",
  inputs: ["x"],
  attrs: { exponent: { type: "fixed", doc: "the exponent (ONNX input Y, folded): an integer or 0.5" } },
  outputs: () => 1,
  infer: ([x], attrs, ctx) => {
    checkPowExponent(attrs.exponent);
    return [{ shape: [...x.shape], frac: ctx.frac }];
  },
  run: ([x], attrs, ctx) => [pow(x, attrs, ctx.frac)],
});
