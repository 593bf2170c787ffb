/**
 * Pooling (ONNX semantics): MaxPool and AveragePool over 1-D/2-D windows (kernel_shape, strides,
 * pads, dilations, auto_pad, ceil_mode; count_include_pad for AveragePool), and
 * GlobalMaxPool/GlobalAveragePool over all spatial axes of any rank >= 3.
 * Max pools only select values: they keep the input frac and are exact; a window with no tap on
 * an input value (all on padding, or dilated over it) yields I32_MIN, the fixed-point "minus
 * infinity". Average pools sum the window exactly and divide once with `divRound` at ctx.frac
 * (see `meanAt`): that division is the only rounding; an empty window averages to 0.
 */
import { I32_MIN, divRound, saturate } from "../tensor/fixed.js";
import { sizeOf } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { type OperandType } from "./accumulate.js";
import { check, defineOp, resolveAttrs, type AttrSpec } from "./op.js";
import { type AxisWindow, axisCounts, axisTaps, liftTo2d, resolveWindows, spatialRank, WINDOW_ATTR_SPECS, type WindowAttrs } from "./window.js";

export type MaxPoolAttrs = WindowAttrs & { ceil_mode: number };
export type AveragePoolAttrs = MaxPoolAttrs & { count_include_pad: number };

/** Most values one average may sum: then |sum| < 2^22 * 2^31 = 2^53 stays exact. */
const MAX_SUMMED = 2 ** 22 - 1;

/**
 * (sum / count) converted from frac `from` to frac `to`, rounded once (divRound: to nearest, ties
 * away from zero) and saturated: divRound(sum * 2^(to - from), count) when the frac grows (an
 * exact power-of-two scaling; like every narrowing it saturates, never wraps), else
 * divRound(sum, count * 2^(from - to)).
 */
export function meanAt(sum: number, count: number, from: number, to: number): number {
  return to >= from ? saturate(divRound(sum * 2 ** (to - from), count)) : saturate(divRound(sum, count * 2 ** (from - to)));
}

function poolWindows(op: string, x: OperandType, attrs: MaxPoolAttrs): AxisWindow[] {
  const rank = spatialRank(op, x.shape);
  const kernel = attrs.kernel_shape;
  check(kernel.length === rank, `${op} attribute 'kernel_shape' has ${kernel.length} values, input X has ${rank} spatial axes`);
  check(kernel.every((k) => k >= 1), `${op} attribute 'kernel_shape' must be >= 1, got [${kernel.join(",")}]`);
  check(attrs.ceil_mode === 0 || attrs.ceil_mode === 1, `${op} attribute 'ceil_mode' must be 0 or 1, got ${attrs.ceil_mode}`);
  return resolveWindows(op, x.shape.slice(2), kernel, attrs, attrs.ceil_mode === 1);
}

function pooledShape(x: OperandType, windows: AxisWindow[]): number[] {
  return [x.shape[0], x.shape[1], ...windows.map((w) => w.outSize)];
}

/**
 * For every output position of every [N, C] plane: the max (`takeMax`) or the exact sum of the
 * window's taps that fall on input values. Values are i32, sums stay below 2^53: both exact.
 */
function reduceWindows(x: Tensor, windows: AxisWindow[], takeMax: boolean): Float64Array {
  const [rowWindow, colWindow] = liftTo2d(windows);
  const rowTaps = axisTaps(rowWindow);
  const colTaps = axisTaps(colWindow);
  const inPlane = rowWindow.inSize * colWindow.inSize;
  const planes = x.shape[0] * x.shape[1];
  const out = new Float64Array(planes * rowWindow.outSize * colWindow.outSize);
  let k = 0;
  for (let plane = 0; plane < planes; plane++) {
    for (let oy = 0; oy < rowWindow.outSize; oy++) {
      for (let ox = 0; ox < colWindow.outSize; ox++) {
        let acc = takeMax ? I32_MIN : 0;
        for (let i = 0; i < rowWindow.kernel; i++) {
          const iy = rowTaps[oy * rowWindow.kernel + i];
          if (iy < 0) continue;
          const row = plane * inPlane + iy * colWindow.inSize;
          for (let j = 0; j < colWindow.kernel; j++) {
            const ix = colTaps[ox * colWindow.kernel + j];
            if (ix < 0) continue;
            const v = x.data[row + ix];
            acc = takeMax ? (v > acc ? v : acc) : acc + v;
          }
        }
        out[k++] = acc;
      }
    }
  }
  return out;
}

export function maxPool(x: Tensor, attrs: Partial<MaxPoolAttrs>): Tensor {
  const windows = poolWindows("MaxPool", x, resolveAttrs(MaxPool, attrs));
  return new Tensor(pooledShape(x, windows), Int32Array.from(reduceWindows(x, windows, true)), x.frac);
}

function averagePoolWindows(x: OperandType, attrs: AveragePoolAttrs): AxisWindow[] {
  check(attrs.count_include_pad === 0 || attrs.count_include_pad === 1,
    `AveragePool attribute 'count_include_pad' must be 0 or 1, got ${attrs.count_include_pad}`);
  check(sizeOf(attrs.kernel_shape) <= MAX_SUMMED, `AveragePool kernel of ${sizeOf(attrs.kernel_shape)} values exceeds ${MAX_SUMMED}`);
  return poolWindows("AveragePool", x, attrs);
}

