/**
 * Slice (ONNX semantics, starts/ends/axes/steps as attributes): per listed axis, take every
 * step-th element from start towards end. Negative starts/ends count from the end of the axis;
 * then, for a positive step, start and end are clamped to [0, dim]; for a negative step start is
 * clamped to [0, dim-1] and end to [-1, dim-1]. The converter stores ONNX's INT64 "to the end"
 * sentinels clamped into i32, and any end beyond the axis simply clamps to it. An empty range
 * gives a zero-size axis. A pure copy: the output keeps the input's frac.
 */
import { normAxis, stridesOf, type Shape } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import { axisOffsets, clamp, copyByAxes, showList, type AxisOffsets } from "./axis-copy.js";
import { check, defineOp, resolveAttrs } from "./op.js";

export type SliceAttrs = { starts: number[]; ends: number[]; axes: number[]; steps: number[] };

/** The selected elements of one axis: start, start + step, ... (`length` of them). */
export interface AxisRange {
  start: number;
  step: number;
  length: number;
}


/** Resolve an ONNX start/end/step on an axis of size `dim` to the elements it selects. */
export function axisRange(dim: number, start: number, end: number, step: number): AxisRange {
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = clamp(s, 0, dim);
    e = clamp(e, 0, dim);
    return { start: s, step, length: e > s ? Math.ceil((e - s) / step) : 0 };
  }
  s = clamp(s, 0, dim - 1);
  e = clamp(e, -1, dim - 1);
  return { start: s, step, length: s > e ? Math.ceil((s - e) / -step) : 0 };
}

/** One range per input axis (the whole axis where the attributes do not mention it). */
export function sliceRanges(shape: Shape, a: SliceAttrs): AxisRange[] {
  const n = a.starts.length;
  check(a.ends.length === n, `Slice attributes 'starts' ${showList(a.starts)} and 'ends' ${showList(a.ends)} differ in length`);
  check(a.axes.length === 0 || a.axes.length === n, `Slice attribute 'axes' ${showList(a.axes)} must have ${n} entries like 'starts'`);
  check(a.steps.length === 0 || a.steps.length === n, `Slice attribute 'steps' ${showList(a.steps)} must have ${n} entries like 'starts'`);
  check(a.steps.every((s) => s !== 0), `Slice attribute 'steps' ${showList(a.steps)} contains 0`);
  const axes = a.axes.length > 0 ? a.axes.map((ax) => normAxis(ax, shape.length, "Slice axis")) : [...Array(n).keys()];
  check(n <= shape.length, `Slice has ${n} starts but the input has rank ${shape.length}`);
  check(new Set(axes).size === axes.length, `Slice attribute 'axes' ${showList(a.axes)} repeats an axis`);
  const ranges = shape.map((dim): AxisRange => ({ start: 0, step: 1, length: dim }));
  axes.forEach((axis, k) => {
    ranges[axis] = axisRange(shape[axis], a.starts[k], a.ends[k], a.steps[k] ?? 1);
  });
  return ranges;
}

/** The per-axis offset tables of a slice of `shape` (copyByAxes / copyOffsets). */
export function sliceOffsets(shape: Shape, a: SliceAttrs): AxisOffsets[] {
  const strides = stridesOf(shape);
  return sliceRanges(shape, a).map((r, d) => axisOffsets(r.length, strides[d], (i) => r.start + i * r.step));
}

export function slice(x: Tensor, attrs: Partial<SliceAttrs>): Tensor {
  return copyByAxes(x, sliceOffsets(x.shape, resolveAttrs(Slice, attrs)));
}

export const Slice = defineOp<SliceAttrs>({
  kind: "Slice",
  summary: "take elements start:end:step along some axes",
  inputs: ["data"],
  attrs: {
    starts: { type: "ints", doc: "first index per sliced axis (negative counts from the end)" },
    ends: { type: "ints", doc: "exclusive end per sliced axis (negative counts from the end; clamped)" },
    axes: { type: "ints", default: [], doc: "the sliced axes; empty: 0..len(starts)-1" },
    steps: { type: "ints", default: [], doc: "step per sliced axis, nonzero; empty: all 1" },
  },
  outputs: () => 1,
  infer: ([x], a) => [{ shape: sliceRanges(x.shape, a).map((r) => r.length), frac: x.frac }],
  run: ([x], a) => [slice(x, a)],
});
