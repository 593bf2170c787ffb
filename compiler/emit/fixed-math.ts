/**
 * The integer primitives of lib/ops/fixed-math.ts and fixed-exp-log.ts as i64 WASM code, step
 * for step: multiply-and-shift with round half up, the exactly rounded shifted division (long
 * division in chunks, the WIDE_LIMIT clamp), the 32-step integer square root, the reciprocal
 * square root, exp (range reduction, 16-entry table, degree-5 polynomial), log (normalization,
 * tabulated reciprocal, degree-5 polynomial), sigmoid and tanh. Every value is an i64 expression;
 * shift amounts are compile-time numbers or i64 expressions. The JS kernels compute exactly
 * these integers (they split operands to stay exact below 2^53), so the results agree bit for bit.
 */
import { EXP2_POLY, EXP2_TABLE, LN1P_POLY, LN2_Q40, LOG2E_Q30, LOG_RCP, LOG_RCP_LN } from "../../lib/ops/fixed-exp-log.js";
import { ONE_Q30, WIDE_LIMIT } from "../../lib/ops/fixed-math.js";
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import type { Expr, FunctionBuilder, Local } from "../binaryen.js";
import { clamp64, divideByZero64, roundShift64 } from "./numerics.js";

/** A shift amount: known at compile time, or an i64 expression computed at run time. */
export type Shift = number | { readonly runtime: Expr };
export const runtime = (e: Expr): Shift => ({ runtime: e });

/** i64 scalar math for one function; tables are placed once per content through `table`. */
export class FixedMath {
  constructor(readonly f: FunctionBuilder, private readonly table: (data: Int32Array) => number) {}

  /** Evaluate v into a fresh i64 local. */
  keep(v: Expr): [Expr, Local] {
    const l = this.f.local("i64");
    return [this.f.set(l, v), l];
  }

  c(v: number | bigint): Expr {
    return this.f.i64Const(v);
  }

  /** Significant bits of 0 <= v: 64 - clz(v). */
  bitLength(v: Expr): Expr {
    return this.f.i64Sub(this.c(64), this.f.i64Clz(v));
  }

  /** The i32 range as an i64 (clamp). */
  saturate(v: Expr): Expr {
    return clamp64(this.f, v, BigInt(I32_MIN), BigInt(I32_MAX));
  }

  /** Entry i of an i32 table, as i64. */
  lookup(values: readonly number[], index: Expr): Expr {
    const address = this.table(Int32Array.from(values));
    return this.f.i64Load32S(this.f.i32Shl(this.f.i32WrapI64(index), this.f.i32Const(2)), address);
  }

  /**
   * floor((v + 2^(s-1)) / 2^s) for s > 0, v * 2^-s for s <= 0 (the caller keeps that in range);
   * a runtime s >= 63 gives 0, which is the rounded value for |v| < 2^62.
   */
  roundShift(v: Expr, s: Shift): Expr {
    const f = this.f;
    if (typeof s === "number") return roundShift64(f, v, s);
    const [setS, sh] = this.keep(s.runtime);
    const [setV, x] = this.keep(v);
    const right = f.i64ShrS(f.i64Add(f.get(x), f.i64Shl(this.c(1), f.i64Sub(f.get(sh), this.c(1)))), f.get(sh));
    const left = f.i64Shl(f.get(x), f.i64Sub(this.c(0), f.get(sh)));
    return f.valueBlock([setS, setV,
      f.select(f.i64GeS(f.get(sh), this.c(63)), this.c(0), f.select(f.i64GtS(f.get(sh), this.c(0)), right, left))], "i64");
  }

  /** mulShift of fixed-math.ts: a * b / 2^s rounded half up (|a * b| < 2^62). */
  mulShift(a: Expr, b: Expr, s: Shift): Expr {
    return this.roundShift(this.f.i64Mul(a, b), s);
  }

