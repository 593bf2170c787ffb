/**
 * Sliding-window geometry shared by Conv, ConvTranspose and the pools: resolving ONNX's
 * kernel_shape/strides/pads/dilations/auto_pad/ceil_mode into one `AxisWindow` per spatial axis,
 * and the per-axis tap tables that say which input index each window tap reads (or -1 for
 * padding). Kernels work on two spatial axes; a 1-D op is lifted to 2-D with a trivial leading
 * axis (`liftTo2d`), which leaves the row-major data unchanged. All arithmetic here is on small
 * integers (shapes), never on tensor values.
 */
import { type AttrSpec, check } from "./op.js";

/** How a window slides along one spatial axis. */
export interface AxisWindow {
  /** Number of input values along the axis. */
  inSize: number;
  kernel: number;
  stride: number;
  dilation: number;
  /** Positions before the first input value (negative: the first outputs skip input values). */
  padBegin: number;
  /** Positions after the last input value reached by the last window (may be negative). */
  padEnd: number;
  outSize: number;
  /**
   * Spacing of the input values on the axis: 1 for Conv and pools; the stride of a ConvTranspose,
   * which correlates over its input with (inputStep - 1) zeros inserted between values.
   */
  inputStep: number;
}

/** ONNX attributes that place a window; empty arrays mean "absent" (defaults apply). */
export type WindowAttrs = {
  auto_pad: string;
  kernel_shape: number[];
  strides: number[];
  pads: number[];
  dilations: number[];
};

export const AUTO_PAD_VALUES = ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"] as const;

/** Attribute specs shared by every windowed op (Conv, ConvTranspose, MaxPool, AveragePool). */
export const WINDOW_ATTR_SPECS: Record<"auto_pad" | "dilations" | "pads" | "strides", AttrSpec> = {
  auto_pad: { type: "enum", values: AUTO_PAD_VALUES, default: "NOTSET", doc: "NOTSET uses pads; SAME_* pad to ceil(in/stride) outputs; VALID: no padding" },
  dilations: { type: "ints", default: [], doc: "spacing of kernel taps per spatial axis (default 1)" },
  pads: { type: "ints", default: [], doc: "[begin..., end...] per spatial axis (default 0)" },
  strides: { type: "ints", default: [], doc: "per spatial axis (default 1)" },
};

/** Check that a batched channels-first input has 1 or 2 spatial axes; returns the spatial rank. */
export function spatialRank(op: string, shape: readonly number[]): 1 | 2 {
  check(shape.length === 3 || shape.length === 4,
    `input X has rank ${shape.length}, ${op} supports 1D and 2D: rank 3 [N,C,L] or rank 4 [N,C,H,W]`);
  return shape.length === 3 ? 1 : 2;
}

/** A per-axis attribute of `count` entries (`fallback` everywhere when absent), each >= min. */
export function perAxis(op: string, name: string, value: number[], count: number, fallback: number, min: number): number[] {
  if (value.length === 0) return new Array<number>(count).fill(fallback);
  check(value.length === count, `${op} attribute '${name}' has ${value.length} values, expected ${count}`);
  check(value.every((v) => v >= min), `${op} attribute '${name}' must be >= ${min}, got [${value.join(",")}]`);
  return value;
}

/**
 * Resolve Conv/pool windows. Output size per axis: with pads (NOTSET; VALID means zero pads)
 * floor((in + padBegin + padEnd - dilatedKernel) / stride) + 1, or ceil(...) + 1 with `ceilMode`,
 * dropping a last window that would start in the end padding (PyTorch's rule, which onnxruntime
 * follows); SAME_UPPER/SAME_LOWER give ceil(in / stride) outputs whatever ceil_mode, with the
 * total padding split evenly, the odd position at the end (UPPER) or the beginning (LOWER); a
 * negative total (stride above the dilated kernel) is 0, as in onnxruntime's Conv and TensorFlow.
 */
