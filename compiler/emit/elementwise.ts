/**
 * The elementwise ops of lib/ops (relu.ts, binary.ts, unary-arith.ts, compare.ts) as WASM: one
 * broadcast walk over the output (loops.ts) that loads each input's element and stores one
 * computed i32. The arithmetic mirrors the kernels: exact i64 intermediates (an i32 shifted to
 * a common frac, or an i32 x i32 product, all below 2^63) narrowed ONCE with the saturating
 * narrowing of binary.ts; selections (Relu, Clip, Min/Max, Where) after rescale where the kernel
 * rescales. The FAST build adds and subtracts same-shape, same-frac tensors four lanes at a time
 * (the same saturated result, from the wrapping i32 sum and its overflow test).
 */
import type { ClipAttrs, HardSigmoidAttrs, LeakyReluAttrs } from "../../lib/ops/unary-arith.js";
import { ATTR_FRAC } from "../../lib/ops/op.js";
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import type { Expr, FunctionBuilder } from "../binaryen.js";
import { broadcastByteStrides, denseByteStrides, walk } from "./loops.js";
import { applyActivation, narrowSaturating, rescale32, rescaleConst, saturate64 } from "./numerics.js";
import type { EmitContext, Operand, OpEmitter } from "./types.js";

/** Store compute(inputs) at every output element, inputs broadcast to the output shape. */
export function emitElementwise(f: FunctionBuilder, inputs: readonly Operand[], out: Operand, compute: (values: Expr[]) => Expr): Expr[] {
  const strides = [...inputs.map((x) => broadcastByteStrides(x.shape, out.shape)), denseByteStrides(out.shape)];
  return walk(f, out.shape, strides, (ptrs) => [
    f.i32Store(f.get(ptrs[inputs.length]), compute(inputs.map((x, k) => f.i32Load(f.get(ptrs[k]), x.address))), out.address),
  ]);
}

/** Emitter of an op over all its (present) inputs with `compute`, then a fused Relu/Clip if any. */
export function elementwise(compute: (f: FunctionBuilder, values: Expr[], ctx: EmitContext) => Expr): OpEmitter {
  return {
    fusesActivation: true,
    emit: (ctx) => {
      const inputs = ctx.inputs.filter((x): x is Operand => x !== undefined);
      return emitElementwise(ctx.f, inputs, ctx.outputs[0], (values) => applyActivation(ctx.f, compute(ctx.f, values, ctx), ctx.activation));
    },
  };
}

/** A value used more than once: evaluate it into a local first. */
function share(f: FunctionBuilder, value: Expr, type: "i32" | "i64", use: (get: () => Expr) => Expr): Expr {
  const t = f.local(type);
  return f.valueBlock([f.set(t, value), use(() => f.get(t))], type === "i32" ? "i32" : "i64");
}

const i32Max = (f: FunctionBuilder, a: Expr, b: Expr) => share(f, a, "i32", (x) => share(f, b, "i32", (y) => f.select(f.i32GtS(x(), y()), x(), y())));
const i32Min = (f: FunctionBuilder, a: Expr, b: Expr) => share(f, a, "i32", (x) => share(f, b, "i32", (y) => f.select(f.i32LtS(x(), y()), x(), y())));

/** An i32 as an exact i64 scaled by 2^k. */
export function widen(f: FunctionBuilder, v: Expr, k: number): Expr {
  const wide = f.i64ExtendI32S(v);
  return k === 0 ? wide : f.i64Shl(wide, f.i64Const(k));
}

/**
 * FAST build, Add/Sub of two tensors of the output's shape and frac (a multiple of four values):
 * saturate64(x ± y) is the wrapping i32 result unless it overflowed (the operands of a sum have
 * the same sign and the result the other, or for a difference the operands differ in sign and
 * the result differs from x), then I32_MAX or I32_MIN by the sign of x.
 */
function emitAddSimd(ctx: EmitContext, sign: 1 | -1): Expr[] | undefined {
  const { f } = ctx;
  const [a, b] = ctx.inputs as Operand[];
  const out = ctx.outputs[0];
  const count = out.shape.reduce((n, d) => n * d, 1);
  const same = (t: Operand) => t.frac === out.frac && t.shape.length === out.shape.length && t.shape.every((d, i) => d === out.shape[i]);
  if (!ctx.fast || !same(a) || !same(b) || count % 4 !== 0) return undefined;
  const [x, y, r] = [f.local("v128"), f.local("v128"), f.local("v128")];
  const act = ctx.activation;
  const [lo, hi] = !act ? [I32_MIN, I32_MAX] : act.kind === "Relu" ? [0, I32_MAX] : [act.min, act.max];
  return walk(f, [count / 4], [[16], [16], [16]], ([pa, pb, po]) => {
    const overflow = sign === 1 ? f.v128And(f.v128Xor(f.get(r), f.get(x)), f.v128Xor(f.get(r), f.get(y)))
      : f.v128And(f.v128Xor(f.get(x), f.get(y)), f.v128Xor(f.get(x), f.get(r)));
    const saturated = f.v128Xor(f.i32x4ShrS(f.get(x), 31), f.v128ConstI32([I32_MAX, I32_MAX, I32_MAX, I32_MAX]));
    let v = f.v128Bitselect(saturated, f.get(r), f.i32x4ShrS(overflow, 31));
    if (lo !== I32_MIN) v = f.i32x4MaxS(v, f.v128ConstI32([lo, lo, lo, lo]));
    if (hi !== I32_MAX) v = f.i32x4MinS(v, f.v128ConstI32([hi, hi, hi, hi]));
    return [
      f.set(x, f.v128Load(f.get(pa), a.address)),
      f.set(y, f.v128Load(f.get(pb), b.address)),
      f.set(r, (sign === 1 ? f.i32x4Add : f.i32x4Sub).call(f, f.get(x), f.get(y))),
      f.v128Store(f.get(po), v, out.address),
    ];
  });
}

