/**
 * DynamicQuantizeLinear (ONNX): x to uint8 with a scale and zero point computed from x itself.
 * ONNX defines it in float32 arithmetic: scale = fl32((max(0, max x) - min(0, min x)) / 255),
 * zero_point = clamp(roundHalfEven(-fl32(min / scale)), 0, 255) and
 * y = clamp(roundHalfEven(fl32(x / scale)) + zero_point, 0, 255), where fl32 rounds to float32
 * (24 significant bits, ties to even). Those float32 roundings decide ties: x = -2.5 with a
 * range of 5 gives fl32(-2.5 / fl32(5 / 255)) = -127.49999 and so -127, where the exact -127.5
 * would round to -128. The kernel therefore reproduces each float32 rounding exactly, in
 * integers: a quotient num / den of positive integers is rounded to 24 significant bits
 * (`float32Quotient`), then to an integer, both half to even (QuantizeLinear's documented
 * exception to round half up). The range (raw units at x's frac) is itself rounded to float32
 * first, as float32 subtraction would. A range of 0 (x all zeros) gives scale 0, zero point 0
 * and y 0. Outputs: y and the zero point are integers at frac 0, the scale a real at ctx.frac
 * (narrowed once, round half up). Every intermediate is below 2^63; the JS kernel uses BigInt.
 */
import { narrowBig } from "../tensor/fixed.js";
import { Tensor } from "../tensor/tensor.js";
import { defineOp } from "./op.js";

/** The uint8 range, and the divisor of the range (qmax - qmin). */
const QMAX = 255;

/** Significant bits of a float32. */
const MANTISSA_BITS = 24;

const bitLength = (v: bigint): number => v.toString(2).length;

/** roundHalfEven(num / den) of non-negative num and positive den. */
function divHalfEven(num: bigint, den: bigint): bigint {
  const q = num / den;
  const twice = 2n * (num - q * den);
  return twice > den || (twice === den && (q & 1n) === 1n) ? q + 1n : q;
}

/**
 * fl32(num / den) for positive integers, as mantissa * 2^(exponent - 23) with the mantissa in
 * [2^23, 2^24] (2^24 when rounding carried): exponent = floor(log2(num / den)).
 */
export function float32Quotient(num: bigint, den: bigint): { mantissa: bigint; exponent: number } {
  let exponent = bitLength(num) - bitLength(den);
  const below = exponent >= 0 ? num < den << BigInt(exponent) : num << BigInt(-exponent) < den;
  if (below) exponent--;
  const shift = MANTISSA_BITS - 1 - exponent;
  const mantissa = shift >= 0 ? divHalfEven(num << BigInt(shift), den) : divHalfEven(num, den << BigInt(-shift));
  return { mantissa, exponent };
}

/** roundHalfEven(fl32(num / den)) for num >= 0, den > 0. */
export function roundedFloat32Quotient(num: bigint, den: bigint): bigint {
  if (num === 0n) return 0n;
  const { mantissa, exponent } = float32Quotient(num, den);
  const shift = MANTISSA_BITS - 1 - exponent;
  if (shift <= 0) return mantissa << BigInt(-shift);
  // Below 1/4 (shift > 25 leaves the mantissa under a half): 0.
  return shift > MANTISSA_BITS + 1 ? 0n : divHalfEven(mantissa, 1n << BigInt(shift));
}

/** fl32 of a non-negative integer: rounded to 24 significant bits, ties to even. */
export function float32OfInteger(v: bigint): bigint {
  const drop = bitLength(v) - MANTISSA_BITS;
  return drop <= 0 ? v : divHalfEven(v, 1n << BigInt(drop)) << BigInt(drop);
}

/**
 * The float32 scale as mantissa * 2^-k / 2^frac (mantissa < 2^24 + 1), from the range in raw
 * units at `frac`: fl32(fl32(range) / 255).
 */
export function dynamicScale(range: bigint): { mantissa: bigint; k: number } {
  const { mantissa, exponent } = float32Quotient(float32OfInteger(range), BigInt(QMAX));
  return { mantissa, k: MANTISSA_BITS - 1 - exponent };
}

/** roundHalfEven(fl32(v / scale)) of a raw value v, signed (both roundings are symmetric). */
export function quantizeByScale(v: bigint, scale: { mantissa: bigint; k: number }): bigint {
  const magnitude = v < 0n ? -v : v;
  const [num, den] = scale.k >= 0 ? [magnitude << BigInt(scale.k), scale.mantissa] : [magnitude, scale.mantissa << BigInt(-scale.k)];
  const q = roundedFloat32Quotient(num, den);
  return v < 0n ? -q : q;
}

const clampByte = (v: bigint): number => Number(v < 0n ? 0n : v > BigInt(QMAX) ? BigInt(QMAX) : v);

export function dynamicQuantizeLinear(x: Tensor, frac: number): [Tensor, Tensor, Tensor] {
  let [high, low] = [0, 0];
  for (const v of x.data) {
    if (v > high) high = v;
    if (v < low) low = v;
  }
  const range = BigInt(high) - BigInt(low);
  const y = new Int32Array(x.data.length);
  if (range === 0n) return [new Tensor([...x.shape], y, 0), new Tensor([], Int32Array.of(0), frac), new Tensor([], Int32Array.of(0), 0)];
  const scale = dynamicScale(range);
  const zeroPoint = clampByte(-quantizeByScale(BigInt(low), scale));
  for (let i = 0; i < y.length; i++) y[i] = clampByte(quantizeByScale(BigInt(x.data[i]), scale) + BigInt(zeroPoint));
  const scaleValue = narrowBig(scale.mantissa, scale.k + x.frac, frac);
  return [new Tensor([...x.shape], y, 0), new Tensor([], Int32Array.of(scaleValue), frac), new Tensor([], Int32Array.of(zeroPoint), 0)];
}

export const DynamicQuantizeLinear = defineOp({
  kind: "DynamicQuantizeLinear",
  summary: "x to uint8 with scale (max(0, max x) - min(0, min x)) / 255 and its zero point, float32's roundings reproduced in integers",
  inputs: ["x"],
  attrs: {},
  outputs: () => 3,
  infer: ([x], _attrs, ctx) => [{ shape: [...x.shape], frac: 0 }, { shape: [], frac: ctx.frac }, { shape: [], frac: 0 }],
  run: ([x], _attrs, ctx) => dynamicQuantizeLinear(x, ctx.frac),
});
