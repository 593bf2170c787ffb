/**
 * The fixed-point rules of lib/tensor/fixed.ts as WASM code: round-half-up shifts on i64 (the
 * rounding add wraps like i64.add), saturation of an i64 to i32, the two narrowings the kernels
 * use (the accumulate core's, whose LEFT shift wraps like i64.shl, and the elementwise ops',
 * whose left shift saturates), `rescale` of an i32, and `divRound` (nearest, ties away from
 * zero, defined results for a zero divisor). Every helper takes and returns expressions; values
 * used twice go through a fresh local so each operand expression is evaluated exactly once.
 */
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import type { Expr, FunctionBuilder, Local } from "../binaryen.js";
import type { FusedActivation } from "./types.js";

/** floor((v + 2^(s-1)) / 2^s) for s > 0, v << -s (wrapping) for s < 0: roundShiftBig. */
export function roundShift64(f: FunctionBuilder, v: Expr, s: number): Expr {
  if (s === 0) return v;
  if (s < 0) return f.i64Shl(v, f.i64Const(-s));
  return f.i64ShrS(f.i64Add(v, f.i64Const(1n << BigInt(s - 1))), f.i64Const(s));
}

/** Clamp an i64 to [lo, hi] (still i64). */
export function clamp64(f: FunctionBuilder, v: Expr, lo: bigint, hi: bigint): Expr {
  const t = f.local("i64");
  return f.valueBlock([
    f.set(t, v),
    f.select(f.i64GtS(f.get(t), f.i64Const(hi)), f.i64Const(hi),
      f.select(f.i64LtS(f.get(t), f.i64Const(lo)), f.i64Const(lo), f.get(t))),
  ], "i64");
}

/** An i64 saturated to the i32 range, as i32. */
export function saturate64(f: FunctionBuilder, v: Expr): Expr {
  return f.i32WrapI64(clamp64(f, v, BigInt(I32_MIN), BigInt(I32_MAX)));
}

/** narrowBig(v, from, to): the accumulate core's narrowing (a left shift wraps modulo 2^64). */
export function narrowWrapping(f: FunctionBuilder, v: Expr, from: number, to: number): Expr {
  return saturate64(f, roundShift64(f, v, from - to));
}

/**
 * narrowWide(v, from, to) of binary.ts for an exact i64 value: a right shift rounds half up, a
 * left shift saturates (the value is clamped to i32 first, which cannot change a saturated
 * result and keeps the shift inside i64).
 */
export function narrowSaturating(f: FunctionBuilder, v: Expr, from: number, to: number): Expr {
  if (from >= to) return saturate64(f, roundShift64(f, v, from - to));
  return saturate64(f, f.i64Shl(clamp64(f, v, BigInt(I32_MIN), BigInt(I32_MAX)), f.i64Const(to - from)));
}

/** rescale(v, from, to) of an i32: right shifts round half up, left shifts saturate. */
export function rescale32(f: FunctionBuilder, v: Expr, from: number, to: number): Expr {
  if (from === to) return v;
  if (from > to) {
    // floor((v + 2^(s-1)) / 2^s) = (v >> s) + bit (s-1) of v: no i32 overflow.
    const s = from - to;
    const t = f.local("i32");
    return f.valueBlock([
      f.set(t, v),
      f.i32Add(f.i32ShrS(f.get(t), f.i32Const(s)), f.i32And(f.i32ShrS(f.get(t), f.i32Const(s - 1)), f.i32Const(1))),
    ], "i32");
  }
  return saturate64(f, f.i64Shl(f.i64ExtendI32S(v), f.i64Const(to - from)));
}