  /**
   * divShiftRound: a * 2^sh / b rounded to nearest, ties away from zero, for |a|, |b| < 2^51;
   * b = 0 gives I32_MAX, I32_MIN or 0; a quotient of 2^52 or more gives +-WIDE_LIMIT. Long
   * division that brings in the shifted bits in chunks of up to 63 - bitLength(|b|).
   */
  divShiftRound(a: Expr, sh: Shift, b: Expr): Expr {
    const f = this.f;
    const [setA, na] = this.keep(a);
    const [setB, nb] = this.keep(b);
    const [num, den, q, r, s, chunk, t] = Array.from({ length: 7 }, () => f.local("i64"));
    const result = f.local("i64");
    const negative = f.local("i32");
    const abs = (l: Local) => f.select(f.i64LtS(f.get(l), this.c(0)), f.i64Sub(this.c(0), f.get(l)), f.get(l));
    const done = f.label("div");
    const wide = f.select(f.get(negative), this.c(-WIDE_LIMIT), this.c(WIDE_LIMIT));
    const body = f.block(done, [
      f.if(f.i64Eqz(f.get(nb)), [
        f.set(result, divideByZero64(f, na)),
        f.br(done),
      ]),
      f.set(negative, f.i32Xor(f.i64LtS(f.get(na), this.c(0)), f.i64LtS(f.get(nb), this.c(0)))),
      f.set(num, abs(na)),
      f.set(den, abs(nb)),
      f.set(s, typeof sh === "number" ? this.c(sh) : sh.runtime),
      f.if(f.i64LtS(f.get(s), this.c(0)), [
        // Divide by |b| * 2^-sh; once that reaches 2^52 > 2|a| the quotient rounds to 0.
        f.set(result, this.c(0)),
        f.br(done, f.i64GtS(f.i64Sub(this.bitLength(f.get(den)), f.get(s)), this.c(52))),
        f.set(den, f.i64Shl(f.get(den), f.i64Sub(this.c(0), f.get(s)))),
        f.set(s, this.c(0)),
      ]),
      f.set(q, f.i64DivU(f.get(num), f.get(den))),
      f.set(r, f.i64Sub(f.get(num), f.i64Mul(f.get(q), f.get(den)))),
      f.whileLoop(f.i64GtS(f.get(s), this.c(0)), [
        f.set(chunk, f.i64Sub(this.c(63), this.bitLength(f.get(den)))),
        f.set(chunk, f.select(f.i64LtS(f.get(s), f.get(chunk)), f.get(s), f.get(chunk))),
        // q * 2^chunk >= 2^52: the quotient is past WIDE_LIMIT.
        f.set(result, wide),
        f.br(done, f.i32And(f.i64Ne(f.get(q), this.c(0)), f.i64GtS(f.i64Add(this.bitLength(f.get(q)), f.get(chunk)), this.c(52)))),
        f.set(t, f.i64Shl(f.get(r), f.get(chunk))),
        f.set(q, f.i64Add(f.i64Shl(f.get(q), f.get(chunk)), f.i64DivU(f.get(t), f.get(den)))),
        f.set(r, f.i64RemU(f.get(t), f.get(den))),
        f.set(s, f.i64Sub(f.get(s), f.get(chunk))),
      ]),
      f.if(f.i64GeU(f.i64Shl(f.get(r), this.c(1)), f.get(den)), f.set(q, f.i64Add(f.get(q), this.c(1)))),
      f.set(result, f.select(f.get(negative), f.i64Sub(this.c(0), f.get(q)), f.get(q))),
    ]);
    return f.valueBlock([setA, setB, body, f.get(result)], "i64");
  }

