/**
 * Gather (ONNX semantics): pick slices of `data` along `axis` at the positions listed in the
 * `indices` tensor; the output shape is data.shape[:axis] + indices.shape + data.shape[axis+1:].
 * Indices are read as integers (rescaled to frac 0 with the one rounding rule, so token ids at
 * frac 0 pass unchanged); a negative index counts from the end of the axis. An index still out
 * of range is a run-time error naming the index and the axis size (a WASM engine traps there):
 * failing loudly is the only deterministic choice that does not invent data. The output keeps
 * data's frac.
 */
import { rescale } from "../tensor/fixed.js";
import { normAxis, sizeOf, type Shape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { defineOp } from "./op.js";

/**
 * An index element read as an integer (rescaled to frac 0), a negative one counting from the end
 * of axis `axis` of size `dim`; out of range is an error naming the op, the index and the axis.
 */
export function resolveIndex(value: number, frac: number, dim: number, op: string, axis: number): number {
  const index = rescale(value, frac, 0);
  const row = index < 0 ? index + dim : index;
  if (row < 0 || row >= dim) throw new Error(`${op} index ${index} is out of range for axis ${axis} of size ${dim}`);
  return row;
}

export function gatherShape(data: Shape, indices: Shape, axis = 0): number[] {
  const a = normAxis(axis, data.length, "Gather axis");
  return [...data.slice(0, a), ...indices, ...data.slice(a + 1)];
}

/**
 * Fill `out` (gatherShape order) with the slices of `source` (of `shape`) at positions `rows`
 * (resolved, in range) along axis `axis` (normalized). Any element array: the kernel copies
 * Int32 tensor data, the converter's constant folder float64 values.
 */
export function gatherInto<T extends Int32Array | Float64Array>(source: T, shape: Shape, axis: number, rows: ArrayLike<number>, out: T): T {
  const dim = shape[axis];
  const outer = sizeOf(shape.slice(0, axis));
  const inner = sizeOf(shape.slice(axis + 1));
  let pos = 0;
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < rows.length; k++) {
      const start = (o * dim + rows[k]) * inner;
      out.set(source.subarray(start, start + inner), pos);
      pos += inner;
    }
  }
  return out;
}

export function gather(data: Tensor, indices: Tensor, axis = 0): Tensor {
  const outShape = gatherShape(data.shape, indices.shape, axis);
  const a = normAxis(axis, data.rank);
  const rows = indices.data.map((v) => resolveIndex(v, indices.frac, data.shape[a], "Gather", a));
  return new Tensor(outShape, gatherInto(data.data, data.shape, a, rows, new Int32Array(sizeOf(outShape))), data.frac);
}

export type GatherAttrs = { axis: number };

export const Gather = defineOp<GatherAttrs>({
  kind: "Gather",
  summary: "select slices of data along an axis at integer indices (e.g. embedding lookup)",
  inputs: ["data", "indices"],
  attrs: { axis: { type: "int", default: 0, doc: "the indexed axis of data, negative counts from the end" } },
  outputs: () => 1,
  infer: ([data, indices], a) => [{ shape: gatherShape(data.shape, indices.shape, a.axis), frac: data.frac }],
  run: ([data, indices], a) => [gather(data, indices, a.axis)],
});
