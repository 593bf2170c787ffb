/**
 * The quantization ops of lib/ops/quantize.ts as WASM. QuantizeLinear and DequantizeLinear are
 * elementwise walks over x with the multiplier and zero point broadcast to it (a per-channel
 * multiplier is a [C, 1, ...] tensor); MatMulInteger and ConvInteger are the MatMul and Conv
 * emitters themselves, which write at the output operand's frac (0 for these ops).
 * QuantizeLinear: p = x * multiplier (i64, |p| <= 2^62), then roundHalfEven(p / 2^t) from the
 * arithmetic shift q = p >> t and the remainder r = p & (2^t - 1): q + 1 when r > 2^(t-1), or
 * when r = 2^(t-1) and q is odd; then + zero_point (exact in i64) and the clamp to [low, high].
 */
import { quantizeShift, type DequantizeAttrs, type QuantizeAttrs } from "../../lib/ops/quantize.js";
import type { Expr, FunctionBuilder } from "../binaryen.js";
import { ConvEmitter } from "./conv.js";
import { elementwise } from "./elementwise.js";
import { MatMulEmitter } from "./matmul.js";
import { clamp64, narrowSaturating } from "./numerics.js";
import type { Operand, OpEmitter } from "./types.js";

/** roundHalfEven(p / 2^t) of an i64 p with |p| <= 2^62, 0 <= t <= 63. */
function roundHalfEvenShift64(f: FunctionBuilder, p: Expr, t: number): Expr {
  if (t === 0) return p;
  const [v, q, r] = [f.local("i64"), f.local("i64"), f.local("i64")];
  const half = 1n << BigInt(t - 1);
  // The two conditions exclude each other, so their 0/1 sum is their disjunction.
  const roundsUp = f.i32Add(
    f.i64GtS(f.get(r), f.i64Const(half)),
    f.i32And(f.i64Eq(f.get(r), f.i64Const(half)), f.i32WrapI64(f.i64And(f.get(q), f.i64Const(1)))),
  );
  return f.valueBlock([
    f.set(v, p),
    f.set(q, f.i64ShrS(f.get(v), f.i64Const(t))),
    // The remainder of the floor division: the low t bits (t = 63 keeps all but the sign bit).
    f.set(r, f.i64And(f.get(v), f.i64Const((1n << BigInt(t)) - 1n))),
    f.i64Add(f.get(q), f.i64ExtendI32U(roundsUp)),
  ], "i64");
}

const QuantizeLinearEmitter = elementwise((f, [x, multiplier, zeroPoint], ctx) => {
  const { shift, low, high } = ctx.attrs as QuantizeAttrs;
  const t = quantizeShift(shift, (ctx.inputs[0] as Operand).frac);
  const product = f.i64Mul(f.i64ExtendI32S(x), f.i64ExtendI32S(multiplier));
  const shifted = f.i64Add(roundHalfEvenShift64(f, product, t), f.i64ExtendI32S(zeroPoint));
  return f.i32WrapI64(clamp64(f, shifted, BigInt(low), BigInt(high)));
});

const DequantizeLinearEmitter = elementwise((f, [x, multiplier, zeroPoint], ctx) => {
  const { shift } = ctx.attrs as DequantizeAttrs;
  const centered = f.i64Sub(f.i64ExtendI32S(x), f.i64ExtendI32S(zeroPoint));
  return narrowSaturating(f, f.i64Mul(centered, f.i64ExtendI32S(multiplier)), shift, ctx.outputs[0].frac);
});

export const QUANTIZE_EMITTERS: Record<string, OpEmitter<any>> = {
  QuantizeLinear: QuantizeLinearEmitter,
  DequantizeLinear: DequantizeLinearEmitter,
  MatMulInteger: MatMulEmitter,
  ConvInteger: ConvEmitter,
};