  /** floor(sqrt(x * 2^t)) for 0 <= x, x * 2^t < 2^64: 32 restoring steps over the bit pairs. */
  sqrtFloorShifted(x: Expr, t: Shift): Expr {
    const f = this.f;
    const [m, root, rem, trial] = Array.from({ length: 4 }, () => f.local("i64"));
    return f.valueBlock([
      f.set(m, f.i64Shl(x, typeof t === "number" ? this.c(t) : t.runtime)),
      f.set(root, this.c(0)),
      f.set(rem, this.c(0)),
      f.loop(32, () => [
        f.set(rem, f.i64Or(f.i64Shl(f.get(rem), this.c(2)), f.i64ShrU(f.get(m), this.c(62)))),
        f.set(m, f.i64Shl(f.get(m), this.c(2))),
        f.set(trial, f.i64Or(f.i64Shl(f.get(root), this.c(2)), this.c(1))),
        f.set(root, f.i64Shl(f.get(root), this.c(1))),
        f.if(f.i64GeU(f.get(rem), f.get(trial)), [
          f.set(rem, f.i64Sub(f.get(rem), f.get(trial))),
          f.set(root, f.i64Or(f.get(root), this.c(1))),
        ]),
      ]),
      f.get(root),
    ], "i64");
  }

  /** rsqrt(w, fr) of fixed-math.ts into locals r and k: 1/sqrt(w / 2^fr) ~= r / 2^k, for 1 <= w < 2^53. */
  rsqrt(w: Expr, fr: Shift): { code: Expr[]; r: Local; k: Local } {
    const f = this.f;
    const [setW, wl] = this.keep(w);
    const [setF, fl] = this.keep(typeof fr === "number" ? this.c(fr) : fr.runtime);
    const [t, s, r, k] = Array.from({ length: 4 }, () => f.local("i64"));
    const code = [
      setW, setF,
      f.set(t, f.i64Sub(this.c(64), this.bitLength(f.get(wl)))),
      f.set(t, f.i64Sub(f.get(t), f.i64And(f.i64Add(f.get(t), f.get(fl)), this.c(1)))),
      f.set(s, this.sqrtFloorShifted(f.get(wl), runtime(f.get(t)))),
      f.set(r, this.divShiftRound(this.c(1), 61, f.get(s))),
      f.set(k, f.i64Sub(this.c(61), f.i64ShrS(f.i64Add(f.get(t), f.get(fl)), this.c(1)))),
    ];
    return { code, r, k };
  }

  /** Horner: coefficients highest first, p = c[i] + mulShift(p, x, 30). */
  private horner(coefficients: readonly number[], x: Local): Expr {
    let p = this.c(coefficients[0]);
    for (let i = 1; i < coefficients.length; i++) p = this.f.i64Add(this.c(coefficients[i]), this.mulShift(p, this.f.get(x), 30));
    return p;
  }

  /** fixedExp: e^(x / 2^fx) at frac fo, rounded half up and saturated, for |x| < 2^34. */
  exp(x: Expr, fx: number, fo: number): Expr {
    const f = this.f;
    const [setX, xl] = this.keep(x);
    const [t, k, r, j, m, s] = Array.from({ length: 6 }, () => f.local("i64"));
    const result = f.local("i64");
    const bound = 32n << BigInt(fx);
    return f.valueBlock([
      setX,
      f.if(f.i64GeS(f.get(xl), this.c(bound)), f.set(result, this.c(I32_MAX)), f.if(f.i64LeS(f.get(xl), this.c(-bound)), f.set(result, this.c(0)), [
        f.set(t, this.mulShift(roundShift64(f, f.get(xl), fx - 26), this.c(LOG2E_Q30), 26)),
        f.set(k, f.i64ShrS(f.get(t), this.c(30))),
        f.set(j, f.i64ShrU(f.i64And(f.get(t), this.c(ONE_Q30 - 1)), this.c(26))),
        f.set(r, f.i64And(f.get(t), this.c(2 ** 26 - 1))),
        f.set(m, this.mulShift(this.lookup(EXP2_TABLE, f.get(j)), this.horner(EXP2_POLY, r), 30)),
        f.set(s, f.i64Sub(this.c(30 - fo), f.get(k))),
        f.set(result, f.select(f.i64LeS(f.get(s), this.c(0)),
          // saturate(m * 2^-s): m < 2^32, and any shift past 31 saturates a positive m anyway.
          this.saturate(f.i64Shl(f.get(m), f.select(f.i64LtS(f.get(s), this.c(-31)), this.c(31), f.i64Sub(this.c(0), f.get(s))))),
          f.select(f.i64GtS(f.get(s), this.c(32)), this.c(0), this.roundShift(f.get(m), runtime(f.get(s)))))),
      ])),
      f.get(result),
    ], "i64");
  }

