/**
 * Constant folding of data-movement ops (float64 values, any element class): Reshape, Flatten,
 * Transpose, Concat, Split, Slice, Gather, Squeeze, Unsqueeze, Expand, Tile, ConstantOfShape,
 * Range, Trilu and Identity. Attributes are in detml IR form: shape-like operands (Reshape shape, Slice
 * starts/ends/axes/steps, Squeeze/Unsqueeze axes, Expand shape, Tile repeats, Split split) are
 * already attributes, as the front ends produce them. These run on shape arithmetic and weight
 * rearrangements at conversion time only, so they favour clarity over speed. Every output buffer
 * is taken from the SizeGuard (size-guard.ts), which checks the element count, computed from the
 * shapes and attributes alone, before anything is allocated.
 */
import { type AttrValue } from "../../lib/ops/op.js";
import { broadcastShapes, broadcastStrides, normAxis, sizeOf, stridesOf } from "../../lib/tensor/shape.js";
import type { SizeGuard } from "./size-guard.js";
import { constValue, filled, type ConstValue, type ValueClass } from "./values.js";

export type FoldAttrs = Record<string, AttrValue>;
export type Folder = (inputs: ConstValue[], attrs: FoldAttrs, guard: SizeGuard) => ConstValue[];

const ints = (attrs: FoldAttrs, name: string, fallback: number[] = []): number[] => (attrs[name] as number[] | undefined) ?? fallback;
const int = (attrs: FoldAttrs, name: string, fallback: number): number => (attrs[name] as number | undefined) ?? fallback;

/**
 * Build an output of `shape` whose element at each multi-index is read from `source` at the
 * flat index `from(index)` returns (the index array is reused between calls).
 */
function remap(guard: SizeGuard, dtype: ValueClass, shape: number[], source: Float64Array, from: (index: number[]) => number): ConstValue {
  const out = guard.alloc(shape);
  const n = out.length;
  const index = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    out[i] = source[from(index)];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return constValue(dtype, shape, out);
}

/** Reshape with ONNX's target rules: 0 copies the input dim (unless allowzero), one -1 is inferred. */
function reshape(x: ConstValue, target: number[], allowzero = 0): ConstValue {
  const copied = target.map((d, i) => (d === 0 && !allowzero ? x.shape[i] : d));
  const known = sizeOf(copied.filter((d) => d !== -1));
  const shape = copied.map((d) => (d === -1 ? x.data.length / known : d));
  if (sizeOf(shape) !== x.data.length || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`cannot reshape [${x.shape.join(",")}] to [${target.join(",")}]`);
  }
  return constValue(x.dtype, shape, x.data);
}

function transpose(guard: SizeGuard, x: ConstValue, perm: number[]): ConstValue {
  const p = perm.length ? perm : x.shape.map((_, i) => x.shape.length - 1 - i);
  const strides = stridesOf(x.shape);
  return remap(guard, x.dtype, p.map((a) => x.shape[a]), x.data, (idx) => idx.reduce((s, v, i) => s + v * strides[p[i]], 0));
}

/** Per-axis start/step/count of an ONNX Slice after clamping (the ONNX rules for both step signs). */
function sliceRanges(shape: readonly number[], starts: number[], ends: number[], axes: number[], steps: number[]): { start: number; step: number; count: number }[] {
  const ranges = shape.map((d) => ({ start: 0, step: 1, count: d }));
  const axisList = axes.length ? axes : starts.map((_, i) => i);
  axisList.forEach((a, i) => {
    const axis = normAxis(a, shape.length, "Slice axis");
    const dim = shape[axis];
    const step = steps[i] ?? 1;
    if (step === 0) throw new Error("Slice step must not be 0");
    const norm = (v: number) => (v < 0 ? v + dim : v);
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    const start = step > 0 ? clamp(norm(starts[i]), 0, dim) : clamp(norm(starts[i]), 0, dim - 1);
    const end = step > 0 ? clamp(norm(ends[i]), 0, dim) : clamp(norm(ends[i]), -1, dim - 1);
    const count = Math.max(0, Math.ceil((end - start) / step));
    ranges[axis] = { start, step, count };
  });
  return ranges;
}

function slice(guard: SizeGuard, x: ConstValue, attrs: FoldAttrs): ConstValue {
  const ranges = sliceRanges(x.shape, ints(attrs, "starts"), ints(attrs, "ends"), ints(attrs, "axes"), ints(attrs, "steps"));
  const strides = stridesOf(x.shape);
  return remap(guard, x.dtype, ranges.map((r) => r.count), x.data, (idx) => idx.reduce((s, v, d) => s + (ranges[d].start + v * ranges[d].step) * strides[d], 0));
}

function concat(guard: SizeGuard, inputs: ConstValue[], axisAttr: number): ConstValue {
  const rank = inputs[0].shape.length;
  const axis = normAxis(axisAttr, rank, "Concat axis");
  const outer = sizeOf(inputs[0].shape.slice(0, axis));
  const shape = [...inputs[0].shape];
  shape[axis] = inputs.reduce((s, t) => s + t.shape[axis], 0);
  // Bounded although every input is: Concat may list the same large constant many times.
  const out = guard.alloc(shape);
  let pos = 0;
  for (let o = 0; o < outer; o++) {
    for (const t of inputs) {
      const chunk = t.data.length / outer;
      out.set(t.data.subarray(o * chunk, (o + 1) * chunk), pos);
      pos += chunk;
    }
  }
  const dtype = inputs.some((t) => t.dtype === "float") ? "float" : inputs[0].dtype;
  return constValue(dtype, shape, out);
}

