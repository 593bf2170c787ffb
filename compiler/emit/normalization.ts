/**
 * LayerNormalization and BatchNormalization (lib/ops/normalization.ts) as WASM, step for step:
 * the exact mean and deviations, the deviations scaled to a bounded width, the variance from the
 * exact i64 sum of squares, var + eps aligned (`addNonNegative`), one reciprocal square root per
 * group or channel (fixed-math.ts), then per element the product and the bias summed with 16
 * guard bits, each term clamped to +-2^51, rounded once and saturated (`affine`). Shift amounts
 * that depend on runtime bit lengths are i64 expressions; left shifts clamp first, exactly where
 * the kernel's exact (unbounded) value would be clamped or saturated anyway.
 */
import type { LayerNormAttrs, BatchNormAttrs } from "../../lib/ops/normalization.js";
import { ATTR_FRAC } from "../../lib/ops/op.js";
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import { sizeOf, stridesOf } from "../../lib/tensor/shape.js";
import type { Expr, Local } from "../binaryen.js";
import { FixedMath, runtime, type Shift } from "./fixed-math.js";
import { broadcastByteStrides, denseByteStrides, walk } from "./loops.js";
import { clamp64 } from "./numerics.js";
import type { Operand, OpEmitter } from "./types.js";

const GUARD_BITS = 16;
const TERM_LIMIT = 2n ** 51n;
const MEAN_EXTRA_FRAC = 20;

/** clampTerm(roundShift(v, s)): v / 2^s rounded half up, or v * 2^-s, clamped to +-2^51 (|v| < 2^62). */
function clampedShift(m: FixedMath, v: Expr, s: Shift): Expr {
  const f = m.f;
  const clampTerm = (e: Expr) => clamp64(f, e, -TERM_LIMIT, TERM_LIMIT);
  if (typeof s === "number" && s > 0) return clampTerm(m.roundShift(v, s));
  if (typeof s === "number") {
    // |v| beyond 2^51 >> -s + 1 lands beyond the clamp after the shift; below, the shift is exact.
    const limit = (TERM_LIMIT >> BigInt(Math.min(-s, 52))) + 1n;
    return clampTerm(f.i64Shl(clamp64(f, v, -limit, limit), m.c(-s)));
  }
  const [setS, sl] = m.keep(s.runtime);
  const [setV, vl] = m.keep(v);
  const up = f.local("i64");
  const limit = f.local("i64");
  return f.valueBlock([
    setS, setV,
    f.set(up, f.select(f.i64LtS(f.get(sl), m.c(-52)), m.c(52), f.i64Sub(m.c(0), f.get(sl)))),
    f.set(limit, f.i64Add(f.i64ShrS(m.c(TERM_LIMIT), f.get(up)), m.c(1))),
    f.select(f.i64GtS(f.get(sl), m.c(0)), clampTerm(m.roundShift(f.get(vl), runtime(f.get(sl)))),
      clampTerm(f.i64Shl(f.select(f.i64GtS(f.get(vl), f.get(limit)), f.get(limit),
        f.select(f.i64LtS(f.get(vl), f.i64Sub(m.c(0), f.get(limit))), f.i64Sub(m.c(0), f.get(limit)), f.get(vl))), f.get(up)))),
  ], "i64");
}

/** affine(): a * b / 2^productFrac + bias / 2^biasFrac at frac, 16 guard bits, one rounding, saturated. */
function affine(m: FixedMath, a: Expr, b: Expr, productFrac: Shift, bias: Expr, biasFrac: number, frac: number): Expr {
  const f = m.f;
  const guarded = frac + GUARD_BITS;
  const shift = typeof productFrac === "number" ? productFrac - guarded : runtime(f.i64Sub(productFrac.runtime, m.c(guarded)));
  const sum = f.i64Add(clampedShift(m, f.i64Mul(a, b), shift), clampedShift(m, bias, biasFrac - guarded));
  return m.saturate(m.roundShift(sum, GUARD_BITS));
}

