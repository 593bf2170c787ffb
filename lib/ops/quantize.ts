/**
 * The quantization ops: QuantizeLinear and DequantizeLinear (real <-> 8-bit style integers with a
 * scale and a zero point), and MatMulInteger / ConvInteger (MatMul and Conv whose output is at
 * frac 0, so that integer operands give their exact integer sums: the accumulators of ONNX's
 * QLinearMatMul, QLinearConv, MatMulInteger and ConvInteger). The scale is not an attribute in
 * float: the converter folds it into an integer `multiplier` tensor (per tensor, or per channel
 * through broadcasting) and a power-of-two `shift`, so the kernels only multiply and shift.
 * Numerics (docs/numerics.md, "Quantization"):
 * - QuantizeLinear y = clamp(roundHalfEven(x * multiplier / 2^shift) + zero_point, low, high):
 *   x * multiplier is an exact product below 2^62, the division by a power of two rounds HALF TO
 *   EVEN (ONNX's rule, a documented exception to round half up), the sum is exact, and the
 *   clamp to [low, high] (the integer type's range) is the only saturation.
 * - DequantizeLinear y = (x - zero_point) * multiplier / 2^shift, the exact i64 product narrowed
 *   ONCE to ctx.frac like every other op (round half up, saturating).
 * The JS kernels use float64 where every intermediate is provably below 2^53, BigInt otherwise.
 */