/** x * 2^(common - fa) + sign * y * 2^(common - fb) at frac common, narrowed to the output frac. */
function addSigned(sign: 1 | -1): OpEmitter {
  const scalar = elementwise((f, [x, y], ctx) => {
    const [a, b] = ctx.inputs as Operand[];
    const common = Math.max(a.frac, b.frac);
    const sum = (sign === 1 ? f.i64Add : f.i64Sub).call(f, widen(f, x, common - a.frac), widen(f, y, common - b.frac));
    return narrowSaturating(f, sum, common, ctx.outputs[0].frac);
  });
  return { fusesActivation: true, emit: (ctx) => emitAddSimd(ctx, sign) ?? scalar.emit(ctx) };
}

/** Min/Max: every input rescaled to the output frac, then the pick. */
function pick(choose: typeof i32Max): OpEmitter {
  return elementwise((f, values, ctx) => {
    const to = ctx.outputs[0].frac;
    const scaled = values.map((v, k) => rescale32(f, v, (ctx.inputs[k] as Operand).frac, to));
    return scaled.reduce((acc, v) => choose(f, acc, v));
  });
}

/** x >= 0 ? rescale(x) : narrow(x * slope): LeakyRelu and PRelu. */
function leaky(f: FunctionBuilder, x: Expr, slope: Expr, xFrac: number, slopeFrac: number, to: number): Expr {
  return share(f, x, "i32", (v) => f.select(f.i32GeS(v(), f.i32Const(0)), rescale32(f, v(), xFrac, to),
    narrowSaturating(f, f.i64Mul(f.i64ExtendI32S(v()), f.i64ExtendI32S(slope)), xFrac + slopeFrac, to)));
}

/** a (relation) b compared exactly at the common frac: 1 or 0. */
function comparison(relation: "eq" | "lt" | "gt"): OpEmitter {
  return elementwise((f, [x, y], ctx) => {
    const [a, b] = ctx.inputs as Operand[];
    const common = Math.max(a.frac, b.frac);
    const [wa, wb] = [widen(f, x, common - a.frac), widen(f, y, common - b.frac)];
    return relation === "eq" ? f.i64Eq(wa, wb) : relation === "lt" ? f.i64LtS(wa, wb) : f.i64GtS(wa, wb);
  });
}

export const ELEMENTWISE_EMITTERS: Record<string, OpEmitter> = {
  Relu: elementwise((f, [x]) => i32Max(f, x, f.i32Const(0))),
  Add: addSigned(1),
  Sub: addSigned(-1),
  Mul: elementwise((f, [x, y], ctx) => {
    const [a, b] = ctx.inputs as Operand[];
    return narrowSaturating(f, f.i64Mul(f.i64ExtendI32S(x), f.i64ExtendI32S(y)), a.frac + b.frac, ctx.outputs[0].frac);
  }),
  Max: pick(i32Max),
  Min: pick(i32Min),
  Neg: elementwise((f, [x]) => saturate64(f, f.i64Sub(f.i64Const(0), f.i64ExtendI32S(x)))),
  Abs: elementwise((f, [x]) => share(f, x, "i32", (v) =>
    f.select(f.i32LtS(v(), f.i32Const(0)), saturate64(f, f.i64Sub(f.i64Const(0), f.i64ExtendI32S(v()))), v()))),
  LeakyRelu: elementwise((f, [x], ctx) => leaky(f, x, f.i32Const((ctx.attrs as LeakyReluAttrs).alpha), (ctx.inputs[0] as Operand).frac, ATTR_FRAC, ctx.outputs[0].frac)),
  PRelu: elementwise((f, [x, slope], ctx) => {
    const [a, s] = ctx.inputs as Operand[];
    return leaky(f, x, slope, a.frac, s.frac, ctx.outputs[0].frac);
  }),
  Clip: elementwise((f, [x], ctx) => {
    const { min, max } = ctx.attrs as ClipAttrs;
    const frac = (ctx.inputs[0] as Operand).frac;
    const bound = (v: number) => (v === I32_MIN || v === I32_MAX ? v : rescaleConst(v, ATTR_FRAC, frac));
    return i32Min(f, i32Max(f, x, f.i32Const(bound(min))), f.i32Const(bound(max)));
  }),
  HardSigmoid: elementwise((f, [x], ctx) => {
    const { alpha, beta } = ctx.attrs as HardSigmoidAttrs;
    const xFrac = (ctx.inputs[0] as Operand).frac;
    const to = ctx.outputs[0].frac;
    const value = f.i64Add(f.i64Mul(f.i64ExtendI32S(x), f.i64Const(alpha)), f.i64Const(BigInt(beta) << BigInt(xFrac)));
    return i32Min(f, i32Max(f, narrowSaturating(f, value, xFrac + ATTR_FRAC, to), f.i32Const(0)), f.i32Const(2 ** to));
  }),
  Equal: comparison("eq"),
  Less: comparison("lt"),
  Greater: comparison("gt"),
  Where: elementwise((f, [c, x, y], ctx) => {
    const [, a, b] = ctx.inputs as Operand[];
    const to = ctx.outputs[0].frac;
    return f.select(f.i32Ne(c, f.i32Const(0)), rescale32(f, x, a.frac, to), rescale32(f, y, b.frac, to));
  }),
};
