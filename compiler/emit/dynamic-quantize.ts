/**
 * DynamicQuantizeLinear (lib/ops/dynamic-quantize.ts) as WASM: one walk over x for its largest
 * and smallest values, the scale and zero point computed once in i64, then one walk writing y.
 * The float32 roundings are the kernel's, in the same integer steps: float32Quotient's exponent
 * from the bit lengths (64 - clz) corrected by one comparison, the mantissa a division rounded
 * half to even, then the rounding to an integer. Every operand stays below 2^51 (the kernel's
 * bounds: numerators below 2^33 shifted by at most 24 - exponent bits, denominators below 2^26),
 * so signed i64 arithmetic is exact. The scale output is narrowed by a run-time shift, round
 * half up and saturating, as narrowBig does.
 */
import { I32_MAX } from "../../lib/tensor/fixed.js";
import type { Expr, FunctionBuilder, Local } from "../binaryen.js";
import { walk } from "./loops.js";
import type { OpEmitter, Operand } from "./types.js";

const MANTISSA_BITS = 24;
const QMAX = 255;

/** roundHalfEven(num / den) for num >= 0, den > 0 (i64). */
function divHalfEven(f: FunctionBuilder, num: Expr, den: Expr): Expr {
  const [n, d, q, twice] = [f.local("i64"), f.local("i64"), f.local("i64"), f.local("i64")];
  // The two conditions exclude each other, so their 0/1 sum is their disjunction.
  const up = f.i32Add(f.i64GtS(f.get(twice), f.get(d)), f.i32And(f.i64Eq(f.get(twice), f.get(d)), f.i32WrapI64(f.i64And(f.get(q), f.i64Const(1)))));
  return f.valueBlock([
    f.set(n, num),
    f.set(d, den),
    f.set(q, f.i64DivS(f.get(n), f.get(d))),
    f.set(twice, f.i64Shl(f.i64Sub(f.get(n), f.i64Mul(f.get(q), f.get(d))), f.i64Const(1))),
    f.i64Add(f.get(q), f.i64ExtendI32U(up)),
  ], "i64");
}

/** A left shift by a signed run-time amount: `value << amount`, or `value` when amount < 0. */
const shlIfPositive = (f: FunctionBuilder, value: () => Expr, amount: () => Expr): Expr =>
  f.select(f.i64GeS(amount(), f.i64Const(0)), f.i64Shl(value(), amount()), value());

/**
 * Statements setting `mantissa` and `exponent` to float32Quotient(num, den) of positive locals:
 * exponent = floor(log2(num / den)), mantissa = roundHalfEven(num * 2^(23 - exponent) / den).
 */
function float32Quotient(f: FunctionBuilder, num: Local, den: Local, mantissa: Local, exponent: Local): Expr[] {
  const shift = f.local("i64");
  const negated = () => f.i64Sub(f.i64Const(0), f.get(exponent));
  const below = f.select(f.i64GeS(f.get(exponent), f.i64Const(0)),
    f.i64LtS(f.get(num), f.i64Shl(f.get(den), f.get(exponent))),
    f.i64LtS(f.i64Shl(f.get(num), negated()), f.get(den)));
  const minusShift = () => f.i64Sub(f.i64Const(0), f.get(shift));
  return [
    f.set(exponent, f.i64Sub(f.i64Clz(f.get(den)), f.i64Clz(f.get(num)))),
    f.set(exponent, f.i64Sub(f.get(exponent), f.i64ExtendI32U(below))),
    f.set(shift, f.i64Sub(f.i64Const(MANTISSA_BITS - 1), f.get(exponent))),
    f.set(mantissa, divHalfEven(f, shlIfPositive(f, () => f.get(num), () => f.get(shift)), shlIfPositive(f, () => f.get(den), minusShift))),
  ];
}

/** roundHalfEven(fl32(num / den)) for num >= 0, den > 0 (locals): roundedFloat32Quotient. */
function roundedQuotient(f: FunctionBuilder, num: Local, den: Local): Expr {
  const [mantissa, exponent, shift, result] = [f.local("i64"), f.local("i64"), f.local("i64"), f.local("i64")];
  return f.valueBlock([
    f.set(result, f.i64Const(0)),
    f.if(f.i64Ne(f.get(num), f.i64Const(0)), [
      ...float32Quotient(f, num, den, mantissa, exponent),
      f.set(shift, f.i64Sub(f.i64Const(MANTISSA_BITS - 1), f.get(exponent))),
      f.if(f.i64LeS(f.get(shift), f.i64Const(0)),
        f.set(result, f.i64Shl(f.get(mantissa), f.i64Sub(f.i64Const(0), f.get(shift)))),
        f.if(f.i64LeS(f.get(shift), f.i64Const(MANTISSA_BITS + 1)),
          f.set(result, divHalfEven(f, f.get(mantissa), f.i64Shl(f.i64Const(1), f.get(shift)))))),
    ]),
    f.get(result),
  ], "i64");
}

/** clamp(v, 0, 255) of an i64, as i32. */
function clampByte(f: FunctionBuilder, v: Expr): Expr {
  const t = f.local("i64");
  return f.valueBlock([
    f.set(t, v),
    f.i32WrapI64(f.select(f.i64LtS(f.get(t), f.i64Const(0)), f.i64Const(0),
      f.select(f.i64GtS(f.get(t), f.i64Const(QMAX)), f.i64Const(QMAX), f.get(t)))),
  ], "i32");
}

