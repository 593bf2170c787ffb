/**
 * Resize (ONNX semantics) of the last two axes (H, W) of a tensor such as NCHW, to the output
 * shape `sizes` (the converter turns ONNX scales into sizes). Each output coordinate d maps to a
 * source coordinate x = (a*d + b) / c, an exact rational built from the input and output sizes,
 * with the scale taken as out/in (ONNX's rule when sizes are given), or from `scale_ratios`
 * (ONNX scales that give no whole size, as exact ratios of the float32 scale); e.g. half_pixel is
 * x = ((2d+1)*in - out) / (2*out). No floating point is involved anywhere.
 * mode nearest: x is rounded by nearest_mode in integer arithmetic and clamped into the axis; the
 * output is a copy and keeps the input's frac.
 * mode linear: the two neighbours floor(x) and floor(x)+1 (clamped into the axis, which is the
 * same as ONNX's edge handling) are weighted by exact integer fractions of c (for a scale ratio
 * whose c exceeds 2^15, by weights rounded once to 2^-15: `resizeAxisTaps`); the four-term
 * bilinear sum is exact (i64, |sum| <= 2^31 * cy*cx <= 2^63) and is divided by cy*cx with ONE
 * rounding (divRound, ties away from zero). The result is a weighted average of input values, so
 * it stays at the input's frac and is within 0.5 unit of the last place of the exact
 * interpolation (no saturation can occur).
 */
