/**
 * The pointwise nonlinear ops of lib/ops/unary-math.ts and fixed-erf.ts (Exp, Log, Sqrt,
 * Reciprocal, Pow, Sigmoid, Tanh, Erf, Gelu, Elu) and Div, as elementwise walks whose body is
 * the kernel's integer algorithm on i64 (fixed-math.ts here), step for step. Div's integer
 * modes (floor, trunc) are exact i64 division, in integer-division.ts.
 */
import type { DivAttrs } from "../../lib/ops/div.js";
import { ERF_POLY, GELU_CUBIC_Q30, INV_SQRT2_Q30, SQRT_2_OVER_PI_Q30 } from "../../lib/ops/fixed-erf.js";
import { ONE_Q30 } from "../../lib/ops/fixed-math.js";
import { ATTR_FRAC } from "../../lib/ops/op.js";
import type { EluAttrs, GeluAttrs, PowAttrs } from "../../lib/ops/unary-math.js";
import { I32_MAX } from "../../lib/tensor/fixed.js";
import type { Expr } from "../binaryen.js";
import { elementwise } from "./elementwise.js";
import { FixedMath } from "./fixed-math.js";
import { integerQuotient } from "./integer-division.js";
import { roundShift64 } from "./numerics.js";
import type { EmitContext, Operand, OpEmitter } from "./types.js";

/** Where erf is +-1: |z| >= 4.5 at Q28 (fixed-erf.ts). */
const ERF_LIMIT_Q28 = 9n << 27n;

/** erfQ28ToQ30: erf(z / 2^28) at Q30 from the table of 9 degree-7 polynomials. */
function erfQ28ToQ30(m: FixedMath, z: Expr): Expr {
  const f = m.f;
  const [setZ, zl] = m.keep(z);
  const [a, i, u, p] = Array.from({ length: 4 }, () => f.local("i64"));
  const coefficient = (n: number) => m.lookup(ERF_POLY.flat(), f.i64Add(f.i64Mul(f.get(i), m.c(8)), m.c(n)));
  const horner = [f.set(p, coefficient(7))];
  for (let n = 6; n >= 0; n--) horner.push(f.set(p, f.i64Add(coefficient(n), m.mulShift(f.get(p), f.get(u), 30))));
  return f.valueBlock([
    setZ,
    f.set(a, m.abs(zl)),
    f.if(f.i64GeS(f.get(a), m.c(ERF_LIMIT_Q28)), f.set(p, m.c(ONE_Q30)), [
      f.set(i, f.i64ShrS(f.get(a), m.c(27))),
      f.set(u, f.i64Shl(f.i64Sub(f.i64Sub(f.get(a), f.i64Shl(f.get(i), m.c(27))), m.c(2 ** 26)), m.c(4))),
      ...horner,
      f.set(p, f.select(f.i64LtS(f.get(p), m.c(0)), m.c(0), f.select(f.i64GtS(f.get(p), m.c(ONE_Q30)), m.c(ONE_Q30), f.get(p)))),
    ]),
    f.select(f.i64LtS(f.get(zl), m.c(0)), f.i64Sub(m.c(0), f.get(p)), f.get(p)),
  ], "i64");
}

/** +-2^30 by the sign of x when |x| >= limit (at frac fx, as limit2 = 2 * limit * 2^fx), else `inner`. */
function saturatedOr(m: FixedMath, x: Local64, limit2: bigint, inner: () => Expr): Expr {
  const f = m.f;
  return f.select(f.i64GeS(f.i64Shl(m.abs(x), m.c(1)), m.c(limit2)),
    f.select(f.i64LtS(f.get(x), m.c(0)), m.c(-ONE_Q30), m.c(ONE_Q30)), inner());
}
type Local64 = ReturnType<FixedMath["keep"]>[1];

/** x * (1 + g) / 2 at frac fo: one rounding, saturated. */
function halfXTimesOnePlus(m: FixedMath, x: Local64, fx: number, g: Expr, fo: number): Expr {
  return m.saturate(m.mulShift(m.f.get(x), m.f.i64Add(m.c(ONE_Q30), g), 31 + fx - fo));
}

type Scalar = (m: FixedMath, x: Local64, fx: number, fo: number, ctx: EmitContext) => Expr;

const erf: Scalar = (m, x, fx, fo) =>
  roundShift64(m.f, saturatedOr(m, x, 9n << BigInt(fx), () => erfQ28ToQ30(m, roundShift64(m.f, m.f.get(x), fx - 28))), 30 - fo);

const gelu: Scalar = (m, x, fx, fo, ctx) => {
  const f = m.f;
  if ((ctx.attrs as GeluAttrs).approximate === "tanh") {
    const g = saturatedOr(m, x, 12n << BigInt(fx), () => {
      const [setQ, xq] = m.keep(roundShift64(f, f.get(x), fx - 26));
      const cube = m.mulShift(m.mulShift(f.get(xq), f.get(xq), 26), f.get(xq), 26);
      const inner = f.i64Add(f.get(xq), m.mulShift(cube, m.c(GELU_CUBIC_Q30), 30));
      return f.valueBlock([setQ, m.tanh(m.mulShift(inner, m.c(SQRT_2_OVER_PI_Q30), 30), 26, 30)], "i64");
    });
    return halfXTimesOnePlus(m, x, fx, g, fo);
  }
  const g = saturatedOr(m, x, 14n << BigInt(fx), () => erfQ28ToQ30(m, m.mulShift(f.get(x), m.c(INV_SQRT2_Q30), fx + 2)));
  return halfXTimesOnePlus(m, x, fx, g, fo);
};

