/**
 * TopK (ONNX semantics; TF TopKV2 is axis -1, largest 1): along one axis, the k largest values
 * (the k smallest with largest = 0), best first, and their positions on that axis. Values keep
 * X's frac; Indices are integers at frac 0. Values are compared as raw integers (one input, one
 * frac), so the selection is exact, and it is deterministic: equal values keep the lower index
 * first (the rule of ONNX and TF), which makes the result one defined answer. `k` is an
 * attribute (ONNX's K input must be a constant; the converters turn it into this attribute).
 * With sorted = 0 ONNX allows any order; detml returns the sorted order then too.
 * Algorithm, per slice along the axis: the outputs themselves hold the best (value, index) pairs
 * seen so far, sorted. The first k elements fill them; after that an element enters only if it is
 * better than the k-th pair (one comparison rejects it otherwise), shifting the worse pairs down
 * one slot and dropping the k-th. O(n) when most elements are rejected (the usual case: random
 * data inserts about k ln(n/k) times), O(n k) at worst (an input already in the wrong order).
 * The compiler's emitter (compiler/emit/topk.ts) runs the same loops in WASM.
 */
import { normAxis, sizeOf, type Shape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { check, defineOp, resolveAttrs } from "./op.js";

export type TopKAttrs = { k: number; axis: number; largest: number; sorted: number };

/** The geometry of one TopK: the slice length n, and the slices as (outer, inner) blocks. */
export interface TopKPlan {
  axis: number;
  /** Length of the axis. */
  n: number;
  k: number;
  /** Product of the dimensions before / after the axis: element j of slice (o, i) is at (o * n + j) * inner + i. */
  outer: number;
  inner: number;
  /** X's shape with the axis cut to k (both outputs). */
  outShape: number[];
}

export function planTopK(shape: Shape, a: TopKAttrs): TopKPlan {
  check(a.largest === 0 || a.largest === 1, `attribute 'largest' must be 0 or 1, got ${a.largest}`);
  check(a.sorted === 0 || a.sorted === 1, `attribute 'sorted' must be 0 or 1, got ${a.sorted}`);
  check(shape.length > 0, "input has rank 0, TopK needs an axis");
  const axis = normAxis(a.axis, shape.length);
  const n = shape[axis];
  check(Number.isInteger(a.k) && a.k >= 1 && a.k <= n, `k = ${a.k} must be in 1..${n} (the size of axis ${a.axis})`);
  return {
    axis,
    n,
    k: a.k,
    outer: sizeOf(shape.slice(0, axis)),
    inner: sizeOf(shape.slice(axis + 1)),
    outShape: shape.map((d, i) => (i === axis ? a.k : d)),
  };
}

/** The k best values of `x` along the axis and their indices (attributes as the TopK op's). */
export function topK(x: Tensor, attrs: Partial<TopKAttrs> & { k: number }): [Tensor, Tensor] {
  const a = resolveAttrs(TopK, attrs);
  const { n, k, outer, inner, outShape } = planTopK(x.shape, a);
  const values = new Int32Array(sizeOf(outShape));
  const indices = new Int32Array(values.length);
  const better = a.largest === 1 ? (u: number, v: number) => u > v : (u: number, v: number) => u < v;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      // Element j of the slice is x.data[src + j * inner]; slot s of its outputs is at dst + s * inner.
      const src = o * n * inner + i;
      const dst = o * k * inner + i;
      const last = dst + (k - 1) * inner;
      for (let j = 0; j < n; j++) {
        const v = x.data[src + j * inner];
        // The slot v enters at: the next free one while filling, else the k-th's if v beats it.
        let slot: number;
        if (j < k) slot = dst + j * inner;
        else if (better(v, values[last])) slot = last;
        else continue;
        // Shift the worse pairs down one slot; an equal value stays ahead (it has the lower index).
        while (slot > dst && better(v, values[slot - inner])) {
          values[slot] = values[slot - inner];
          indices[slot] = indices[slot - inner];
          slot -= inner;
        }
        values[slot] = v;
        indices[slot] = j;
      }
    }
  }
  return [new Tensor(outShape, values, x.frac), new Tensor(outShape, indices, 0)];
}

export const TopK = defineOp<TopKAttrs>({
  kind: "TopK",
  summary: "the k largest (or smallest) values along an axis, best first (ties: lower index first), and their indices",
  inputs: ["X"],
  attrs: {
    k: { type: "int", doc: "how many values to keep, 1..the axis size" },
    axis: { type: "int", default: -1, doc: "the axis to select along, negative from the end" },
    largest: { type: "int", default: 1, doc: "1: the largest values, 0: the smallest" },
    sorted: { type: "int", default: 1, doc: "accepted for ONNX; the output is sorted either way" },
  },
  outputs: () => 2,
  infer: ([x], a) => {
    const { outShape } = planTopK(x.shape, a);
    return [{ shape: outShape, frac: x.frac }, { shape: [...outShape], frac: 0 }];
  },
  run: ([x], a) => topK(x, a),
});
