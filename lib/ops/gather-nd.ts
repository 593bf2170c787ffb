/**
 * GatherND (ONNX semantics, opsets 11-13; TF GatherNd is the batch_dims = 0 case): the last axis
 * of `indices` holds tuples of m indices into the leading axes of `data`; each tuple picks one
 * slice data[i1, ..., im, :, ...]. With batch_dims = b the first b axes of data and indices are
 * batch axes (equal sizes) and each batch's tuples index only that batch's data. The output shape
 * is indices.shape[:-1] + data.shape[b + m:]. Indices are read as integers as Gather reads them
 * (rescaled to frac 0, a negative index counting from the end of its axis); an index still out of
 * range is a run-time error naming the index and the data axis (a WASM engine traps there). The
 * output keeps data's frac: the op copies values.
 */
import { sizeOf, stridesOf, type Shape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { showList } from "./axis-copy.js";
import { resolveIndex } from "./gather.js";
import { check, defineOp } from "./op.js";

/** The geometry of one GatherND: counts in elements, shared by the kernel and the compiler. */
export interface GatherNDPlan {
  outShape: number[];
  /** Number of batches (product of the batch axes; 1 when batch_dims = 0). */
  batches: number;
  /** Index tuples per batch. */
  tuples: number;
  /** Sizes of the data axes b .. b+m-1 that a tuple indexes (its length is the tuple depth m). */
  dims: number[];
  /** Row-major element strides of those axes in data. */
  strides: number[];
  /** Elements of data per batch. */
  batchSize: number;
  /** Elements of one gathered slice (product of data.shape[b + m:]). */
  slice: number;
  batchDims: number;
}

export function planGatherND(data: Shape, indices: Shape, batchDims: number): GatherNDPlan {
  const [r, q, b] = [data.length, indices.length, batchDims];
  check(r >= 1 && q >= 1, `data ${showList(data)} and indices ${showList(indices)} must both have rank >= 1`);
  check(Number.isInteger(b) && b >= 0 && b < Math.min(r, q), `batch_dims ${b} must be in 0..${Math.min(r, q) - 1} (below the ranks of data and indices)`);
  for (let d = 0; d < b; d++) {
    check(data[d] === indices[d], `batch axis ${d} has size ${data[d]} in data ${showList(data)} but ${indices[d]} in indices ${showList(indices)}`);
  }
  const m = indices[q - 1];
  check(m >= 1 && m <= r - b, `the last axis of indices ${showList(indices)} (tuple depth ${m}) must be 1..${r - b}: the rank of data ${showList(data)} minus batch_dims ${b}`);
  const strides = stridesOf(data);
  return {
    outShape: [...indices.slice(0, q - 1), ...data.slice(b + m)],
    batches: sizeOf(data.slice(0, b)),
    tuples: sizeOf(indices.slice(b, q - 1)),
    dims: data.slice(b, b + m),
    strides: strides.slice(b, b + m),
    batchSize: sizeOf(data.slice(b)),
    slice: sizeOf(data.slice(b + m)),
    batchDims: b,
  };
}

export function gatherND(data: Tensor, indices: Tensor, batchDims = 0): Tensor {
  const p = planGatherND(data.shape, indices.shape, batchDims);
  const depth = p.dims.length;
  const out = new Int32Array(sizeOf(p.outShape));
  let pos = 0;
  for (let batch = 0; batch < p.batches; batch++) {
    for (let t = 0; t < p.tuples; t++) {
      const tuple = (batch * p.tuples + t) * depth;
      let start = batch * p.batchSize;
      for (let k = 0; k < depth; k++) {
        start += resolveIndex(indices.data[tuple + k], indices.frac, p.dims[k], "GatherND", p.batchDims + k) * p.strides[k];
      }
      out.set(data.data.subarray(start, start + p.slice), pos);
      pos += p.slice;
    }
  }
  return new Tensor(p.outShape, out, data.frac);
}

export type GatherNDAttrs = { batch_dims: number };

export const GatherND = defineOp<GatherNDAttrs>({
  kind: "GatherND",
  summary: "select slices of data at index tuples (the last axis of indices), after batch_dims batch axes",
  inputs: ["data", "indices"],
  attrs: { batch_dims: { type: "int", default: 0, doc: "leading axes shared by data and indices, gathered batch by batch" } },
  outputs: () => 1,
  infer: ([data, indices], a) => [{ shape: planGatherND(data.shape, indices.shape, a.batch_dims).outShape, frac: data.frac }],
  run: ([data, indices], a) => [gatherND(data, indices, a.batch_dims)],
});
