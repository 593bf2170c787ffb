/**
 * Constant folding of data-movement ops (float64 values, any element class): Reshape, Flatten,
 * Transpose, Concat, Split, Slice, Gather, Squeeze, Unsqueeze, Expand, Tile, ConstantOfShape,
 * Range, Trilu and Identity. Attributes are in detml IR form: shape-like operands (Reshape shape,
 * Slice starts/ends/axes/steps, Squeeze/Unsqueeze axes, Expand shape, Tile repeats, Split split)
 * are already attributes, as the front ends produce them. The IR ops among them fold through the
 * kernels' own definitions in lib/ops (output shapes, and the per-axis index tables of Slice,
 * Transpose, Expand and Tile copied by copyOffsets), so a folded op cannot disagree with the op
 * run at inference time; only the copying works on float64 values here. Every output buffer
 * is taken from the SizeGuard (size-guard.ts), which checks the element count, computed from the
 * shapes and attributes alone, before anything is allocated.
 */
import { copyOffsets, type AxisOffsets } from "../../lib/ops/axis-copy.js";
import { concatShape } from "../../lib/ops/concat-split.js";
import { expandOffsets, expandShape, tileOffsets, tileShape } from "../../lib/ops/expand-tile.js";
import { gatherInto, gatherShape } from "../../lib/ops/gather.js";
import { type AttrValue } from "../../lib/ops/op.js";
import { flattenShape, reshapeShape, squeezeShape, unsqueezeShape } from "../../lib/ops/reshape.js";
import { sliceOffsets, sliceRanges } from "../../lib/ops/slice.js";
import { transposeOffsets, transposeShape } from "../../lib/ops/transpose.js";
import { normAxis, sizeOf } from "../../lib/tensor/shape.js";
import type { SizeGuard } from "./size-guard.js";
import { constValue, filled, type ConstValue, type ValueClass } from "./values.js";

export type FoldAttrs = Record<string, AttrValue>;
export type Folder = (inputs: ConstValue[], attrs: FoldAttrs, guard: SizeGuard) => ConstValue[];

const ints = (attrs: FoldAttrs, name: string, fallback: number[] = []): number[] => (attrs[name] as number[] | undefined) ?? fallback;
const int = (attrs: FoldAttrs, name: string, fallback: number): number => (attrs[name] as number | undefined) ?? fallback;

/**
 * An output of `shape` copied from `x` through the kernel's own index tables; the buffer is
 * taken from the guard before the tables (one entry per output coordinate) are built.
 */
function copied(guard: SizeGuard, x: ConstValue, shape: number[], offsets: () => AxisOffsets[]): ConstValue {
  const out = guard.alloc(shape);
  return constValue(x.dtype, shape, copyOffsets(x.data, out, offsets()));
}

/** The same values under another shape (the view ops: their shape functions are the kernels'). */
function viewAs(x: ConstValue, shape: number[]): ConstValue {
  return constValue(x.dtype, shape, x.data);
}

function slice(guard: SizeGuard, x: ConstValue, attrs: FoldAttrs): ConstValue {
  const a = { starts: ints(attrs, "starts"), ends: ints(attrs, "ends"), axes: ints(attrs, "axes"), steps: ints(attrs, "steps") };
  return copied(guard, x, sliceRanges(x.shape, a).map((r) => r.length), () => sliceOffsets(x.shape, a));
}

function concat(guard: SizeGuard, inputs: ConstValue[], axisAttr: number): ConstValue {
  const shape = concatShape(inputs.map((t) => t.shape), axisAttr);
  const outer = sizeOf(inputs[0].shape.slice(0, normAxis(axisAttr, shape.length)));
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
  const shape = gatherShape(data.shape, indices.shape, axis);
  return constValue(data.dtype, shape, gatherInto(data.data, data.shape, axis, idx, guard.alloc(shape)));
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
  Reshape: ([x], a) => [viewAs(x, reshapeShape(x.shape, ints(a, "shape"), int(a, "allowzero", 0)))],
  Flatten: ([x], a) => [viewAs(x, flattenShape(x.shape, int(a, "axis", 1)))],
  Transpose: ([x], a, g) => [copied(g, x, transposeShape(x.shape, ints(a, "perm")), () => transposeOffsets(x.shape, ints(a, "perm")))],
  Concat: (xs, a, g) => [concat(g, xs, int(a, "axis", 0))],
  Split: ([x], a, g) => split(g, x, a),
  Slice: ([x], a, g) => [slice(g, x, a)],
  Gather: ([data, indices], a, g) => [gather(g, data, indices, int(a, "axis", 0))],
  Squeeze: ([x], a) => [viewAs(x, squeezeShape(x.shape, ints(a, "axes")))],
  Unsqueeze: ([x], a) => [viewAs(x, unsqueezeShape(x.shape, ints(a, "axes")))],
  Expand: ([x], a, g) => [copied(g, x, expandShape(x.shape, ints(a, "shape")), () => expandOffsets(x.shape, ints(a, "shape")))],
  Tile: ([x], a, g) => [copied(g, x, tileShape(x.shape, ints(a, "repeats")), () => tileOffsets(x.shape, ints(a, "repeats")))],
  ConstantOfShape: ([shape], a, g) => [filled(g, a.dtype as ValueClass, Array.from(shape.data), a.value as number, "folding")],
  Trilu: ([x, k], a) => [trilu(x, k ? k.data[0] : 0, int(a, "upper", 1) === 1)],
  Range: ([start, limit, delta], _, g) => [range(g, start.data[0], limit.data[0], delta.data[0], start.dtype)],
};
