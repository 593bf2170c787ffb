/**
 * LayerNormalization (ONNX opset 17: axis, epsilon; output Y only) and BatchNormalization
 * (inference: y = (x - mean) * scale / sqrt(var + eps) + B per channel of axis 1), at ctx.frac.
 * Integer algorithm (docs/numerics.md): the exact deviations from the mean, the variance as an
 * exact sum of squares, one reciprocal square root per group or channel by integer sqrt and
 * division (rsqrt in fixed-math.ts, relative error < 1.5 * 2^-30), then a product and the bias
 * summed with 16 guard bits and rounded once to the output frac.
 * LayerNormalization first scales each group's deviations so that the largest has
 * floor((62 - bitLength(N)) / 2) significant bits (exact when they are smaller), which keeps the
 * sum of squares below 2^62 (an i64; JS sums the squares in two exact parts).
 * A zero variance with epsilon 0 gives (x - mean) / 0: 0 in LayerNormalization (all deviations
 * are 0) and +-I32_MAX by the sign of (x - mean) * scale in BatchNormalization; a negative
 * running variance counts as 0.
 */
import { I32_MAX, I32_MIN, roundShift, saturate } from "../tensor/fixed.js";
import { broadcastIndex, sizeOf, type Shape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { bitLength, divShiftRound, mulShift, rsqrt } from "./fixed-math.js";
import { ATTR_FRAC, type TensorType, check, defineOp, resolveAttrs } from "./op.js";

/** Largest LayerNormalization group (product of the normalized dimensions): sums stay below 2^51. */
export const MAX_NORM_SIZE = 2 ** 20 - 1;
/** Extra fractional bits of the LayerNormalization mean (its rounding error is 2^-21 input units). */
const MEAN_EXTRA_FRAC = 20;
/** Guard bits of the final sum, and the clamp of each term (both beyond i32 at the output frac). */
const GUARD_BITS = 16;
const TERM_LIMIT = 2 ** 51;

const clampTerm = (v: number): number => (v > TERM_LIMIT ? TERM_LIMIT : v < -TERM_LIMIT ? -TERM_LIMIT : v);

/**
 * a * b / 2^productFrac + bias / 2^biasFrac at frac `frac`: both terms at frac + 16 (rounded half
 * up, clamped to +-2^51), summed exactly, rounded half up once to `frac` and saturated.
 * |a * b| < 2^62. The error is below 0.5 + 2^-16 units of the output.
 */
function affine(a: number, b: number, productFrac: number, bias: number, biasFrac: number, frac: number): number {
  const guarded = frac + GUARD_BITS;
  const product = clampTerm(mulShift(a, b, productFrac - guarded));
  const offset = clampTerm(roundShift(bias, biasFrac - guarded));
  return saturate(roundShift(product + offset, GUARD_BITS));
}

/** Bits of a non-negative integer v at frac `from` once moved to frac `to` (0 for 0). */
const bitsAt = (v: number, from: number, to: number): number => (v === 0 ? 0 : bitLength(v) + to - from);

/**
 * v / 2^fv + c / 2^fc for non-negative integers below 2^52, as an integer w < 2^53 at frac f:
 * both aligned to the larger frac, lowered (rounding half up) until each term fits 52 bits.
 */
function addNonNegative(v: number, fv: number, c: number, fc: number): { w: number; f: number } {
  let f = Math.max(fv, fc);
  const excess = Math.max(bitsAt(v, fv, f), bitsAt(c, fc, f)) - 52;
  if (excess > 0) f -= excess;
  return { w: roundShift(v, fv - f) + roundShift(c, fc - f), f };
}

/**
 * floor(sum of v_i^2 / 2^c) below 2^51, and c (0 when the sum is already below 2^51), for
 * integers |v_i| < 2^31 with n * max v_i^2 < 2^62. i64 code sums the squares directly; JS
 * splits |v| = a * 2^13 + b so that v^2 = (a^2 + floor(ab / 2^12)) * 2^26 + (ab mod 2^12) * 2^14 + b^2
 * and sums the parts above and below 2^26 separately, both exactly.
 */
function sumOfSquares(v: Float64Array, n: number): { squares: number; c: number } {
  let high = 0;
  let low = 0;
  for (let i = 0; i < n; i++) {
    const m = Math.abs(v[i]);
    const b = m % 8192;
    const a = (m - b) / 8192; // < 2^18
    const ab = a * b; // < 2^31
    const abHigh = Math.floor(ab / 4096);
    high += a * a + abHigh;
    low += (ab - abHigh * 4096) * 16384 + b * b; // < 2^27
  }
  // sum = high * 2^26 + low; its bit length from floor(sum / 2^26), then the shift c.
  const top = high + Math.floor(low / 2 ** 26);
  const bits = top > 0 ? bitLength(top) + 26 : bitLength(low);
  const c = Math.max(0, bits - 51);
  const squares = c >= 26 ? Math.floor(top / 2 ** (c - 26)) : high * 2 ** (26 - c) + Math.floor(low / 2 ** c);
  return { squares, c };
}

export type LayerNormAttrs = { axis: number; epsilon: number };
export type BatchNormAttrs = { epsilon: number };

const EPSILON_ATTR = { type: "fixed" as const, default: 1, doc: "added to the variance (default 1e-5, i.e. 1 at Q16)" };

function checkEpsilon(epsilon: number): void {
  check(epsilon >= 0, `epsilon must be >= 0, got ${epsilon / 2 ** ATTR_FRAC}`);
}

/** The normalized axis, after checking the shapes of X, Scale and B; shared by infer and the kernel. */
function checkLayerNorm(x: Shape, scale: Shape, b: Shape | undefined, attrs: LayerNormAttrs): number {
  const rank = x.length;
  check(rank >= 1, "LayerNormalization needs an input X of rank >= 1, got a scalar");
  check(attrs.axis >= -rank && attrs.axis < rank, `axis ${attrs.axis} is out of range for rank ${rank}`);
  checkEpsilon(attrs.epsilon);
  const axis = attrs.axis < 0 ? attrs.axis + rank : attrs.axis;
  const normalized = x.slice(axis);
  check(sizeOf(normalized) <= MAX_NORM_SIZE,
    `normalized size ${sizeOf(normalized)} (dimensions ${axis}..${rank - 1}) exceeds ${MAX_NORM_SIZE}`);
  const fits = (s: Shape) => s.length <= normalized.length &&
    s.every((d, i) => d === 1 || d === normalized[normalized.length - s.length + i]);
  check(fits(scale), `Scale shape [${scale.join(",")}] does not broadcast to the normalized shape [${normalized.join(",")}]`);
  check(!b || fits(b), `B shape [${b?.join(",")}] does not broadcast to the normalized shape [${normalized.join(",")}]`);
  return axis;
}

export function layerNormalization(x: Tensor, scale: Tensor, b?: Tensor,
  attrs: Partial<LayerNormAttrs> = {}, frac = x.frac): Tensor {
  const resolved = resolveAttrs(LayerNormalization, attrs);
  const axis = checkLayerNorm(x.shape, scale.shape, b?.shape, resolved);
  const normalized = x.shape.slice(axis);
  const n = sizeOf(normalized);
  const out = new Int32Array(x.size);
  if (n === 0) return new Tensor(x.shape, out, frac);
  const scaleIndex = broadcastIndex(scale.shape, normalized);
  const biasIndex = b ? broadcastIndex(b.shape, normalized) : undefined;
  const devBits = Math.floor((62 - bitLength(n)) / 2); // n * (2^devBits)^2 < 2^62, devBits <= 30
  const meanShift = bitLength(n) - 1; // 2^meanShift <= n: the variance quotient stays below 2^51
  // Fractional bits of z = (x - mean) / sqrt(var + eps): |z| <= sqrt(n) < 2^ceil(bitLength(n)/2).
  const normFrac = 30 - Math.ceil(bitLength(n) / 2);
  const dev = new Float64Array(n);
  for (let base = 0; base < x.size; base += n) {
    // 1. Mean at frac fx + 20 (|sum| < n * 2^31 < 2^51); deviations d = x - mean, |d| < 2^53.
    let sum = 0;
    for (let i = 0; i < n; i++) sum += x.data[base + i];
    const mean = divShiftRound(sum, MEAN_EXTRA_FRAC, n);
    let maxDev = 0;
    for (let i = 0; i < n; i++) {
      dev[i] = x.data[base + i] * 2 ** MEAN_EXTRA_FRAC - mean;
      maxDev = Math.max(maxDev, Math.abs(dev[i]));
    }
    // 2. Scale the deviations by 2^-shift (shift < 0: exact) so the largest has devBits bits.
    const shift = maxDev === 0 ? 0 : bitLength(maxDev) - devBits;
    for (let i = 0; i < n; i++) dev[i] = roundShift(dev[i], shift);
    // 3. var + eps: the variance (squares * 2^c) / n, at frac 2 (fx + 20 - shift) + meanShift - c,
    //    plus eps.
    const devFrac = x.frac + MEAN_EXTRA_FRAC - shift;
    const { squares, c } = sumOfSquares(dev, n);
    const variance = divShiftRound(squares, meanShift, n);
    const { w, f } = addNonNegative(variance, 2 * devFrac + meanShift - c, resolved.epsilon, ATTR_FRAC);
    // 4. z = dev / sqrt(var + eps) at normFrac (w = 0 only when every deviation is 0), then
    //    y = z * scale + B rounded once.
    const { r, k } = w === 0 ? { r: 0, k: 0 } : rsqrt(w, f);
    for (let i = 0; i < n; i++) {
      const z = mulShift(dev[i], r, k + devFrac - normFrac);
      const bias = b && biasIndex ? b.data[biasIndex[i]] : 0;
      out[base + i] = affine(z, scale.data[scaleIndex[i]], normFrac + scale.frac, bias, b ? b.frac : 0, frac);
    }
  }
  return new Tensor(x.shape, out, frac);
}

export const LayerNormalization = defineOp<LayerNormAttrs>({
  kind: "LayerNormalization",
  summary: "(x - mean) / sqrt(var + epsilon) * Scale + B over the dimensions from axis on",
  inputs: ["X", "Scale", "B?"],
  attrs: {
    axis: { type: "int", default: -1, doc: "first normalized dimension (negative from the end)" },
    epsilon: EPSILON_ATTR,
  },
  outputs: () => 1,
  infer: ([x, scale, b]: TensorType[], attrs, ctx) => {
    checkLayerNorm(x.shape, scale.shape, b?.shape, attrs);
    return [{ shape: [...x.shape], frac: ctx.frac }];
  },
  run: ([x, scale, b], attrs, ctx) => [layerNormalization(x, scale, b, attrs, ctx.frac)],
});

function checkBatchNorm(x: Shape, params: Shape[], epsilon: number): void {
  check(x.length >= 2, `input X has rank ${x.length}, BatchNormalization needs rank >= 2 [N,C,...]`);
  checkEpsilon(epsilon);
  const names = ["scale", "B", "input_mean", "input_var"];
  params.forEach((p, i) => check(p.length === 1 && p[0] === x[1],
    `${names[i]} has shape [${p.join(",")}], expected [${x[1]}] (the channels of X)`));
}

export function batchNormalization(x: Tensor, scale: Tensor, b: Tensor, mean: Tensor, variance: Tensor,
  attrs: Partial<BatchNormAttrs> = {}, frac = x.frac): Tensor {
  const { epsilon } = resolveAttrs(BatchNormalization, attrs);
  checkBatchNorm(x.shape, [scale.shape, b.shape, mean.shape, variance.shape], epsilon);
  const channels = x.shape[1];
  const spatial = sizeOf(x.shape.slice(2));
  const out = new Int32Array(x.size);
  // x - mean is taken at a common frac at most 21 above the smaller one, so |d| < 2^53.
  const fx = x.frac;
  const fm = mean.frac;
  const common = Math.min(Math.max(fx, fm), Math.min(fx, fm) + 21);
  for (let c = 0; c < channels; c++) {
    const s = scale.data[c];
    const { w, f } = addNonNegative(Math.max(variance.data[c], 0), variance.frac, epsilon, ATTR_FRAC);
    // a = scale / sqrt(var + eps) = s * r / 2^(fs + k), rounded to at most 31 bits: a / 2^aFrac.
    const { r, k } = w === 0 ? { r: 0, k: 0 } : rsqrt(w, f);
    const aShift = Math.max(0, bitLength(Math.abs(s)) - 1);
    const a = mulShift(s, r, aShift);
    const aFrac = scale.frac + k - aShift;
    for (let i = c * spatial; i < x.size; i += channels * spatial) {
      for (let j = i; j < i + spatial; j++) {
        const d = roundShift(x.data[j], fx - common) - roundShift(mean.data[c], fm - common);
        if (w === 0 && d !== 0 && s !== 0) {
          out[j] = d > 0 === s > 0 ? I32_MAX : I32_MIN; // (x - mean) * scale / 0
          continue;
        }
        // d to at most 31 bits (|d| * |a| <= 2^62), then y = d * a + B rounded once.
        const dShift = Math.max(0, bitLength(Math.abs(d)) - 31);
        out[j] = affine(roundShift(d, dShift), a, common - dShift + aFrac, b.data[c], b.frac, frac);
      }
    }
  }
  return new Tensor(x.shape, out, frac);
}

export const BatchNormalization = defineOp<BatchNormAttrs>({
  kind: "BatchNormalization",
  summary: "(x - mean) * scale / sqrt(var + epsilon) + B per channel (inference)",
  inputs: ["X", "scale", "B", "input_mean", "input_var"],
  attrs: { epsilon: EPSILON_ATTR },
  outputs: () => 1,
  infer: ([x, ...params]: TensorType[], attrs, ctx) => {
    checkBatchNorm(x.shape, params.map((p) => p.shape), attrs.epsilon);
    return [{ shape: [...x.shape], frac: ctx.frac }];
  },
  run: ([x, scale, b, mean, variance], attrs, ctx) =>
    [batchNormalization(x, scale, b, mean, variance, attrs, ctx.frac)],
});
