/**
 * ResizeCubic: ONNX Resize in mode cubic (bicubic convolution with coefficient A =
 * cubic_coeff_a, optionally excluding taps outside the input and renormalizing) of the last two
 * axes, to the output shape `sizes`. The source coordinate of each output index is the exact
 * rational x = (a*d + b)/c of Resize's `axisMap`; with t = x - floor(x) = k/c, the four taps
 * floor(x)-1 .. floor(x)+2 (clamped into the axis, ONNX's edge rule) get Keys' cubic weights,
 * computed exactly as rationals (BigInt) and rounded once each to Q20 (ties away from zero). The
 * interpolation is separable: per source row, h = sum of 4 weights x inputs (exact, < 2^52),
 * narrowed to 8 guard bits (round half up); then the 4 rows' weighted sum (exact i64, < 2^61)
 * narrowed to the input's frac and saturated (cubic overshoots). Two roundings: the error is
 * under 0.5 + 2^-8 units of the last place plus the weights' rounding (2^-21 each, relative).
 */
import { divRoundBig, roundShift, roundShiftBig, saturate } from "../tensor/fixed.js";
import type { Shape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { clamp, floorDiv } from "./axis-copy.js";
import { ATTR_FRAC, check, defineOp, resolveAttrs } from "./op.js";
import { axisMap, checkScaleRatios, COORDINATE_MODES, resizeShape, scaleRatio, type ResizeAttrs } from "./resize.js";

export type ResizeCubicAttrs = {
  sizes: number[];
  coordinate_transformation_mode: ResizeAttrs["coordinate_transformation_mode"];
  /** Keys' coefficient A at Q16 (ATTR_FRAC). */
  cubic_coeff_a: number;
  exclude_outside: number;
  /** As Resize's: [qH, pH, qW, pW], coordinates scale by q/p; empty: in/out. */
  scale_ratios: number[];
};

/** Fractional bits of the tap weights. */
export const CUBIC_WEIGHT_FRAC = 20;
/** Guard bits kept below the input's frac between the row pass and the column pass. */
export const CUBIC_GUARD_BITS = 8;
/** Bound on the absolute sum of one axis's four weights: keeps h < 2^52 and the total < 2^61. */
const MAX_WEIGHT_SUM = 2 << CUBIC_WEIGHT_FRAC;

/** Per output index of one axis: the four tap indices and their Q20 weights (index*4 + tap). */
export interface CubicTaps {
  index: Int32Array;
  weight: Int32Array;
}

/** Keys' kernel at distance s/c (0 <= s <= 2c) times 2^16 c^3, for A = alpha / 2^16. */
function keys(s: bigint, c: bigint, alpha: bigint): bigint {
  const one = 1n << BigInt(ATTR_FRAC);
  if (s <= c) return (alpha + 2n * one) * s ** 3n - (alpha + 3n * one) * s ** 2n * c + one * c ** 3n;
  return alpha * s ** 3n - 5n * alpha * s ** 2n * c + 8n * alpha * s * c ** 2n - 4n * alpha * c ** 3n;
}

/** The taps of the H (axis 0) or W (axis 1) resized axis (also read by the compiler's tables). */
export function cubicTaps(inSize: number, outSize: number, a: ResizeCubicAttrs, axis: 0 | 1): CubicTaps {
  const m = axisMap(inSize, outSize, a.coordinate_transformation_mode, scaleRatio(a.scale_ratios, axis));
  const taps: CubicTaps = { index: new Int32Array(outSize * 4), weight: new Int32Array(outSize * 4) };
  const c = BigInt(m.c);
  for (let d = 0; d < outSize; d++) {
    const n = m.a * d + m.b;
    const floor = floorDiv(n, m.c);
    const k = BigInt(n - floor * m.c);
    // Distances (in units of 1/c) from x to the taps floor-1, floor, floor+1, floor+2.
    const raw = [k + c, k, c - k, 2n * c - k].map((s) => keys(s, c, BigInt(a.cubic_coeff_a)));
    const inside = [-1, 0, 1, 2].map((o) => floor + o >= 0 && floor + o < inSize);
    const kept = raw.map((w, i) => (a.exclude_outside && !inside[i] ? 0n : w));
    const den = a.exclude_outside ? kept.reduce((s, w) => s + w, 0n) : (1n << BigInt(ATTR_FRAC)) * c ** 3n;
    let sum = 0;
    for (let i = 0; i < 4; i++) {
      taps.index[d * 4 + i] = clamp(floor - 1 + i, 0, inSize - 1);
      const w = den === 0n ? 0 : Number(divRoundBig(kept[i] << BigInt(CUBIC_WEIGHT_FRAC), den));
      taps.weight[d * 4 + i] = w;
      sum += Math.abs(w);
    }
    check(sum <= MAX_WEIGHT_SUM, `ResizeCubic cubic_coeff_a ${a.cubic_coeff_a / 2 ** ATTR_FRAC} gives tap weights whose absolute sum ${sum / 2 ** CUBIC_WEIGHT_FRAC} exceeds 2 (the accumulator bound)`);
  }
  return taps;
}

function cubicShape(shape: Shape, a: ResizeCubicAttrs): number[] {
  check(a.exclude_outside === 0 || a.exclude_outside === 1, `ResizeCubic attribute 'exclude_outside' must be 0 or 1, got ${a.exclude_outside}`);
  checkScaleRatios(a.scale_ratios);
  const out = resizeShape(shape, { sizes: a.sizes, mode: "nearest", coordinate_transformation_mode: a.coordinate_transformation_mode, nearest_mode: "floor" });
  for (const k of [0, 1] as const) cubicTaps(shape[shape.length - 2 + k], out[shape.length - 2 + k], a, k);
  return out;
}

export function resizeCubic(x: Tensor, sizes: readonly number[], attrs: Partial<Omit<ResizeCubicAttrs, "sizes">> = {}): Tensor {
  const a = resolveAttrs(ResizeCubic, { ...attrs, sizes: [...sizes] });
  const outShape = cubicShape(x.shape, a);
  const [inH, inW] = x.shape.slice(-2);
  const [outH, outW] = outShape.slice(-2);
  const ty = cubicTaps(inH, outH, a, 0);
  const tx = cubicTaps(inW, outW, a, 1);
  const planes = x.size / (inH * inW);
  const out = new Int32Array(planes * outH * outW);
  const src = x.data;
  const rowShift = CUBIC_WEIGHT_FRAC - CUBIC_GUARD_BITS;
  const finalShift = CUBIC_WEIGHT_FRAC + CUBIC_GUARD_BITS;
  let pos = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * inH * inW;
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        let total = 0n;
        for (let j = 0; j < 4; j++) {
          const row = plane + ty.index[oy * 4 + j] * inW;
          let h = 0; // |h| < 2^31 * 2^21 = 2^52: exact in a JS number
          for (let i = 0; i < 4; i++) h += tx.weight[ox * 4 + i] * src[row + tx.index[ox * 4 + i]];
          total += BigInt(ty.weight[oy * 4 + j]) * BigInt(roundShift(h, rowShift));
        }
        out[pos++] = saturate(Number(roundShiftBig(total, finalShift)));
      }
    }
  }
  return new Tensor(outShape, out, x.frac);
}

export const ResizeCubic = defineOp<ResizeCubicAttrs>({
  kind: "ResizeCubic",
  summary: "resize the last two axes (H, W) by bicubic interpolation (Keys' kernel, coefficient A)",
  inputs: ["X"],
  attrs: {
    sizes: { type: "ints", doc: "the full output shape; only the last two entries may differ from the input" },
    coordinate_transformation_mode: { type: "enum", values: COORDINATE_MODES, default: "half_pixel", doc: "how output coordinates map to input coordinates" },
    cubic_coeff_a: { type: "fixed", default: -0.75 * 2 ** ATTR_FRAC, doc: "Keys' coefficient A (-0.75 as in PyTorch, -0.5 as in TensorFlow)" },
    exclude_outside: { type: "int", default: 0, doc: "1: taps outside the input get weight 0 and the rest are renormalized" },
    scale_ratios: { type: "ints", default: [], doc: "as Resize's: [qH, pH, qW, pW], coordinates scale by q/p; empty: in/out" },
  },
  outputs: () => 1,
  infer: ([x], a) => [{ shape: cubicShape(x.shape, a), frac: x.frac }],
  run: ([x], a) => [resizeCubic(x, a.sizes, a)],
});
