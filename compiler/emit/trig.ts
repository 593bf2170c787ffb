/**
 * The trigonometric and hyperbolic ops of lib/ops/trig.ts (Sin, Cos, Tan, Asin, Acos, Atan,
 * Sinh, Cosh, Asinh, Acosh, Atanh) as elementwise walks whose body is the kernel's integer
 * algorithm of lib/ops/fixed-trig.ts on i64, step for step, with the primitives of
 * fixed-math.ts here. The phase of sin/cos is the same wrapping i64 sum the JS reference
 * computes with BigInt; branches whose other side could index a table out of range are `if`s,
 * not selects. The JS kernels compute exactly these integers, so the results agree bit for bit.
 */
import { EXP2_POLY, EXP2_TABLE, LOG2E_Q30 } from "../../lib/ops/fixed-exp-log.js";
import { ONE_Q30 } from "../../lib/ops/fixed-math.js";
import {
  ATAN_POLY, ATAN_TABLE, COS_POLY, HALF_PI_Q29, HALF_PI_Q30, PI_Q30, SIN_POLY, TWO_OVER_PI,
} from "../../lib/ops/fixed-trig.js";
import { I32_MAX } from "../../lib/tensor/fixed.js";
import type { Expr, Local } from "../binaryen.js";
import { elementwise } from "./elementwise.js";
import { FixedMath, runtime } from "./fixed-math.js";
import { roundShift64 } from "./numerics.js";
import type { Operand, OpEmitter } from "./types.js";

/** One scalar algorithm: x (an i32 held in an i64 local) at frac fx to an i64 result at fo. */
type Scalar = (t: Trig, x: Local, fx: number, fo: number) => Expr;

/** The fixed-trig.ts helpers as i64 code for one function. */
class Trig extends FixedMath {
  /** hornerQ30 over a local z. */
  hornerQ30(coefficients: readonly number[], z: Local): Expr {
    let p = this.c(coefficients[0]);
    for (let i = 1; i < coefficients.length; i++) p = this.f.i64Add(this.c(coefficients[i]), this.mulShift(p, this.f.get(z), 30));
    return p;
  }

  /** The one final rounding: saturate(roundShift(v, 30 - fo)). */
  finish(v: Expr, fo: number): Expr {
    return this.saturate(roundShift64(this.f, v, 30 - fo));
  }

  /** -v when x < 0, else v. */
  signOf(x: Local, v: Expr): Expr {
    const f = this.f;
    const [setV, vl] = this.keep(v);
    return f.valueBlock([setV, f.select(f.i64LtS(f.get(x), this.c(0)), f.i64Sub(this.c(0), f.get(vl)), f.get(vl))], "i64");
  }

  /** sinCosOfQ30: locals sin and cos at Q30 of x at fx. */
  sinCos(x: Local, fx: number): { code: Expr[]; sin: Local; cos: Local } {
    const f = this.f;
    const [a, phase, q, r, z, s, c, sin, cos] = Array.from({ length: 9 }, () => f.local("i64"));
    const product = (limb: number) => f.i64Mul(f.get(a), this.c(TWO_OVER_PI[limb]));
    const byQuadrant = (values: Expr[]) =>
      f.select(f.i64Eq(f.get(q), this.c(0)), values[0], f.select(f.i64Eq(f.get(q), this.c(1)), values[1], f.select(f.i64Eq(f.get(q), this.c(2)), values[2], values[3])));
    const neg = (l: Local) => f.i64Sub(this.c(0), f.get(l));
    const code = [
      f.set(a, this.abs(x)),
      f.set(phase, f.i64Add(f.i64Add(f.i64Add(f.i64Shl(product(0), this.c(31 - fx)), f.i64ShrU(product(1), this.c(fx))),
        f.i64ShrU(product(2), this.c(31 + fx))), this.c(2n ** 61n))),
      f.set(q, f.i64ShrU(f.get(phase), this.c(62))),
      f.set(r, this.mulShift(f.i64ShrS(f.i64Sub(f.i64And(f.get(phase), this.c(2n ** 62n - 1n)), this.c(2n ** 61n)), this.c(29)), this.c(HALF_PI_Q29), 32)),
      f.set(z, this.mulShift(f.get(r), f.get(r), 30)),
      f.set(s, this.mulShift(this.hornerQ30(SIN_POLY, z), f.get(r), 30)),
      f.set(c, this.hornerQ30(COS_POLY, z)),
      f.set(sin, this.signOf(x, byQuadrant([f.get(s), f.get(c), neg(s), neg(c)]))),
      f.set(cos, byQuadrant([f.get(c), neg(s), neg(c), f.get(s)])),
    ];
    return { code, sin, cos };
  }