  /** fixedLogQ30: ln(v / 2^fv) at Q30 for 1 <= v < 2^53. */
  logQ30(v: Expr, fv: number): Expr {
    const f = this.f;
    const [setV, vl] = this.keep(v);
    const [e, m, j, z] = Array.from({ length: 4 }, () => f.local("i64"));
    return f.valueBlock([
      setV,
      f.set(e, f.i64Sub(this.bitLength(f.get(vl)), this.c(1))),
      f.set(m, f.select(f.i64GeS(f.get(e), this.c(30)), f.i64ShrU(f.get(vl), f.i64Sub(f.get(e), this.c(30))),
        f.i64Shl(f.get(vl), f.i64Sub(this.c(30), f.get(e))))),
      f.set(j, f.i64Sub(f.i64ShrS(f.get(m), this.c(26)), this.c(16))),
      f.set(z, f.i64Sub(this.mulShift(f.get(m), this.lookup(LOG_RCP, f.get(j)), 30), this.c(ONE_Q30))),
      f.i64Add(f.i64Add(roundShift64(f, f.i64Mul(f.i64Sub(f.get(e), this.c(fv)), this.c(LN2_Q40)), 10), this.lookup(LOG_RCP_LN, f.get(j))),
        this.mulShift(this.horner(LN1P_POLY, z), f.get(z), 30)),
    ], "i64");
  }

  /** fixedLog: ln(x / 2^fx) at frac fo for an i32 x; x <= 0 gives I32_MIN. */
  log(x: Expr, fx: number, fo: number): Expr {
    const [setX, xl] = this.keep(x);
    const f = this.f;
    return f.valueBlock([setX, f.select(f.i64LeS(f.get(xl), this.c(0)), this.c(I32_MIN),
      this.saturate(roundShift64(f, this.logQ30(f.get(xl), fx), 30 - fo)))], "i64");
  }

  /** |v| of an i64 held in a local. */
  abs(v: Local): Expr {
    const f = this.f;
    return f.select(f.i64LtS(f.get(v), this.c(0)), f.i64Sub(this.c(0), f.get(v)), f.get(v));
  }

  /** fixedSigmoid: e = e^-|x| at Q30, then 1/(1+e) or e/(1+e) rounded once. */
  sigmoid(x: Expr, fx: number, fo: number): Expr {
    const f = this.f;
    const [setX, xl] = this.keep(x);
    const [setE, e] = this.keep(this.exp(f.i64Sub(this.c(0), this.abs(xl)), fx, 30));
    return f.valueBlock([setX, setE, this.divShiftRound(f.select(f.i64GeS(f.get(xl), this.c(0)), this.c(ONE_Q30), f.get(e)), fo,
      f.i64Add(this.c(ONE_Q30), f.get(e)))], "i64");
  }

  /** fixedTanh: e = e^-2|x| at Q30, sign(x) (1 - e)/(1 + e) rounded once; |x| < 2^31. */
  tanh(x: Expr, fx: number, fo: number): Expr {
    const f = this.f;
    const [setX, xl] = this.keep(x);
    const [setE, e] = this.keep(this.exp(f.i64Shl(f.i64Sub(this.c(0), this.abs(xl)), this.c(1)), fx, 30));
    const [setY, y] = this.keep(this.divShiftRound(f.i64Sub(this.c(ONE_Q30), f.get(e)), fo, f.i64Add(this.c(ONE_Q30), f.get(e))));
    return f.valueBlock([setX, setE, setY, f.select(f.i64LtS(f.get(xl), this.c(0)), f.i64Sub(this.c(0), f.get(y)), f.get(y))], "i64");
  }
}