export function averagePool(x: Tensor, attrs: Partial<AveragePoolAttrs>, frac = x.frac): Tensor {
  const at = resolveAttrs(AveragePool, attrs);
  const windows = averagePoolWindows(x, at);
  const sums = reduceWindows(x, windows, false);
  const [rowWindow, colWindow] = liftTo2d(windows);
  // A window is a box: its count is the product of the per-axis counts.
  const rowCounts = axisCounts(rowWindow, at.count_include_pad === 1);
  const colCounts = axisCounts(colWindow, at.count_include_pad === 1);
  const out = new Int32Array(sums.length);
  for (let k = 0; k < out.length; k++) {
    const oy = Math.floor(k / colWindow.outSize) % rowWindow.outSize;
    const count = rowCounts[oy] * colCounts[k % colWindow.outSize];
    out[k] = meanAt(sums[k], count, x.frac, frac);
  }
  return new Tensor(pooledShape(x, windows), out, frac);
}

/** Global pools: one output per [N, C] plane over all spatial axes. */
function globalShape(op: string, x: OperandType): number[] {
  check(x.shape.length >= 3, `input X has rank ${x.shape.length}, ${op} needs rank >= 3 [N,C,spatial...]`);
  return [x.shape[0], x.shape[1], ...x.shape.slice(2).map(() => 1)];
}

function reducePlanes(x: Tensor, takeMax: boolean): Float64Array {
  const planeSize = sizeOf(x.shape.slice(2));
  const out = new Float64Array(x.shape[0] * x.shape[1]);
  for (let plane = 0; plane < out.length; plane++) {
    let acc = takeMax ? I32_MIN : 0;
    for (let i = plane * planeSize; i < (plane + 1) * planeSize; i++) {
      const v = x.data[i];
      acc = takeMax ? (v > acc ? v : acc) : acc + v;
    }
    out[plane] = acc;
  }
  return out;
}

export function globalMaxPool(x: Tensor): Tensor {
  return new Tensor(globalShape("GlobalMaxPool", x), Int32Array.from(reducePlanes(x, true)), x.frac);
}

function globalAverageShape(x: OperandType): number[] {
  const shape = globalShape("GlobalAveragePool", x);
  const planeSize = sizeOf(x.shape.slice(2));
  check(planeSize <= MAX_SUMMED, `GlobalAveragePool over ${planeSize} spatial values exceeds ${MAX_SUMMED}`);
  return shape;
}

export function globalAveragePool(x: Tensor, frac = x.frac): Tensor {
  const shape = globalAverageShape(x);
  const planeSize = sizeOf(x.shape.slice(2));
  const out = Int32Array.from(reducePlanes(x, false), (sum) => meanAt(sum, planeSize, x.frac, frac));
  return new Tensor(shape, out, frac);
}

const POOL_ATTR_SPECS: Record<"kernel_shape" | "ceil_mode", AttrSpec> = {
  kernel_shape: { type: "ints", doc: "window shape per spatial axis (required)" },
  ceil_mode: { type: "int", default: 0, doc: "1: output size rounds up (explicit pads only)" },
};

export const MaxPool = defineOp<MaxPoolAttrs>({
  kind: "MaxPool",
  summary: "max over 1-D/2-D windows; keeps the input frac (the Indices output is not supported)",
  inputs: ["X"],
  attrs: { ...WINDOW_ATTR_SPECS, ...POOL_ATTR_SPECS },
  outputs: () => 1,
  infer: ([x], attrs) => [{ shape: pooledShape(x, poolWindows("MaxPool", x, attrs)), frac: x.frac }],
  run: ([x], attrs) => [maxPool(x, attrs)],
});

export const AveragePool = defineOp<AveragePoolAttrs>({
  kind: "AveragePool",
  summary: "mean over 1-D/2-D windows, one rounding (divRound) at ctx.frac",
  inputs: ["X"],
  attrs: {
    ...WINDOW_ATTR_SPECS,
    ...POOL_ATTR_SPECS,
    count_include_pad: { type: "int", default: 0, doc: "1: padding positions count in the divisor" },
  },
  outputs: () => 1,
  infer: ([x], attrs, ctx) => [{ shape: pooledShape(x, averagePoolWindows(x, attrs)), frac: ctx.frac }],
  run: ([x], attrs, ctx) => [averagePool(x, attrs, ctx.frac)],
});

export const GlobalMaxPool = defineOp({
  kind: "GlobalMaxPool",
  summary: "max over all spatial axes; keeps the input frac",
  inputs: ["X"],
  attrs: {},
  outputs: () => 1,
  infer: ([x]) => [{ shape: globalShape("GlobalMaxPool", x), frac: x.frac }],
  run: ([x]) => [globalMaxPool(x)],
});

export const GlobalAveragePool = defineOp({
  kind: "GlobalAveragePool",
  summary: "mean over all spatial axes, one rounding (divRound) at ctx.frac",
  inputs: ["X"],
  attrs: {},
  outputs: () => 1,
  infer: ([x], _attrs, ctx) => [{ shape: globalAverageShape(x), frac: ctx.frac }],
  run: ([x], _attrs, ctx) => [globalAveragePool(x, ctx.frac)],
});