import { divRound, divRoundBig } from "../tensor/fixed.js";
import { stridesOf, type Shape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { axisOffsets, clamp, copyByAxes, floorDiv, showList } from "./axis-copy.js";
import { check, defineOp, resolveAttrs } from "./op.js";

export const RESIZE_MODES = ["nearest", "linear"] as const;
export const COORDINATE_MODES = ["half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel", "tf_half_pixel_for_nn"] as const;
export const NEAREST_MODES = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"] as const;

export type ResizeAttrs = {
  sizes: number[];
  mode: (typeof RESIZE_MODES)[number];
  coordinate_transformation_mode: (typeof COORDINATE_MODES)[number];
  nearest_mode: (typeof NEAREST_MODES)[number];
  /** [qH, pH, qW, pW]: coordinates scale by q/p instead of in/out (absent or empty: in/out). */
  scale_ratios?: number[];
};

/** Largest numerator or denominator of a scale ratio: keeps 2(a*d + b) below 2^53 (a <= 2q, d < 2^24). */
const MAX_RATIO_TERM = 2 ** 26;

/** Throw unless `ratios` is empty or 4 integers in 1..MAX_RATIO_TERM (shared with ResizeCubic). */
export function checkScaleRatios(ratios: readonly number[]): void {
  check(ratios.length === 0 || (ratios.length === 4 && ratios.every((v) => Number.isInteger(v) && v >= 1 && v <= MAX_RATIO_TERM)), `Resize attribute 'scale_ratios' ${showList(ratios)} must be empty or 4 integers in 1..2^26`);
}

/** The coordinate scale [q, p] of the H (axis 0) or W (axis 1) resized axis, when given. */
export function scaleRatio(ratios: readonly number[] | undefined, axis: 0 | 1): [number, number] | undefined {
  return ratios && ratios.length ? [ratios[2 * axis], ratios[2 * axis + 1]] : undefined;
}

/** Largest axis size: keeps every coordinate numerator a*d + b far below 2^53 (and i64). */
const MAX_AXIS = 2 ** 24;
/** Fractional bits of the linear weights of a scale ratio whose exact denominator is larger. */
const ROUNDED_WEIGHT_BITS = 15;
/** Largest linear weight denominator cy*cx: the bilinear sum then fits i64. */
const MAX_LINEAR_DEN = 2 ** 32;
/** Below this denominator the bilinear sum is < 2^52 and plain JS numbers are exact. */
const NUMBER_LINEAR_DEN = 2 ** 21;

/** Source coordinate of output index d along one axis: (a*d + b) / c in lowest terms, c > 0. */
export interface AxisMap {
  a: number;
  b: number;
  c: number;
}

function gcd(x: number, y: number): number {
  while (y !== 0) [x, y] = [y, x % y];
  return Math.abs(x);
}

/**
 * The exact coordinate map of one axis for ONNX's coordinate_transformation_mode. An axis whose
 * size does not change is copied (x = d), as onnxruntime does; by the formulas this only matters
 * for tf_half_pixel_for_nn, whose x = d + 1/2 would otherwise shift or blur an unchanged axis.
 * `ratio` [q, p] replaces in/out by q/p where ONNX uses the scale (ONNX scales that give no whole
 * size: the output size is floor(in * scale) and 1/scale = q/p); align_corners uses the sizes.
 */
export function axisMap(inSize: number, outSize: number, mode: ResizeAttrs["coordinate_transformation_mode"], ratio?: readonly [number, number]): AxisMap {
  if (inSize === outSize && (!ratio || ratio[0] === ratio[1])) return { a: 1, b: 0, c: 1 };
  const [q, p] = ratio ?? [inSize, outSize];
  // ONNX's length_resized: out, or in * scale = in * p / q (a real) when a ratio is given.
  const resizedAboveOne = ratio ? inSize * p > q : outSize > 1;
  let [a, b, c] = [0, 0, 1];
  switch (mode) {
    case "pytorch_half_pixel": // (d + 0.5) * in/out - 0.5, or 0 for a single output
    case "half_pixel":
      if (mode === "half_pixel" || resizedAboveOne) [a, b, c] = [2 * q, q - p, 2 * p];
      break;
    case "asymmetric": // d * in/out
      [a, b, c] = [q, 0, p];
      break;
    case "align_corners": // d * (in-1)/(length_resized-1), or 0 for a single output
      if (resizedAboveOne) [a, b, c] = ratio ? [q * (inSize - 1), 0, inSize * p - q] : [inSize - 1, 0, outSize - 1];
      break;
    case "tf_half_pixel_for_nn": // (d + 0.5) * in/out
      [a, b, c] = [2 * q, q, 2 * p];
      break;
  }
  const g = gcd(gcd(a, b), c);
  const map = { a: a / g, b: b / g, c: c / g };
  // Every coordinate numerator (and twice it, for the nearest roundings) stays exact in a double.
  check(Math.abs(map.a) * outSize + Math.abs(map.b) + map.c < 2 ** 51, `Resize ${inSize} -> ${outSize} by the ratio ${q}/${p} needs coordinate numerators beyond 2^51, which is not supported`);
  return map;
}

/** Input index for output index d in mode nearest: x rounded by nearest_mode, clamped into the axis. */
export function nearestIndex(m: AxisMap, d: number, rounding: ResizeAttrs["nearest_mode"], inSize: number): number {
  const n = m.a * d + m.b;
  const index = rounding === "floor" ? floorDiv(n, m.c)
    : rounding === "ceil" ? -floorDiv(-n, m.c)
    : rounding === "round_prefer_ceil" ? floorDiv(2 * n + m.c, 2 * m.c) // floor(x + 1/2)
    : -floorDiv(m.c - 2 * n, 2 * m.c); // ceil(x - 1/2)
  return clamp(index, 0, inSize - 1);
}

/** Per output index of one axis: the two neighbour indices and the weight (out of c) of the second. */
export interface LinearTaps {
  lo: Int32Array;
  hi: Int32Array;
  weight: Int32Array;
  den: number;
}

/** The linear taps of one axis for its coordinate map. */
export function linearTaps(m: AxisMap, inSize: number, outSize: number): LinearTaps {
  const taps = { lo: new Int32Array(outSize), hi: new Int32Array(outSize), weight: new Int32Array(outSize), den: m.c };
  for (let d = 0; d < outSize; d++) {
    const n = m.a * d + m.b;
    const floor = floorDiv(n, m.c);
    taps.lo[d] = clamp(floor, 0, inSize - 1);
    taps.hi[d] = clamp(floor + 1, 0, inSize - 1);
    taps.weight[d] = n - floor * m.c;
  }
  return taps;
}

/**
 * The linear taps of the H (axis 0) or W (axis 1) resized axis, as the kernel and the compiler's
 * Resize tables use them. Sizes give exact weights (denominator c). A scale ratio's denominator
 * can reach 2^27 (a float32 scale), so there each weight is rounded once to ROUNDED_WEIGHT_BITS
 * (nearest, ties away from zero) whenever c exceeds 2^ROUNDED_WEIGHT_BITS.
 */
export function resizeAxisTaps(inSize: number, outSize: number, a: ResizeAttrs, axis: 0 | 1): LinearTaps {
  const ratio = scaleRatio(a.scale_ratios, axis);
  const taps = linearTaps(axisMap(inSize, outSize, a.coordinate_transformation_mode, ratio), inSize, outSize);
  if (!ratio || taps.den <= 2 ** ROUNDED_WEIGHT_BITS) return taps;
  // weight < c < 2^28, so weight * 2^15 < 2^43 is exact.
  const weight = taps.weight.map((w) => divRound(w * 2 ** ROUNDED_WEIGHT_BITS, taps.den));
  return { ...taps, weight, den: 2 ** ROUNDED_WEIGHT_BITS };
}


export function resizeShape(shape: Shape, a: ResizeAttrs): number[] {
  const rank = shape.length;
  check(rank >= 2, `Resize input has rank ${rank}; it resizes the last two axes, e.g. [N,C,H,W]`);
  check(a.sizes.length === rank, `Resize attribute 'sizes' ${showList(a.sizes)} needs ${rank} entries (the full output shape)`);
  for (let i = 0; i < rank - 2; i++) {
    check(a.sizes[i] === shape[i], `Resize changes only the last two axes; 'sizes' ${showList(a.sizes)} changes axis ${i} of input ${showList(shape)}`);
  }
  for (let i = rank - 2; i < rank; i++) {
    check(a.sizes[i] >= 1 && a.sizes[i] <= MAX_AXIS, `Resize output size ${a.sizes[i]} on axis ${i} is not in 1..2^24`);
    check(shape[i] >= 1 && shape[i] <= MAX_AXIS, `Resize input size ${shape[i]} on axis ${i} is not in 1..2^24`);
  }
  const ratios = a.scale_ratios ?? [];
  // The compiler's nearest copy probes each axis through the W slot, so nearest takes no ratios:
  // a nearest resize by a scale ratio is a Gather of constant indices (converter/onnx/vision.ts).
  check(ratios.length === 0 || a.mode !== "nearest", "Resize mode nearest takes no 'scale_ratios' (a nearest resize by a scale is a Gather of constant indices)");
  checkScaleRatios(ratios);
  if (a.mode === "linear") {
    const den = [0, 1].reduce((p, k) => p * resizeAxisTaps(shape[rank - 2 + k], a.sizes[rank - 2 + k], a, k as 0 | 1).den, 1);
    check(den <= MAX_LINEAR_DEN, `Resize linear ${showList(shape.slice(-2))} -> ${showList(a.sizes.slice(-2))} needs weights with denominator ${den} > 2^32, which is not supported (the i64 accumulator bound)`);
  }
  return [...a.sizes];
}

export function resize(x: Tensor, sizes: readonly number[], attrs: Partial<Omit<ResizeAttrs, "sizes">> = {}): Tensor {
  const a = resolveAttrs(Resize, { ...attrs, sizes: [...sizes] });
  const outShape = resizeShape(x.shape, a);
  const rank = x.rank;
  const [inH, inW] = x.shape.slice(-2);
  const [outH, outW] = outShape.slice(-2);
  if (a.mode === "nearest") {
    const mapH = axisMap(inH, outH, a.coordinate_transformation_mode);
    const mapW = axisMap(inW, outW, a.coordinate_transformation_mode);
    const strides = stridesOf(x.shape);
    return copyByAxes(x, outShape.map((n, d) => {
      if (d < rank - 2) return axisOffsets(n, strides[d], (i) => i);
      const [m, inSize] = d === rank - 2 ? [mapH, inH] : [mapW, inW];
      return axisOffsets(n, strides[d], (i) => nearestIndex(m, i, a.nearest_mode, inSize));
    }));
  }
  return bilinear(x, outShape, resizeAxisTaps(inH, outH, a, 0), resizeAxisTaps(inW, outW, a, 1));
}

/** Bilinear interpolation of every H x W plane: exact weighted sum, one rounded division. */
function bilinear(x: Tensor, outShape: number[], ty: LinearTaps, tx: LinearTaps): Tensor {
  const [inH, inW] = x.shape.slice(-2);
  const [outH, outW] = outShape.slice(-2);
  const planes = x.size / (inH * inW);
  const den = ty.den * tx.den;
  const exact = den <= NUMBER_LINEAR_DEN; // |sum| <= 2^31 * den <= 2^52
  const bigDen = BigInt(den);
  const out = new Int32Array(planes * outH * outW);
  const src = x.data;
  let pos = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * inH * inW;
    for (let oy = 0; oy < outH; oy++) {
      const row0 = plane + ty.lo[oy] * inW;
      const row1 = plane + ty.hi[oy] * inW;
      const wy1 = ty.weight[oy];
      const wy0 = ty.den - wy1;
      for (let ox = 0; ox < outW; ox++) {
        const [c0, c1] = [tx.lo[ox], tx.hi[ox]];
        const wx1 = tx.weight[ox];
        const wx0 = tx.den - wx1;
        if (exact) {
          const top = wx0 * src[row0 + c0] + wx1 * src[row0 + c1];
          const bottom = wx0 * src[row1 + c0] + wx1 * src[row1 + c1];
          out[pos++] = divRound(wy0 * top + wy1 * bottom, den);
        } else {
          const top = BigInt(wx0) * BigInt(src[row0 + c0]) + BigInt(wx1) * BigInt(src[row0 + c1]);
          const bottom = BigInt(wx0) * BigInt(src[row1 + c0]) + BigInt(wx1) * BigInt(src[row1 + c1]);
          out[pos++] = Number(divRoundBig(BigInt(wy0) * top + BigInt(wy1) * bottom, bigDen));
        }
      }
    }
  }
  return new Tensor(outShape, out, x.frac);
}

export const Resize = defineOp<ResizeAttrs>({
  kind: "Resize",
  summary: "resize the last two axes (H, W) by nearest or bilinear interpolation",
  inputs: ["X"],
  attrs: {
    sizes: { type: "ints", doc: "the full output shape; only the last two entries may differ from the input" },
    mode: { type: "enum", values: RESIZE_MODES, default: "nearest", doc: "nearest | linear (bilinear)" },
    coordinate_transformation_mode: { type: "enum", values: COORDINATE_MODES, default: "half_pixel", doc: "how output coordinates map to input coordinates" },
    nearest_mode: { type: "enum", values: NEAREST_MODES, default: "round_prefer_floor", doc: "rounding of the source coordinate in mode nearest" },
    scale_ratios: { type: "ints", default: [], doc: "[qH, pH, qW, pW]: source coordinates scale by q/p (1/scale of ONNX scales that give no whole size); empty: in/out" },
  },
  outputs: () => 1,
  infer: ([x], a) => [{ shape: resizeShape(x.shape, a), frac: x.frac }],
  run: ([x], a) => [resize(x, a.sizes, a)],
});