  /** atanUnitQ30 of t in [0, 2^30] at Q30. */
  atanUnit(t: Expr): Expr {
    const f = this.f;
    const [tl, j, u, w] = Array.from({ length: 4 }, () => f.local("i64"));
    return f.valueBlock([
      f.set(tl, t),
      f.set(j, f.i64ShrS(f.i64Add(f.get(tl), this.c(2 ** 25)), this.c(26))),
      f.set(u, this.divShiftRound(f.i64Sub(f.get(tl), f.i64Shl(f.get(j), this.c(26))), 30,
        f.i64Add(this.c(ONE_Q30), this.mulShift(f.get(tl), f.get(j), 4)))),
      f.set(w, this.mulShift(f.get(u), f.get(u), 30)),
      f.i64Add(this.lookup(ATAN_TABLE, f.get(j)), this.mulShift(this.hornerQ30(ATAN_POLY, w), f.get(u), 30)),
    ], "i64");
  }

  /** atanRatioQ30(p, q) for locals 0 <= p, q, not both 0. */
  atanRatio(p: Local, q: Local): Expr {
    const f = this.f;
    const y = f.local("i64");
    return f.valueBlock([
      f.if(f.i64LeS(f.get(p), f.get(q)),
        f.set(y, this.atanUnit(this.divShiftRound(f.get(p), 30, f.get(q)))),
        f.set(y, f.i64Sub(this.c(HALF_PI_Q30), this.atanUnit(this.divShiftRound(f.get(q), 30, f.get(p)))))),
      f.get(y),
    ], "i64");
  }

  /** unitSineCosine: locals p = |x| at Q30 (via Q26, at most 1) and s = sqrt(1 - x^2) at Q30. */
  unitSineCosine(x: Local, fx: number): { code: Expr[]; p: Local; s: Local } {
    const f = this.f;
    const [a, p, s] = Array.from({ length: 3 }, () => f.local("i64"));
    const code = [
      f.set(a, roundShift64(f, this.abs(x), fx - 26)),
      f.set(a, f.select(f.i64GtS(f.get(a), this.c(2 ** 26)), this.c(2 ** 26), f.get(a))),
      f.set(p, f.i64Shl(f.get(a), this.c(4))),
      f.set(s, this.sqrtFloorShifted(f.i64Mul(f.i64Sub(this.c(2 ** 26), f.get(a)), f.i64Add(this.c(2 ** 26), f.get(a))), 8)),
    ];
    return { code, p, s };
  }

  /** expParts into locals m and k: e^(v / 2^fx) = m 2^(k - 30). */
  expParts(v: Expr, fx: number): { code: Expr[]; m: Local; k: Local } {
    const f = this.f;
    const [t, r, j, m, k] = Array.from({ length: 5 }, () => f.local("i64"));
    const code = [
      f.set(t, this.mulShift(roundShift64(f, v, fx - 26), this.c(LOG2E_Q30), 26)),
      f.set(k, f.i64ShrS(f.get(t), this.c(30))),
      f.set(j, f.i64ShrU(f.i64And(f.get(t), this.c(ONE_Q30 - 1)), this.c(26))),
      f.set(r, f.i64And(f.get(t), this.c(2 ** 26 - 1))),
      f.set(m, this.mulShift(this.lookup(EXP2_TABLE, f.get(j)), this.hornerQ30(EXP2_POLY, r), 30)),
    ];
    return { code, m, k };
  }

