/**
 * Elementwise source ops that detml has no kernel for but that are exact compositions of IR
 * ops, shared by the ONNX and TF.js front ends so that each composition is written once: Floor,
 * Ceil, Round (half to even, as ONNX and TF define it), Sign, Softplus, Celu, Shrink,
 * ThresholdedRelu, Selu and Softsign, plus the variadic Sum/Mean (TF AddN) and the boolean ops
 * and negated comparisons (ONNX LessOrEqual, TF LessEqual, NotEqual...). Building them from existing ops means no new kernel and no new compiler
 * emitter, so the compiled WASM is bit-identical to the reference executor by construction.
 * Each composition equals the source definition in real arithmetic; its fixed-point error is
 * that of the ops used, stated beside each. A front end supplies a Composer (how to emit an
 * intermediate op or a constant into its draft) and emits the returned final op as the source
 * node's own output. Integer division and Mod are exact at any frac (docs/numerics.md), which is
 * what makes the rounding functions exact.
 */
import type { FoldAttrs } from "./fold.js";
import type { SizeGuard } from "./size-guard.js";
import { scalar, type ConstValue, type ValueClass } from "./values.js";

/** A draft value a composition reads: its name, static shape, element class and frac. */
export interface Operand {
  name: string;
  shape: readonly number[];
  dtype: ValueClass;
  frac: number;
}

/** How a composition emits into a front end's draft graph. */
export interface Composer {
  /** Add an intermediate op; returns its output names. */
  op(kind: string, inputs: string[], attrs?: FoldAttrs, dtype?: ValueClass): string[];
  /** Add a constant; returns its name. */
  constant(base: string, value: ConstValue): string;
  /** The draft's size guard: a constant computed from a shape is checked before it is built. */
  readonly guard: SizeGuard;
}

/** The last op of a composition: the front end emits it as the source node's output. */
export interface FinalOp {
  kind: string;
  inputs: string[];
  attrs?: FoldAttrs;
  dtype?: ValueClass;
}

/** A composition's result: its final op, or an existing value the output simply is. */
export type Composite = FinalOp | string;

/** The first output of an intermediate op. */
export function emit1(c: Composer, kind: string, inputs: string[], attrs: FoldAttrs = {}, dtype?: ValueClass): string {
  return c.op(kind, inputs, attrs, dtype)[0];
}

/** A composition's result as a value: its final op emitted as an intermediate one. */
export function materialize(c: Composer, r: Composite): string {
  return typeof r === "string" ? r : emit1(c, r.kind, r.inputs, r.attrs, r.dtype);
}

export const intConst = (c: Composer, base: string, v: number): string => c.constant(base, scalar("int", v));
export const realConst = (c: Composer, base: string, v: number): string => c.constant(base, scalar("float", v));

/** Integers, and reals that hold no fractional bits, are their own floor, ceil and round. */
const isWhole = (x: Operand): boolean => x.dtype !== "float" || x.frac === 0;

/** Floor(x) = Div(x, 1, floor): the exact integer quotient, written at frac 0. Exact. */
export function floor(c: Composer, x: Operand): Composite {
  if (isWhole(x)) return x.name;
  return { kind: "Div", inputs: [x.name, intConst(c, "one", 1)], attrs: { mode: "floor" }, dtype: x.dtype };
}

/** Ceil(x) = -floor(-x) = -Div(x, -1, floor), at frac 0. Exact. */
export function ceil(c: Composer, x: Operand): Composite {
  if (isWhole(x)) return x.name;
  const down = emit1(c, "Div", [x.name, intConst(c, "minus_one", -1)], { mode: "floor" }, x.dtype);
  return { kind: "Neg", inputs: [down], dtype: x.dtype };
}

/**
 * Round half to even (ONNX Round, TF Round): with the floor q = Div(x, 1, floor) and the
 * fraction f = Mod(x, 1) in [0, 1) (exact at x's frac), the result is q + 1 when f > 1/2, q when
 * f < 1/2, and at a tie f = 1/2 the even one of q and q + 1, i.e. q + Mod(q, 2). Exact; the
 * result is written at ctx.frac (it saturates only where x's integer part does not fit there).
 */