export function resolveWindows(op: string, inSpatial: readonly number[], kernel: readonly number[],
  attrs: WindowAttrs, ceilMode = false): AxisWindow[] {
  const rank = inSpatial.length;
  const strides = perAxis(op, "strides", attrs.strides, rank, 1, 1);
  const dilations = perAxis(op, "dilations", attrs.dilations, rank, 1, 1);
  const pads = perAxis(op, "pads", attrs.pads, 2 * rank, 0, 0);
  return inSpatial.map((inSize, i) => {
    const span = (kernel[i] - 1) * dilations[i] + 1;
    let padBegin = 0;
    let padEnd = 0;
    let outSize: number;
    if (attrs.auto_pad === "SAME_UPPER" || attrs.auto_pad === "SAME_LOWER") {
      outSize = Math.ceil(inSize / strides[i]);
      const total = Math.max(0, (outSize - 1) * strides[i] + span - inSize);
      padBegin = attrs.auto_pad === "SAME_UPPER" ? Math.floor(total / 2) : Math.ceil(total / 2);
      padEnd = total - padBegin;
    } else {
      if (attrs.auto_pad === "NOTSET") [padBegin, padEnd] = [pads[i], pads[i + rank]];
      const room = inSize + padBegin + padEnd - span;
      check(room >= 0, `${op} input size ${inSize} (padded ${inSize + padBegin + padEnd}) is smaller than the dilated kernel ${span} on spatial axis ${i}`);
      outSize = (ceilMode ? Math.ceil(room / strides[i]) : Math.floor(room / strides[i])) + 1;
      if (ceilMode && (outSize - 1) * strides[i] >= inSize + padBegin) outSize--;
    }
    return { inSize, kernel: kernel[i], stride: strides[i], dilation: dilations[i], padBegin, padEnd, outSize, inputStep: 1 };
  });
}

/** A 1-D window list gets a trivial leading axis so that kernels only handle two spatial axes. */
export function liftTo2d(windows: AxisWindow[]): [AxisWindow, AxisWindow] {
  if (windows.length === 2) return [windows[0], windows[1]];
  const trivial: AxisWindow = { inSize: 1, kernel: 1, stride: 1, dilation: 1, padBegin: 0, padEnd: 0, outSize: 1, inputStep: 1 };
  return [trivial, windows[0]];
}

/** Position of tap j of output o on the input axis, where input value i sits at i * inputStep. */
function tapPosition(w: AxisWindow, o: number, j: number): number {
  return o * w.stride + j * w.dilation - w.padBegin;
}

/**
 * For each output position o and kernel tap j, the input index read at [o * kernel + j], or -1
 * when the tap falls on padding (or between the values of a stepped ConvTranspose input).
 */
export function axisTaps(w: AxisWindow): Int32Array {
  const taps = new Int32Array(w.outSize * w.kernel);
  for (let o = 0; o < w.outSize; o++) {
    for (let j = 0; j < w.kernel; j++) {
      const q = tapPosition(w, o, j);
      const onValue = q >= 0 && q % w.inputStep === 0 && q / w.inputStep < w.inSize;
      taps[o * w.kernel + j] = onValue ? q / w.inputStep : -1;
    }
  }
  return taps;
}

/**
 * For each output position, how many taps a pool averages over: the taps on input values, or
 * with `includePad` also the taps on explicit/auto padding (never those past the padded input
 * that ceil_mode adds), as ONNX's count_include_pad defines.
 */
export function axisCounts(w: AxisWindow, includePad: boolean): Int32Array {
  const lo = includePad ? -w.padBegin : 0;
  const hi = includePad ? w.inSize + w.padEnd : w.inSize;
  const counts = new Int32Array(w.outSize);
  for (let o = 0; o < w.outSize; o++) {
    for (let j = 0; j < w.kernel; j++) {
      const q = tapPosition(w, o, j);
      if (q >= lo && q < hi) counts[o]++;
    }
  }
  return counts;
}