  /** expPair: (e^|x| + sign e^-|x|) / 2 at fo, saturated. */
  expPair(x: Local, fx: number, fo: number, sign: 1 | -1): Expr {
    const f = this.f;
    const [a, d, sum, s, y] = Array.from({ length: 5 }, () => f.local("i64"));
    const up = this.expParts(f.get(a), fx);
    const down = this.expParts(f.i64Sub(this.c(0), f.get(a)), fx);
    const aligned = f.select(f.i64GtS(f.get(d), this.c(32)), this.c(0), this.roundShift(f.get(down.m), runtime(f.get(d))));
    return f.valueBlock([
      f.set(a, this.abs(x)),
      f.if(f.i64GeS(f.get(a), this.c(32n << BigInt(fx))), f.set(y, this.c(I32_MAX)), [
        ...up.code,
        ...down.code,
        f.set(d, f.i64Sub(f.get(up.k), f.get(down.k))),
        f.set(sum, sign === 1 ? f.i64Add(f.get(up.m), aligned) : f.i64Sub(f.get(up.m), aligned)),
        f.set(s, f.i64Sub(this.c(31 - fo), f.get(up.k))),
        f.set(y, this.saturate(f.select(f.i64LeS(f.get(s), this.c(0)),
          f.i64Shl(f.get(sum), f.select(f.i64LtS(f.get(s), this.c(-30)), this.c(30), f.i64Sub(this.c(0), f.get(s)))),
          this.roundShift(f.get(sum), runtime(f.get(s)))))),
      ]),
      f.get(y),
    ], "i64");
  }

  /** ln(1 + sqrt(1 + sign b^2)) at Q30 for b = 1/(a / 2^fx) at Q30 (asinh: +, acosh: -). */
  logOnePlusRoot(a: Local, fx: number, sign: 1 | -1): Expr {
    const f = this.f;
    const [setB, b] = this.keep(this.divShiftRound(this.c(2 ** fx), 30, f.get(a)));
    const square = this.mulShift(f.get(b), f.get(b), 30);
    const inside = sign === 1 ? f.i64Add(this.c(ONE_Q30), square) : f.i64Sub(this.c(ONE_Q30), square);
    return f.valueBlock([setB, f.i64Add(this.logQ30(f.get(a), fx), this.logQ30(f.i64Add(this.c(ONE_Q30), this.sqrtFloorShifted(inside, 30)), 30))], "i64");
  }
}

const sin: Scalar = (t, x, fx, fo) => {
  const { code, sin: s } = t.sinCos(x, fx);
  return t.f.valueBlock([...code, t.finish(t.f.get(s), fo)], "i64");
};

const cos: Scalar = (t, x, fx, fo) => {
  const { code, cos: c } = t.sinCos(x, fx);
  return t.f.valueBlock([...code, t.finish(t.f.get(c), fo)], "i64");
};

const tan: Scalar = (t, x, fx, fo) => {
  const { code, sin: s, cos: c } = t.sinCos(x, fx);
  return t.f.valueBlock([...code, t.saturate(t.divShiftRound(t.f.get(s), fo, t.f.get(c)))], "i64");
};

const atan: Scalar = (t, x, fx, fo) => {
  const f = t.f;
  const [setA, a] = t.keep(t.abs(x));
  const [setOne, one] = t.keep(t.c(2 ** fx));
  return f.valueBlock([setA, setOne, t.finish(t.signOf(x, t.atanRatio(a, one)), fo)], "i64");
};

const asin: Scalar = (t, x, fx, fo) => {
  const { code, p, s } = t.unitSineCosine(x, fx);
  return t.f.valueBlock([...code, t.finish(t.signOf(x, t.atanRatio(p, s)), fo)], "i64");
};