/** addNonNegative(v, fv, c, fc): v/2^fv + c/2^fc as w at frac fr, both terms within 52 bits. */
function addNonNegative(m: FixedMath, v: Local, fv: Local, c: number, fc: number): { code: Expr[]; w: Local; fr: Local } {
  const f = m.f;
  const [w, fr, bitsV, bitsC] = Array.from({ length: 4 }, () => f.local("i64"));
  // bitsAt(c, fc, fr) for the constant c (an i32 attribute): its bit length moved to frac fr.
  const bitsCAt = (frExpr: Expr) => (c === 0 ? m.c(0) : f.i64Add(m.c(32 - Math.clz32(c) - fc), frExpr));
  return {
    code: [
      f.set(fr, f.select(f.i64GtS(f.get(fv), m.c(fc)), f.get(fv), m.c(fc))),
      f.set(bitsV, f.select(f.i64Eqz(f.get(v)), m.c(0), f.i64Add(m.bitLength(f.get(v)), f.i64Sub(f.get(fr), f.get(fv))))),
      f.set(bitsC, bitsCAt(f.get(fr))),
      f.set(bitsV, f.i64Sub(f.select(f.i64GtS(f.get(bitsV), f.get(bitsC)), f.get(bitsV), f.get(bitsC)), m.c(52))),
      f.if(f.i64GtS(f.get(bitsV), m.c(0)), f.set(fr, f.i64Sub(f.get(fr), f.get(bitsV)))),
      f.set(w, f.i64Add(m.roundShift(f.get(v), runtime(f.i64Sub(f.get(fv), f.get(fr)))), m.roundShift(m.c(c), runtime(f.i64Sub(m.c(fc), f.get(fr)))))),
    ],
    w,
    fr,
  };
}

export const LayerNormalizationEmitter: OpEmitter<LayerNormAttrs> = {
  emit: (ctx) => {
    const { f } = ctx;
    const [x, scale, bias] = ctx.inputs as (Operand | undefined)[] as [Operand, Operand, Operand | undefined];
    const out = ctx.outputs[0];
    const rank = x.shape.length;
    const axis = ctx.attrs.axis < 0 ? ctx.attrs.axis + rank : ctx.attrs.axis;
    const normalized = x.shape.slice(axis);
    const n = sizeOf(normalized);
    if (n === 0 || sizeOf(x.shape) === 0) return [];
    const m = new FixedMath(f, (data) => ctx.table(data));
    const bitsN = 32 - Math.clz32(n);
    const devBits = Math.floor((62 - bitsN) / 2);
    const meanShift = bitsN - 1;
    const normFrac = 30 - Math.ceil(bitsN / 2);
    const [sum, mean, maxDev, shift, devFrac, squares, c, variance, varianceFrac] = Array.from({ length: 9 }, () => f.local("i64"));
    const xAt = (p: Local) => f.i64ExtendI32S(f.i32Load(f.get(p), x.address));
    /** x * 2^20 - mean: the exact deviation (|.| < 2^53). */
    const deviation = (p: Local) => f.i64Sub(f.i64Shl(xAt(p), m.c(MEAN_EXTRA_FRAC)), f.get(mean));
    const scaledDeviation = (p: Local) => m.roundShift(deviation(p), runtime(f.get(shift)));
    const overGroup = (group: Local, body: (p: Local) => Expr[]) => walk(f, [n], [[4]], ([p]) => body(p), [f.get(group)]);
    const d = f.local("i64");
    const nv = addNonNegative(m, variance, varianceFrac, ctx.attrs.epsilon, ATTR_FRAC);
    const rs = m.rsqrt(f.get(nv.w), runtime(f.get(nv.fr)));
    const elementStrides = [denseByteStrides(normalized), broadcastByteStrides(scale.shape, normalized),
      ...(bias ? [broadcastByteStrides(bias.shape, normalized)] : [])];
    return walk(f, [sizeOf(x.shape) / n], [[n * 4]], ([group]) => [
      f.set(sum, m.c(0)),
      ...overGroup(group, (p) => [f.set(sum, f.i64Add(f.get(sum), xAt(p)))]),
      f.set(mean, m.divShiftRound(f.get(sum), MEAN_EXTRA_FRAC, m.c(n))),
      f.set(maxDev, m.c(0)),
      ...overGroup(group, (p) => [
        f.set(d, deviation(p)),
        f.set(d, m.abs(d)),
        f.if(f.i64GtS(f.get(d), f.get(maxDev)), f.set(maxDev, f.get(d))),
      ]),
      f.set(shift, f.select(f.i64Eqz(f.get(maxDev)), m.c(0), f.i64Sub(m.bitLength(f.get(maxDev)), m.c(devBits)))),
      f.set(devFrac, f.i64Sub(m.c(x.frac + MEAN_EXTRA_FRAC), f.get(shift))),
      f.set(squares, m.c(0)),
      ...overGroup(group, (p) => [f.set(d, scaledDeviation(p)), f.set(squares, f.i64Add(f.get(squares), f.i64Mul(f.get(d), f.get(d))))]),
      f.set(c, f.i64Sub(m.bitLength(f.get(squares)), m.c(51))),
      f.set(c, f.select(f.i64GtS(f.get(c), m.c(0)), f.get(c), m.c(0))),
      f.set(variance, m.divShiftRound(f.i64ShrU(f.get(squares), f.get(c)), meanShift, m.c(n))),
      f.set(varianceFrac, f.i64Sub(f.i64Add(f.i64Shl(f.get(devFrac), m.c(1)), m.c(meanShift)), f.get(c))),
      ...nv.code,
      // rsqrt of var + eps (w = 0 only when every deviation is 0: then r = k = 0).
      f.if(f.i64Eqz(f.get(nv.w)), [f.set(rs.r, m.c(0)), f.set(rs.k, m.c(0))], rs.code),
      ...walk(f, normalized, [[...elementStrides[0]], ...elementStrides.slice(1), denseByteStrides(normalized)], ([px, ps, ...rest]) => {
        const po = rest[rest.length - 1];
        const pb = bias ? rest[0] : undefined;
        const z = m.mulShift(scaledDeviation(px), f.get(rs.r), runtime(f.i64Sub(f.i64Add(f.get(rs.k), f.get(devFrac)), m.c(normFrac))));
        const value = affine(m, z, f.i64ExtendI32S(f.i32Load(f.get(ps), scale.address)), normFrac + scale.frac,
          pb && bias ? f.i64ExtendI32S(f.i32Load(f.get(pb), bias.address)) : m.c(0), bias ? bias.frac : 0, out.frac);
        return [f.i32Store(f.get(po), f.i32WrapI64(value), out.address)];
      }, [f.get(group), f.i32Const(0), ...(bias ? [f.i32Const(0)] : []), f.get(group)]),
    ]);
  },
};