function split(guard: SizeGuard, x: ConstValue, attrs: FoldAttrs): ConstValue[] {
  const axis = normAxis(int(attrs, "axis", 0), x.shape.length, "Split axis");
  let start = 0;
  return ints(attrs, "split").map((size) => {
    const part = slice(guard, x, { starts: [start], ends: [start + size], axes: [axis] });
    start += size;
    return part;
  });
}

function gather(guard: SizeGuard, data: ConstValue, indices: ConstValue, axisAttr: number): ConstValue {
  const axis = normAxis(axisAttr, data.shape.length, "Gather axis");
  const dim = data.shape[axis];
  const idx = Array.from(indices.data, (v) => {
    const i = v < 0 ? v + dim : v;
    if (!Number.isInteger(i) || i < 0 || i >= dim) throw new Error(`Gather index ${v} is out of range for an axis of ${dim}`);
    return i;
  });
  const shape = [...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)];
  const strides = stridesOf(data.shape);
  const idxStrides = stridesOf(indices.shape);
  const qRank = indices.shape.length;
  return remap(guard, data.dtype, shape, data.data, (o) => {
    let flat = 0;
    for (let d = 0; d < axis; d++) flat += o[d] * strides[d];
    let k = 0;
    for (let d = 0; d < qRank; d++) k += o[axis + d] * idxStrides[d];
    flat += idx[k] * strides[axis];
    for (let d = axis + 1; d < data.shape.length; d++) flat += o[d + qRank - 1] * strides[d];
    return flat;
  });
}

function squeeze(x: ConstValue, axes: number[]): ConstValue {
  const drop = new Set(axes.map((a) => normAxis(a, x.shape.length, "Squeeze axis")));
  if (axes.length === 0) x.shape.forEach((d, i) => d === 1 && drop.add(i));
  return reshape(x, x.shape.filter((_, i) => !drop.has(i)), 1);
}

function unsqueeze(x: ConstValue, axes: number[]): ConstValue {
  const rank = x.shape.length + axes.length;
  const add = new Set(axes.map((a) => normAxis(a, rank, "Unsqueeze axis")));
  const rest = [...x.shape];
  return reshape(x, Array.from({ length: rank }, (_, i) => (add.has(i) ? 1 : rest.shift()!)), 1);
}

function expand(guard: SizeGuard, x: ConstValue, shape: number[]): ConstValue {
  const out = broadcastShapes(x.shape, shape);
  const strides = broadcastStrides(x.shape, out);
  return remap(guard, x.dtype, out, x.data, (idx) => idx.reduce((s, v, d) => s + v * strides[d], 0));
}

function tile(guard: SizeGuard, x: ConstValue, repeats: number[]): ConstValue {
  if (repeats.length !== x.shape.length) throw new Error(`Tile repeats [${repeats.join(",")}] must have one entry per axis of [${x.shape.join(",")}]`);
  const strides = stridesOf(x.shape);
  const shape = x.shape.map((d, i) => d * repeats[i]);
  return remap(guard, x.dtype, shape, x.data, (idx) => idx.reduce((s, v, d) => s + (v % x.shape[d]) * strides[d], 0));
}

function flatten(x: ConstValue, axisAttr: number): ConstValue {
  const axis = axisAttr < 0 ? axisAttr + x.shape.length : axisAttr;
  return reshape(x, [sizeOf(x.shape.slice(0, axis)), sizeOf(x.shape.slice(axis))], 1);
}

/** Trilu: keep the upper (j - i >= k) or lower (j - i <= k) triangle of the last two axes. */
function trilu(x: ConstValue, k: number, upper: boolean): ConstValue {
  const [rows, cols] = x.shape.slice(-2);
  const out = x.data.map((v, idx) => {
    const diag = (idx % cols) - (Math.floor(idx / cols) % rows);
    return (upper ? diag >= k : diag <= k) ? v : 0;
  });
  return constValue(x.dtype, x.shape, out);
}

function range(guard: SizeGuard, start: number, limit: number, delta: number, dtype: ValueClass): ConstValue {
  if (![start, limit, delta].every(Number.isFinite) || delta === 0) {
    throw new Error(`Range(${start}, ${limit}, ${delta}) needs a finite start and limit and a finite nonzero delta`);
  }
  const out = guard.alloc([Math.max(Math.ceil((limit - start) / delta), 0)]);
  for (let i = 0; i < out.length; i++) out[i] = start + i * delta;
  return constValue(dtype, [out.length], out);
}

export const ARRAY_FOLDERS: Record<string, Folder> = {
  Identity: ([x]) => [x],
  Reshape: ([x], a) => [reshape(x, ints(a, "shape"), int(a, "allowzero", 0))],
  Flatten: ([x], a) => [flatten(x, int(a, "axis", 1))],
  Transpose: ([x], a, g) => [transpose(g, x, ints(a, "perm"))],
  Concat: (xs, a, g) => [concat(g, xs, int(a, "axis", 0))],
  Split: ([x], a, g) => split(g, x, a),
  Slice: ([x], a, g) => [slice(g, x, a)],
  Gather: ([data, indices], a, g) => [gather(g, data, indices, int(a, "axis", 0))],
  Squeeze: ([x], a) => [squeeze(x, ints(a, "axes"))],
  Unsqueeze: ([x], a) => [unsqueeze(x, ints(a, "axes"))],
  Expand: ([x], a, g) => [expand(g, x, ints(a, "shape"))],
  Tile: ([x], a, g) => [tile(g, x, ints(a, "repeats"))],
  ConstantOfShape: ([shape], a, g) => [filled(g, a.dtype as ValueClass, Array.from(shape.data), a.value as number, "folding")],
  Trilu: ([x, k], a) => [trilu(x, k ? k.data[0] : 0, int(a, "upper", 1) === 1)],
  Range: ([start, limit, delta], _, g) => [range(g, start.data[0], limit.data[0], delta.data[0], start.dtype)],
};