const acos: Scalar = (t, x, fx, fo) => {
  const f = t.f;
  const { code, p, s } = t.unitSineCosine(x, fx);
  const [setY, y] = t.keep(t.atanRatio(s, p));
  return f.valueBlock([...code, setY, t.finish(f.select(f.i64LtS(f.get(x), t.c(0)), f.i64Sub(t.c(PI_Q30), f.get(y)), f.get(y)), fo)], "i64");
};

const sinh: Scalar = (t, x, fx, fo) => t.signOf(x, t.expPair(x, fx, fo, -1));
const cosh: Scalar = (t, x, fx, fo) => t.expPair(x, fx, fo, 1);

const asinh: Scalar = (t, x, fx, fo) => {
  const f = t.f;
  const [a, a26, y] = Array.from({ length: 3 }, () => f.local("i64"));
  return f.valueBlock([
    f.set(a, t.abs(x)),
    f.if(f.i64LtS(f.get(a), t.c(2 ** fx)), [
      f.set(a26, roundShift64(f, f.get(a), fx - 26)),
      f.set(y, t.logQ30(f.i64Add(f.i64Shl(f.get(a26), t.c(4)),
        t.sqrtFloorShifted(f.i64Add(f.i64Mul(f.get(a26), f.get(a26)), t.c(2 ** 52)), 8)), 30)),
    ], f.set(y, t.logOnePlusRoot(a, fx, 1))),
    t.finish(t.signOf(x, f.get(y)), fo),
  ], "i64");
};

const acosh: Scalar = (t, x, fx, fo) => {
  const f = t.f;
  const [a25, y] = Array.from({ length: 2 }, () => f.local("i64"));
  return f.valueBlock([
    f.if(f.i64LeS(f.get(x), t.c(2 ** fx)), f.set(y, t.c(0)),
      f.if(f.i64LtS(f.get(x), t.c(2 ** (fx + 1))), [
        f.set(a25, roundShift64(f, f.get(x), fx - 25)),
        f.set(y, t.finish(t.logQ30(f.i64Add(f.i64Shl(f.get(a25), t.c(5)),
          t.sqrtFloorShifted(f.i64Mul(f.i64Sub(f.get(a25), t.c(2 ** 25)), f.i64Add(f.get(a25), t.c(2 ** 25))), 10)), 30), fo)),
      ], f.set(y, t.finish(t.logOnePlusRoot(x, fx, -1), fo)))),
    f.get(y),
  ], "i64");
};

const atanh: Scalar = (t, x, fx, fo) => {
  const f = t.f;
  const [a, y] = Array.from({ length: 2 }, () => f.local("i64"));
  const one = t.c(2 ** fx);
  return f.valueBlock([
    f.set(a, t.abs(x)),
    f.if(f.i64GeS(f.get(a), one), f.set(y, t.c(I32_MAX)),
      f.set(y, t.saturate(roundShift64(f, f.i64Sub(t.logQ30(f.i64Add(t.c(2 ** fx), f.get(a)), fx), t.logQ30(f.i64Sub(t.c(2 ** fx), f.get(a)), fx)), 31 - fo)))),
    t.signOf(x, f.get(y)),
  ], "i64");
};

/** An elementwise op over one input: the scalar algorithm on the i64 value. */
function unary(scalar: Scalar): OpEmitter {
  return elementwise((f, [v], ctx) => {
    const t = new Trig(f, (data) => ctx.table(data));
    const [setX, x] = t.keep(f.i64ExtendI32S(v));
    return f.i32WrapI64(f.valueBlock([setX, scalar(t, x, (ctx.inputs[0] as Operand).frac, ctx.outputs[0].frac)], "i64"));
  });
}

export const TRIG_EMITTERS: Record<string, OpEmitter> = {
  Sin: unary(sin),
  Cos: unary(cos),
  Tan: unary(tan),
  Asin: unary(asin),
  Acos: unary(acos),
  Atan: unary(atan),
  Sinh: unary(sinh),
  Cosh: unary(cosh),
  Asinh: unary(asinh),
  Acosh: unary(acosh),
  Atanh: unary(atanh),
};