import { narrow, narrowBig } from "../tensor/fixed.js";
import { broadcastShapes, sameShape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { exactInFloat } from "./accumulate.js";
import { broadcastInputs, narrowWide } from "./binary.js";
import { type ConvAttrs, conv, Conv } from "./conv.js";
import { matmul, MatMul } from "./matmul.js";
import { check, defineOp, type TensorType } from "./op.js";

export type QuantizeAttrs = { shift: number; low: number; high: number };
export type DequantizeAttrs = { shift: number };

/** Largest right shift that matters: |x * multiplier| < 2^62, so any larger shift rounds to 0. */
const MAX_SHIFT = 63;

/**
 * roundHalfEven(p / 2^t) of an exact integer p (|p| <= 2^62) and 0 <= t <= 63. The floor
 * quotient q and remainder r (0 <= r < 2^t) decide: above half rounds up, exactly half rounds
 * to the even neighbour.
 */
export function roundHalfEvenShift(p: number | bigint, t: number): bigint {
  const v = BigInt(p);
  if (t === 0) return v;
  const q = v >> BigInt(t);
  const r = v - (q << BigInt(t));
  const half = 1n << BigInt(t - 1);
  return r > half || (r === half && (q & 1n) === 1n) ? q + 1n : q;
}

/** The same on float64 for |p| < 2^53 (floor division by a power of two is exact there). */
function roundHalfEvenShiftSmall(p: number, t: number): number {
  const d = 2 ** t;
  const q = Math.floor(p / d);
  const r = p - q * d;
  const half = d / 2;
  return r > half || (r === half && q % 2 !== 0) ? q + 1 : q;
}

/** Shape checks shared by both ops: multiplier and zero point are integers broadcast to x's shape. */
function checkParams(op: string, x: TensorType, multiplier: TensorType, zeroPoint: TensorType): void {
  check(multiplier.frac === 0 && zeroPoint.frac === 0, `${op}: multiplier and zero_point must be integer tensors at frac 0`);
  let shape: number[];
  try {
    shape = broadcastShapes(x.shape, multiplier.shape, zeroPoint.shape);
  } catch {
    throw new Error(`${op}: multiplier [${multiplier.shape.join(",")}] and zero_point [${zeroPoint.shape.join(",")}] do not broadcast to x [${x.shape.join(",")}]`);
  }
  check(sameShape(shape, x.shape), `${op}: multiplier [${multiplier.shape.join(",")}] and zero_point [${zeroPoint.shape.join(",")}] would enlarge x [${x.shape.join(",")}]`);
}

/** The right shift a QuantizeLinear of an input at `frac` performs, checked (0..63). */
export function quantizeShift(shift: number, frac: number): number {
  const t = shift + frac;
  check(t >= 0, `QuantizeLinear: shift ${shift} plus the input frac ${frac} is negative (a multiplier of 2^${-t} or more per unit is not supported)`);
  return Math.min(t, MAX_SHIFT);
}

export function quantizeLinear(x: Tensor, multiplier: Tensor, zeroPoint: Tensor, attrs: QuantizeAttrs): Tensor {
  const t = quantizeShift(attrs.shift, x.frac);
  const { shape, index } = broadcastInputs([x.shape, multiplier.shape, zeroPoint.shape]);
  const [ix, im, iz] = index;
  const out = new Int32Array(ix.length);
  for (let i = 0; i < out.length; i++) {
    const p = x.data[ix[i]] * multiplier.data[im[i]];
    const q = Math.abs(p) < 2 ** 53 ? roundHalfEvenShiftSmall(p, t) : Number(roundHalfEvenShift(BigInt(x.data[ix[i]]) * BigInt(multiplier.data[im[i]]), t));
    const y = q + zeroPoint.data[iz[i]];
    out[i] = y < attrs.low ? attrs.low : y > attrs.high ? attrs.high : y;
  }
  return new Tensor(shape, out, 0);
}

/**
 * (x - zero_point) * multiplier at frac `shift`, narrowed to `frac`. The i64 product wraps like
 * WASM's i64.mul, which only the extreme |x - zero_point| = 2^32 with |multiplier| near 2^31
 * could reach (the converter's zero points are 8- or 16-bit). float64 when provably exact.
 */
export function dequantizeLinear(x: Tensor, multiplier: Tensor, zeroPoint: Tensor, attrs: DequantizeAttrs, frac: number): Tensor {
  const { shape, index } = broadcastInputs([x.shape, multiplier.shape, zeroPoint.shape]);
  const [ix, im, iz] = index;
  const out = new Int32Array(ix.length);
  for (let i = 0; i < out.length; i++) {
    const centered = x.data[ix[i]] - zeroPoint.data[iz[i]];
    const product = centered * multiplier.data[im[i]];
    if (exactInFloat(Math.abs(product), attrs.shift, frac)) {
      out[i] = narrow(product, attrs.shift, frac);
      continue;
    }
    const p = BigInt.asIntN(64, BigInt(centered) * BigInt(multiplier.data[im[i]]));
    out[i] = attrs.shift >= frac ? narrowBig(p, attrs.shift, frac) : narrowWide(p, attrs.shift, frac);
  }
  return new Tensor(shape, out, frac);
}

/** MatMul of integer operands at frac 0: the exact integer dot products (saturated to i32). */
export function matMulInteger(a: Tensor, b: Tensor): Tensor {
  return matmul(a, b, 0);
}

/** Conv of integer operands at frac 0: the exact integer sums plus bias (saturated to i32). */
export function convInteger(x: Tensor, w: Tensor, b?: Tensor, attrs: Partial<ConvAttrs> = {}): Tensor {
  return conv(x, w, b, attrs, 0);
}

export const QuantizeLinear = defineOp<QuantizeAttrs>({
  kind: "QuantizeLinear",
  summary: "y = clamp(roundHalfEven(x * multiplier / 2^shift) + zero_point, low, high), integers at frac 0",
  inputs: ["x", "multiplier", "zero_point"],
  attrs: {
    shift: { type: "int", doc: "the real multiplier is multiplier / 2^shift (1/scale for ONNX's QuantizeLinear)" },
    low: { type: "int", default: 0, doc: "smallest output (the integer type's minimum)" },
    high: { type: "int", default: 255, doc: "largest output (the integer type's maximum)" },
  },
  outputs: () => 1,
  infer: ([x, m, z], attrs) => {
    checkParams("QuantizeLinear", x, m, z);
    quantizeShift(attrs.shift, x.frac);
    check(attrs.low <= attrs.high, `QuantizeLinear: low ${attrs.low} is above high ${attrs.high}`);
    return [{ shape: [...x.shape], frac: 0 }];
  },
  run: ([x, m, z], attrs) => [quantizeLinear(x, m, z, attrs)],
});

export const DequantizeLinear = defineOp<DequantizeAttrs>({
  kind: "DequantizeLinear",
  summary: "y = (x - zero_point) * multiplier / 2^shift for an integer x, one rounding to ctx.frac",
  inputs: ["x", "multiplier", "zero_point"],
  attrs: { shift: { type: "int", doc: "the real scale is multiplier / 2^shift" } },
  outputs: () => 1,
  infer: ([x, m, z], attrs, ctx) => {
    checkParams("DequantizeLinear", x, m, z);
    check(x.frac === 0, `DequantizeLinear: x must be an integer tensor at frac 0, got frac ${x.frac}`);
    check(attrs.shift - ctx.frac <= 62 && ctx.frac - attrs.shift <= 63, `DequantizeLinear: shift ${attrs.shift} is out of range for output frac ${ctx.frac}`);
    return [{ shape: [...x.shape], frac: ctx.frac }];
  },
  run: ([x, m, z], attrs, ctx) => [dequantizeLinear(x, m, z, attrs, ctx.frac)],
});

export const MatMulInteger = defineOp({
  kind: "MatMulInteger",
  summary: "MatMul written at frac 0: the exact integer dot products of integer operands (saturated to i32)",
  inputs: ["A", "B"],
  attrs: {},
  outputs: () => 1,
  infer: (inputs, attrs) => [{ ...MatMul.infer(inputs, attrs, { frac: 0 })[0], frac: 0 }],
  run: ([a, b]) => [matMulInteger(a, b)],
});

export const ConvInteger = defineOp<ConvAttrs>({
  kind: "ConvInteger",
  summary: "Conv written at frac 0: the exact integer sums of integer operands plus bias (saturated to i32)",
  inputs: Conv.inputs,
  attrs: Conv.attrs,
  outputs: () => 1,
  infer: (inputs, attrs) => [{ ...Conv.infer(inputs, attrs, { frac: 0 })[0], frac: 0 }],
  run: ([x, w, b], attrs) => [convInteger(x, w, b, attrs)],
});

export const QUANTIZE_OPS = [QuantizeLinear, DequantizeLinear, MatMulInteger, ConvInteger] as const;