export function round(c: Composer, x: Operand): Composite {
  if (isWhole(x)) return x.name;
  const one = intConst(c, "one", 1);
  const half = realConst(c, "half", 0.5);
  const down = emit1(c, "Div", [x.name, one], { mode: "floor" }, x.dtype);
  const fraction = emit1(c, "Mod", [x.name, one], { fmod: 0 }, x.dtype);
  const odd = emit1(c, "Mod", [down, intConst(c, "two", 2)], { fmod: 0 }, x.dtype);
  const tie = emit1(c, "Equal", [fraction, half]);
  const above = emit1(c, "Greater", [fraction, half]);
  const up = emit1(c, "Where", [tie, odd, above], {}, x.dtype);
  return { kind: "Add", inputs: [down, up], dtype: x.dtype };
}

/** Sign(x) = (x > 0) - (x < 0): exact, written at ctx.frac. */
export function sign(c: Composer, x: Operand): Composite {
  const zero = intConst(c, "zero", 0);
  const positive = emit1(c, "Greater", [x.name, zero]);
  const negative = emit1(c, "Less", [x.name, zero]);
  return { kind: "Sub", inputs: [positive, negative], dtype: x.dtype };
}

/**
 * Softplus(x) = ln(1 + e^x), written as max(x, 0) + ln(1 + e^-|x|) so that no intermediate
 * exceeds 2 (the direct form overflows Q16 for x > 10.4). Error at Q16: Exp's and Log's final
 * roundings (1/(1+e) <= 1 carries Exp's into the sum undamped), at most 1 ulp plus 2e-8
 * relative; Relu, Neg, Abs, the addition of 1 and the last sum are exact.
 */
export function softplus(c: Composer, x: Operand): Composite {
  const negAbs = emit1(c, "Neg", [emit1(c, "Abs", [x.name])]);
  const tail = emit1(c, "Exp", [negAbs]);
  const log = emit1(c, "Log", [emit1(c, "Add", [tail, realConst(c, "one", 1)])]);
  return { kind: "Add", inputs: [emit1(c, "Relu", [x.name]), log] };
}

/**
 * Celu(x) = max(0, x) + min(0, alpha * (e^(x/alpha) - 1)): x itself where x >= 0 (exact), and
 * below Elu(x / alpha, alpha), which is alpha * (e^(x/alpha) - 1) there. Error below 0, at
 * most (alpha + 2) * 2^-17 at Q16: the rounding of x / alpha carried by the slope
 * alpha * e^(x/alpha) <= alpha, Elu's final rounding, and alpha quantized at Q16 for Elu's
 * attribute (times |e^u - 1| <= 1). alpha = 1 is Elu itself.
 */
export function celu(c: Composer, x: Operand, alpha: number): Composite {
  if (alpha === 0) throw new Error("alpha = 0 is not supported (Celu divides by alpha)");
  if (alpha === 1) return { kind: "Elu", inputs: [x.name], attrs: { alpha: 1 } };
  const elu = emit1(c, "Elu", [emit1(c, "Div", [x.name, realConst(c, "alpha", alpha)])], { alpha });
  const negative = emit1(c, "Less", [x.name, intConst(c, "zero", 0)]);
  return { kind: "Where", inputs: [negative, elu, x.name] };
}

/**
 * Shrink(x) = x + bias where x < -lambd, x - bias where x > lambd, else 0 (the first test wins,
 * as in ONNX's reference). The comparisons are exact against the quantized thresholds; x ± bias
 * is one rounding of the exact sum.
 */