export const BatchNormalizationEmitter: OpEmitter<BatchNormAttrs> = {
  emit: (ctx) => {
    const { f } = ctx;
    const [x, scale, bias, mean, variance] = ctx.inputs as Operand[];
    const out = ctx.outputs[0];
    const channels = x.shape[1];
    const spatial = sizeOf(x.shape.slice(2));
    const batch = x.shape[0];
    if (sizeOf(x.shape) === 0) return [];
    const m = new FixedMath(f, (data) => ctx.table(data));
    const common = Math.min(Math.max(x.frac, mean.frac), Math.min(x.frac, mean.frac) + 21);
    const [s, v, fv, a, aFrac, aligned, d, dShift, absS] = Array.from({ length: 9 }, () => f.local("i64"));
    const nv = addNonNegative(m, v, fv, ctx.attrs.epsilon, ATTR_FRAC);
    const rs = m.rsqrt(f.get(nv.w), runtime(f.get(nv.fr)));
    const load = (op: Operand, p: Local) => f.i64ExtendI32S(f.i32Load(f.get(p), op.address));
    const plane = stridesOf(x.shape)[1] * 4;
    return walk(f, [channels], [[4], [plane]], ([pc, pplane]) => [
      f.set(s, load(scale, pc)),
      f.set(v, load(variance, pc)),
      f.set(v, f.select(f.i64LtS(f.get(v), m.c(0)), m.c(0), f.get(v))),
      f.set(fv, m.c(variance.frac)),
      ...nv.code,
      f.if(f.i64Eqz(f.get(nv.w)), [f.set(rs.r, m.c(0)), f.set(rs.k, m.c(0))], rs.code),
      f.set(absS, m.abs(s)),
      f.set(absS, f.i64Sub(m.bitLength(f.get(absS)), m.c(1))),
      f.set(absS, f.select(f.i64GtS(f.get(absS), m.c(0)), f.get(absS), m.c(0))),
      f.set(a, m.mulShift(f.get(s), f.get(rs.r), runtime(f.get(absS)))),
      f.set(aFrac, f.i64Sub(f.i64Add(m.c(scale.frac), f.get(rs.k)), f.get(absS))),
      f.set(aligned, m.roundShift(load(mean, pc), mean.frac - common)),
      ...walk(f, [batch, spatial], [[channels * spatial * 4, 4], [channels * spatial * 4, 4]], ([px, po]) => [
        f.set(d, f.i64Sub(m.roundShift(f.i64ExtendI32S(f.i32Load(f.get(px), x.address)), x.frac - common), f.get(aligned))),
        f.set(dShift, f.i64Sub(m.bitLength(m.abs(d)), m.c(31))),
        f.set(dShift, f.select(f.i64GtS(f.get(dShift), m.c(0)), f.get(dShift), m.c(0))),
        f.i32Store(f.get(po), f.i32WrapI64(f.select(
          // (x - mean) * scale / 0 when var + eps is 0.
          f.i32And(f.i64Eqz(f.get(nv.w)), f.i32And(f.i64Ne(f.get(d), m.c(0)), f.i64Ne(f.get(s), m.c(0)))),
          f.select(f.i32Eq(f.i64GtS(f.get(d), m.c(0)), f.i64GtS(f.get(s), m.c(0))), m.c(I32_MAX), m.c(I32_MIN)),
          affine(m, m.roundShift(f.get(d), runtime(f.get(dShift))), f.get(a), runtime(f.i64Sub(f.i64Add(m.c(common), f.get(aFrac)), f.get(dShift))),
            load(bias, pc), bias.frac, out.frac))), out.address),
      ], [f.get(pplane), f.get(pplane)]),
    ]);
  },
};