/** A fused Relu (max(v, 0)) or Clip (min(max(v, lo), hi)) on an i32; no activation: v itself. */
export function applyActivation(f: FunctionBuilder, v: Expr, activation: FusedActivation | undefined): Expr {
  if (!activation) return v;
  const t = f.local("i32");
  const [lo, hi] = activation.kind === "Relu" ? [0, I32_MAX] : [activation.min, activation.max];
  const code = [f.set(t, v)];
  if (lo !== I32_MIN) code.push(f.set(t, f.select(f.i32GtS(f.get(t), f.i32Const(lo)), f.get(t), f.i32Const(lo))));
  if (hi !== I32_MAX) code.push(f.set(t, f.select(f.i32LtS(f.get(t), f.i32Const(hi)), f.get(t), f.i32Const(hi))));
  return f.valueBlock([...code, f.get(t)], "i32");
}

/** The i32 constant `bound` (a Q16 attribute) at `frac`, as rescale() computes it. */
export function rescaleConst(v: number, from: number, to: number): number {
  if (from === to) return v;
  if (from > to) {
    const p = 2 ** (from - to);
    return Math.floor((v + p / 2) / p);
  }
  const r = v * 2 ** (to - from);
  return r > I32_MAX ? I32_MAX : r < I32_MIN ? I32_MIN : r;
}

/** The i64 value of a division of `num` (a local) by zero: I32_MAX, I32_MIN or 0 by its sign. */
export function divideByZero64(f: FunctionBuilder, num: Local): Expr {
  return f.select(f.i64GtS(f.get(num), f.i64Const(0)), f.i64Const(I32_MAX),
    f.select(f.i64LtS(f.get(num), f.i64Const(0)), f.i64Const(I32_MIN), f.i64Const(0)));
}

/**
 * divRoundBig(num, den) on i64: the quotient rounded to nearest, ties away from zero; a zero
 * divisor gives I32_MAX, I32_MIN or 0 by the sign of num. The caller guarantees |den| < 2^62
 * and not (num = -2^63 and den = -1), so 2|r| and the division cannot overflow or trap.
 */
export function divRound64(f: FunctionBuilder, num: Expr, den: Expr): Expr {
  const n = f.local("i64");
  const d = f.local("i64");
  const q = f.local("i64");
  const twoR = f.local("i64");
  const absD = f.local("i64");
  return f.valueBlock([
    f.set(n, num),
    f.set(d, den),
    f.if(f.i64Eqz(f.get(d)), [f.set(q, divideByZero64(f, n))], [
      f.set(q, f.i64DivS(f.get(n), f.get(d))),
      // 2r has the sign of num; |2r| >= |den| rounds away from zero.
      f.set(twoR, f.i64Shl(f.i64Sub(f.get(n), f.i64Mul(f.get(q), f.get(d))), f.i64Const(1))),
      f.set(absD, f.select(f.i64LtS(f.get(d), f.i64Const(0)), f.i64Sub(f.i64Const(0), f.get(d)), f.get(d))),
      f.if(f.i64GeS(f.get(twoR), f.get(absD)), f.set(q, f.i64Add(f.get(q), f.select(f.i64LtS(f.get(d), f.i64Const(0)), f.i64Const(-1), f.i64Const(1))))),
      f.if(f.i64LeS(f.get(twoR), f.i64Sub(f.i64Const(0), f.get(absD))),
        f.set(q, f.i64Add(f.get(q), f.select(f.i64LtS(f.get(d), f.i64Const(0)), f.i64Const(1), f.i64Const(-1))))),
    ]),
    f.get(q),
  ], "i64");
}

/** divRound64 for a compile-time divisor den > 0 (no zero test, no sign of the divisor). */
export function divRoundByConst(f: FunctionBuilder, num: Expr, den: number | bigint): Expr {
  const n = f.local("i64");
  const twoR = f.local("i64");
  const d = BigInt(den);
  if (d === 1n) return num;
  return f.valueBlock([
    f.set(n, num),
    f.set(twoR, f.i64Shl(f.i64RemS(f.get(n), f.i64Const(d)), f.i64Const(1))),
    f.i64Add(f.i64DivS(f.get(n), f.i64Const(d)),
      f.i64Sub(f.i64ExtendI32U(f.i64GeS(f.get(twoR), f.i64Const(d))), f.i64ExtendI32U(f.i64LeS(f.get(twoR), f.i64Const(-d))))),
  ], "i64");
}