/** fixedSqrt: (floor(sqrt(x * 2^t)) + 1) >> 1 with t = 2 fo - fx + 2; x <= 0 gives 0. */
const sqrt: Scalar = (m, x, fx, fo) => {
  const f = m.f;
  const t = 2 * fo - fx + 2;
  const root = t >= 0 ? m.sqrtFloorShifted(f.get(x), t) : m.sqrtFloorShifted(f.i64ShrS(f.get(x), m.c(-t)), 0);
  return f.select(f.i64LeS(f.get(x), m.c(0)), m.c(0),
    f.select(f.i64GtS(f.i64Add(m.bitLength(f.get(x)), m.c(t)), m.c(64)), m.c(I32_MAX),
      m.saturate(f.i64ShrS(f.i64Add(root, m.c(1)), m.c(1)))));
};

const reciprocal: Scalar = (m, x, fx, fo) => m.saturate(m.divShiftRound(m.c(1), fx + fo, m.f.get(x)));

/** rescale() of an i32 held as i64. */
function rescale(m: FixedMath, x: Local64, fx: number, fo: number): Expr {
  if (fx >= fo) return roundShift64(m.f, m.f.get(x), fx - fo);
  return m.saturate(m.f.i64Shl(m.f.get(x), m.c(fo - fx)));
}

const elu: Scalar = (m, x, fx, fo, ctx) => {
  const f = m.f;
  const expm1 = f.i64Sub(m.exp(f.get(x), fx, 30), m.c(ONE_Q30));
  return f.select(f.i64GeS(f.get(x), m.c(0)), rescale(m, x, fx, fo),
    m.saturate(m.mulShift(expm1, m.c((ctx.attrs as EluAttrs).alpha), 30 + ATTR_FRAC - fo)));
};

/** fixedPowInt: acc = 1, then |n| times acc = saturate(mulShift(acc, base, baseFrac)). */
const pow: Scalar = (m, x, fx, fo, ctx) => {
  const { exponent } = ctx.attrs as PowAttrs;
  if (exponent === 2 ** (ATTR_FRAC - 1)) return sqrt(m, x, fx, fo, ctx);
  const n = exponent / 2 ** ATTR_FRAC;
  const f = m.f;
  const [setBase, base] = m.keep(n >= 0 ? f.get(x) : reciprocal(m, x, fx, fo, ctx));
  const acc = f.local("i64");
  return f.valueBlock([
    setBase,
    f.set(acc, m.c(2 ** fo)),
    f.loop(Math.abs(n), () => [f.set(acc, m.saturate(m.mulShift(f.get(acc), f.get(base), n >= 0 ? fx : fo)))]),
    f.get(acc),
  ], "i64");
};

/** An elementwise op over one input: the scalar algorithm on the i64 value. */
function unary(scalar: Scalar): OpEmitter {
  return elementwise((f, [v], ctx) => {
    const m = new FixedMath(f, (data) => ctx.table(data));
    const [setX, xl] = m.keep(f.i64ExtendI32S(v));
    return f.i32WrapI64(f.valueBlock([setX, scalar(m, xl, (ctx.inputs[0] as Operand).frac, ctx.outputs[0].frac, ctx)], "i64"));
  });
}

/** Div: saturate(divShiftRound(a, frac + fb - fa, b)); the floor and trunc modes in integer-division.ts. */
const DivEmitter = elementwise((f, [x, y], ctx) => {
  if ((ctx.attrs as DivAttrs).mode !== "real") return integerQuotient(f, x, y, ctx as EmitContext<DivAttrs>);
  const [a, b] = ctx.inputs as Operand[];
  const m = new FixedMath(f, (data) => ctx.table(data));
  return f.i32WrapI64(m.saturate(m.divShiftRound(f.i64ExtendI32S(x), ctx.outputs[0].frac + b.frac - a.frac, f.i64ExtendI32S(y))));
});

export const MATH_EMITTERS: Record<string, OpEmitter> = {
  Div: DivEmitter,
  Exp: unary((m, x, fx, fo) => m.exp(m.f.get(x), fx, fo)),
  Log: unary((m, x, fx, fo) => m.log(m.f.get(x), fx, fo)),
  Sqrt: unary(sqrt),
  Reciprocal: unary(reciprocal),
  Pow: unary(pow),
  Sigmoid: unary((m, x, fx, fo) => m.sigmoid(m.f.get(x), fx, fo)),
  Tanh: unary((m, x, fx, fo) => m.tanh(m.f.get(x), fx, fo)),
  Erf: unary(erf),
  Gelu: unary(gelu),
  Elu: unary(elu),
};