export function shrink(c: Composer, x: Operand, lambd: number, bias: number): Composite {
  const below = emit1(c, "Less", [x.name, realConst(c, "minus_lambd", -lambd)]);
  const above = emit1(c, "Greater", [x.name, realConst(c, "lambd", lambd)]);
  const shifted = (kind: "Add" | "Sub") => (bias === 0 ? x.name : emit1(c, kind, [x.name, realConst(c, "bias", bias)]));
  const outer = emit1(c, "Where", [above, shifted("Sub"), intConst(c, "zero", 0)], {}, x.dtype);
  return { kind: "Where", inputs: [below, shifted("Add"), outer], dtype: x.dtype };
}

/** ThresholdedRelu(x) = x where x > alpha, else 0: exact. */
export function thresholdedRelu(c: Composer, x: Operand, alpha: number): Composite {
  const above = emit1(c, "Greater", [x.name, realConst(c, "alpha", alpha)]);
  return { kind: "Where", inputs: [above, x.name, intConst(c, "zero", 0)], dtype: x.dtype };
}

/** Klambauer et al.'s Selu constants, the defaults of ONNX Selu and the only values of TF/Keras selu. */
export const SELU_ALPHA = 1.6732632423543772;
export const SELU_GAMMA = 1.0507009873554805;

/** Selu(x) = gamma * Elu(x, alpha): Elu's error times gamma, plus one rounding of the product. */
export function selu(c: Composer, x: Operand, alpha = SELU_ALPHA, gamma = SELU_GAMMA): Composite {
  const elu = emit1(c, "Elu", [x.name], { alpha });
  return { kind: "Mul", inputs: [elu, realConst(c, "gamma", gamma)] };
}

/** Softsign(x) = x / (1 + |x|): Abs and the sum are exact, the division rounds once. */
export function softsign(c: Composer, x: Operand): Composite {
  const den = emit1(c, "Add", [emit1(c, "Abs", [x.name]), realConst(c, "one", 1)]);
  return { kind: "Div", inputs: [x.name, den] };
}

/** Sum (ONNX Sum, TF AddN): a chain of broadcasting Adds; with `mean`, times 1/count (ONNX Mean). */
export function sum(c: Composer, xs: readonly string[], mean = false): Composite {
  if (xs.length === 1) return xs[0];
  let acc = xs[0];
  for (let i = 1; i < xs.length; i++) {
    if (i === xs.length - 1 && !mean) return { kind: "Add", inputs: [acc, xs[i]] };
    acc = emit1(c, "Add", [acc, xs[i]]);
  }
  return { kind: "Mul", inputs: [acc, realConst(c, "inv_count", 1 / xs.length)] };
}

export type LogicalKind = "Not" | "And" | "Or" | "Xor" | "NotEqual" | "LessOrEqual" | "GreaterOrEqual";

/**
 * Boolean ops and negated comparisons on run-time values, built from comparisons (which give
 * 0/1 at frac 0): Not(a) is a == 0, And(a, b) is a*b > 0, Or(a, b) is a+b > 0, Xor(a, b) and
 * NotEqual(a, b) are (a == b) == 0, LessOrEqual is Greater == 0 and GreaterOrEqual is Less == 0.
 * Exact. The operands are draft values of one layout (a front end aligns them first).
 */
export function logical(c: Composer, kind: LogicalKind, [a, b]: readonly string[]): Composite {
  const zero = () => intConst(c, "zero", 0);
  switch (kind) {
    case "Not": return { kind: "Equal", inputs: [a, zero()] };
    case "And": return { kind: "Greater", inputs: [emit1(c, "Mul", [a, b]), zero()] };
    case "Or": return { kind: "Greater", inputs: [emit1(c, "Add", [a, b]), zero()] };
    case "Xor":
    case "NotEqual": return { kind: "Equal", inputs: [emit1(c, "Equal", [a, b]), zero()] };
    case "LessOrEqual": return { kind: "Equal", inputs: [emit1(c, "Greater", [a, b]), zero()] };
    case "GreaterOrEqual": return { kind: "Equal", inputs: [emit1(c, "Less", [a, b]), zero()] };
  }
}
