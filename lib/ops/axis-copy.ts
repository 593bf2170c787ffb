/**
 * The one copy loop behind the data-movement ops whose output index maps to an input index axis
 * by axis (Slice, Pad, Tile, Expand, nearest Resize): each output axis gets a table saying, for
 * every output coordinate, which element offset of the input it reads (input coordinate times
 * the input stride), or -1 for "not from the input" (Pad's constant fill). The input element of
 * an output position is the sum of its per-axis offsets. No arithmetic touches tensor values.
 * The converter's constant folder copies float64 values through the same tables (copyOffsets),
 * so a folded Slice, Expand, Tile or Transpose reads exactly the elements the kernel reads.
 * Also the small helpers these ops share: exact floor division, clamping, and the [a,b,c]
 * formatting of integer lists in error messages.
 */
import { sizeOf } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";

/** Offset table of one output axis: entry i is the input element offset read at coordinate i, or -1. */
export type AxisOffsets = Int32Array;

/** The offset table of an output axis reading input coordinate `coord(i)` of an input axis with `stride`. */
export function axisOffsets(length: number, stride: number, coord: (i: number) => number): AxisOffsets {
  const table = new Int32Array(length);
  for (let i = 0; i < length; i++) {
    const c = coord(i);
    table[i] = c < 0 ? -1 : c * stride;
  }
  return table;
}

/**
 * Fill `out` (of shape `offsets.map(length)`) from the flat `source`: output element
 * (i0, ..., ik) is source[offsets[0][i0] + ... + offsets[k][ik]], or `fill` when any table entry
 * is -1. Any element array: the kernels copy Int32 tensor data, the converter's constant folder
 * float64 values, through the same tables.
 */
export function copyOffsets<T extends Int32Array | Float64Array>(source: ArrayLike<number>, out: T, offsets: readonly AxisOffsets[], fill = 0): T {
  const rank = offsets.length;
  if (rank === 0) {
    out[0] = source[0];
    return out;
  }
  if (out.length === 0) return out;
  const outShape = offsets.map((t) => t.length);
  const last = offsets[rank - 1];
  const rowLength = last.length;
  const idx = new Array<number>(rank - 1).fill(0);
  for (let rowStart = 0; rowStart < out.length; rowStart += rowLength) {
    let base = 0;
    let filled = false;
    for (let d = 0; d < rank - 1; d++) {
      const off = offsets[d][idx[d]];
      if (off < 0) filled = true;
      base += off;
    }
    for (let i = 0; i < rowLength; i++) {
      out[rowStart + i] = filled || last[i] < 0 ? fill : source[base + last[i]];
    }
    for (let d = rank - 2; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** Copy `x` into a new tensor of shape `offsets.map(length)` (copyOffsets); it keeps x's frac. */
export function copyByAxes(x: Tensor, offsets: readonly AxisOffsets[], fill = 0): Tensor {
  const outShape = offsets.map((t) => t.length);
  return new Tensor(outShape, copyOffsets(x.data, new Int32Array(sizeOf(outShape)), offsets, fill), x.frac);
}

/** floor(n / d) for integers n and d > 0, |n| < 2^53, corrected so float rounding cannot matter. */
export function floorDiv(n: number, d: number): number {
  let q = Math.floor(n / d);
  const r = n - q * d;
  if (r < 0) q--;
  else if (r >= d) q++;
  return q;
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** An integer list as error messages show it: [2,3,4]. */
export function showList(values: readonly number[]): string {
  return `[${values.join(",")}]`;
}