export const DynamicQuantizeLinearEmitter: OpEmitter = {
  emit: (ctx) => {
    const { f } = ctx;
    const x = ctx.inputs[0] as Operand;
    const [y, scaleOut, zeroOut] = ctx.outputs;
    const count = x.shape.reduce((a, b) => a * b, 1);
    const [high, low, v] = [f.local("i32"), f.local("i32"), f.local("i32")];
    const [range, drop, rounded, scaleMantissa, scaleExponent, k, num, den, zero, narrowShift] =
      Array.from({ length: 10 }, () => f.local("i64"));
    const qmax = f.local("i64");
    /** roundHalfEven(fl32(value / scale)), signed, of the i64 expression `value`. */
    const quantized = (value: Expr): Expr => {
      const [signed, magnitude] = [f.local("i64"), f.local("i64")];
      const negate = () => f.i64Sub(f.i64Const(0), f.get(k));
      return f.valueBlock([
        f.set(signed, value),
        f.set(magnitude, f.select(f.i64LtS(f.get(signed), f.i64Const(0)), f.i64Sub(f.i64Const(0), f.get(signed)), f.get(signed))),
        f.set(num, shlIfPositive(f, () => f.get(magnitude), () => f.get(k))),
        f.set(den, shlIfPositive(f, () => f.get(scaleMantissa), negate)),
        f.set(magnitude, roundedQuotient(f, num, den)),
        f.select(f.i64LtS(f.get(signed), f.i64Const(0)), f.i64Sub(f.i64Const(0), f.get(magnitude)), f.get(magnitude)),
      ], "i64");
    };
    // The scale at the output's frac: mantissa * 2^(frac_out - k - frac_x), round half up, saturated.
    const scaleValue = f.select(f.i64GeS(f.get(narrowShift), f.i64Const(0)),
      f.i64Shl(f.get(scaleMantissa), f.get(narrowShift)),
      f.i64ShrS(f.i64Add(f.get(scaleMantissa), f.i64Shl(f.i64Const(1), f.i64Sub(f.i64Sub(f.i64Const(0), f.get(narrowShift)), f.i64Const(1)))),
        f.i64Sub(f.i64Const(0), f.get(narrowShift))));
    const scaled = f.local("i64");
    const saturatedScale = f.select(f.i64GtS(f.get(narrowShift), f.i64Const(31)), f.i32Const(I32_MAX),
      f.select(f.i64LtS(f.get(narrowShift), f.i64Const(-40)), f.i32Const(0),
        f.i32WrapI64(f.select(f.i64GtS(f.get(scaled), f.i64Const(I32_MAX)), f.i64Const(I32_MAX), f.get(scaled)))));
    return [
      f.set(high, f.i32Const(0)),
      f.set(low, f.i32Const(0)),
      ...walk(f, [count], [[4]], ([p]) => [
        f.set(v, f.i32Load(f.get(p), x.address)),
        f.if(f.i32GtS(f.get(v), f.get(high)), f.set(high, f.get(v))),
        f.if(f.i32LtS(f.get(v), f.get(low)), f.set(low, f.get(v))),
      ]),
      f.set(range, f.i64Sub(f.i64ExtendI32S(f.get(high)), f.i64ExtendI32S(f.get(low)))),
      f.if(f.i64Eqz(f.get(range)), [
        ...walk(f, [count], [[4]], ([p]) => [f.i32Store(f.get(p), f.i32Const(0), y.address)]),
        f.i32Store(f.i32Const(0), f.i32Const(0), scaleOut.address),
        f.i32Store(f.i32Const(0), f.i32Const(0), zeroOut.address),
      ], [
        // fl32(range): rounded to 24 significant bits.
        f.set(drop, f.i64Sub(f.i64Sub(f.i64Const(64), f.i64Clz(f.get(range))), f.i64Const(MANTISSA_BITS))),
        f.set(rounded, f.get(range)),
        f.if(f.i64GtS(f.get(drop), f.i64Const(0)),
          f.set(rounded, f.i64Shl(divHalfEven(f, f.get(range), f.i64Shl(f.i64Const(1), f.get(drop))), f.get(drop)))),
        f.set(qmax, f.i64Const(QMAX)),
        ...float32Quotient(f, rounded, qmax, scaleMantissa, scaleExponent),
        f.set(k, f.i64Sub(f.i64Const(MANTISSA_BITS - 1), f.get(scaleExponent))),
        f.set(narrowShift, f.i64Sub(f.i64Const(scaleOut.frac - x.frac), f.get(k))),
        f.set(scaled, scaleValue),
        f.i32Store(f.i32Const(0), saturatedScale, scaleOut.address),
        f.set(zero, f.i64ExtendI32U(clampByte(f, f.i64Sub(f.i64Const(0), quantized(f.i64ExtendI32S(f.get(low))))))),
        f.i32Store(f.i32Const(0), f.i32WrapI64(f.get(zero)), zeroOut.address),
        ...walk(f, [count], [[4], [4]], ([p, q]) => [
          f.i32Store(f.get(q), clampByte(f, f.i64Add(quantized(f.i64ExtendI32S(f.i32Load(f.get(p), x.address))), f.get(zero))), y.address),
        ]),
      ]),
    ];
  },
};
