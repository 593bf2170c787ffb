/**
 * TopK against a plain-JS definition written here: each slice's (value, index) pairs sorted by
 * value (descending, or ascending with largest = 0), the lower index first among equal values,
 * cut to k. Random shapes, axes, k and largest over values from tiny ranges (so most slices hold
 * ties) and from the whole i32 range; long slices in the orders that make the kernel's
 * insertion cheapest and dearest; the ONNX example; the attribute checks of infer().
 */
import { describe, expect, it } from "vitest";
import { TopK, topK, type TopKAttrs } from "../../lib/ops/topk.js";
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import { normAxis } from "../../lib/tensor/shape.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { rangeTensor, rawTensor } from "./arith-random.js";
import { Rng } from "../helpers/random.js";
import { ctx, ravel, runDef, unravel } from "./array-reference.js";

/** The definition: per output position, sort the slice's pairs with the tie rule and take the k-th best. */
function reference(x: Tensor, k: number, axisAttr: number, largest: number): { shape: number[]; values: number[]; indices: number[] } {
  const axis = normAxis(axisAttr, x.rank);
  const shape = x.shape.map((d, i) => (i === axis ? k : d));
  const values: number[] = [];
  const indices: number[] = [];
  const size = shape.reduce((a, b) => a * b, 1);
  const sorted = new Map<string, { v: number; j: number }[]>();
  for (let flat = 0; flat < size; flat++) {
    const idx = unravel(flat, shape);
    const slice = idx.map((c, d) => (d === axis ? 0 : c));
    const key = String(slice);
    if (!sorted.has(key)) {
      const pairs = Array.from({ length: x.shape[axis] }, (_, j) => ({ v: x.data[ravel(slice.map((c, d) => (d === axis ? j : c)), x.shape)], j }));
      sorted.set(key, pairs.sort((a, b) => (largest === 1 ? b.v - a.v : a.v - b.v) || a.j - b.j));
    }
    const pair = sorted.get(key)![idx[axis]];
    values.push(pair.v);
    indices.push(pair.j);
  }
  return { shape, values, indices };
}

function expectDefinition(x: Tensor, attrs: Partial<TopKAttrs> & { k: number }): void {
  const a = { axis: -1, largest: 1, ...attrs };
  const want = reference(x, a.k, a.axis, a.largest);
  const [values, indices] = runDef(TopK, [x], attrs);
  expect(values.shape).toEqual(want.shape);
  expect(values.frac).toBe(x.frac);
  expect(indices.frac).toBe(0);
  expect([...indices.data]).toEqual(want.indices);
  expect([...values.data]).toEqual(want.values);
}

describe("TopK", () => {
  for (let seed = 1; seed <= 12; seed++) {
    it(`selects the k best per slice, equal values lower index first (seed ${seed})`, () => {
      const rng = new Rng(seed);
      for (let trial = 0; trial < 20; trial++) {
        const shape = rng.shape(1, 4, 1, 7);
        const axis = rng.int(-shape.length, shape.length - 1);
        const n = shape[normAxis(axis, shape.length)];
        const frac = rng.pick([0, 8, 16]);
        const x = rng.next() < 0.7 ? rangeTensor(rng, shape, -2, rng.int(-2, 3), frac) : rawTensor(rng, shape, frac, 0.3);
        const k = rng.pick([1, n, rng.int(1, n)]);
        expectDefinition(x, { k, axis, largest: rng.int(0, 1), sorted: rng.int(0, 1) });
      }
    });
  }

  it("long slices: flat (all rejected), random, ascending (every element shifts k pairs), the i32 extremes", () => {
    const rng = new Rng(5);
    const n = 3000;
    const flat = new Tensor([2, n], new Int32Array(2 * n).fill(7), 16);
    const noisy = rangeTensor(rng, [n, 2], -50, 50, 16);
    const ascending = Tensor.fromInts(Array.from({ length: n }, (_, j) => j - 1000), [1, n]);
    const extremes = Tensor.fromInts(Array.from({ length: n }, (_, j) => [I32_MIN, I32_MAX, 0, -1][j % 4]), [n]);
    for (const largest of [0, 1]) {
      expectDefinition(flat, { k: 100, largest });
      expectDefinition(noisy, { k: 100, axis: 0, largest });
      expectDefinition(ascending, { k: 50, largest });
      expectDefinition(extremes, { k: 1000, axis: 0, largest });
    }
  });

  it("gives the ONNX example (largest and smallest, sorted by value, ties by index)", () => {
    const x = Tensor.fromInts([0, 1, 2, 3, 4, 5, 6, 7, 11, 10, 9, 8], [3, 4]);
    const [values, indices] = topK(x, { k: 3 });
    expect([...values.data]).toEqual([3, 2, 1, 7, 6, 5, 11, 10, 9]);
    expect([...indices.data]).toEqual([3, 2, 1, 3, 2, 1, 0, 1, 2]);
    const [small, smallIndices] = topK(Tensor.fromInts([5, 1, 5, 1, 3], [5]), { k: 4, largest: 0 });
    expect([...small.data]).toEqual([1, 1, 3, 5]);
    expect([...smallIndices.data]).toEqual([1, 3, 4, 0]);
  });

  it("rejects k outside 1..n, bad flags and a rank-0 input", () => {
    const t = (shape: number[], frac = 16) => ({ shape, frac });
    const a = (over: Partial<TopKAttrs>): TopKAttrs => ({ k: 2, axis: -1, largest: 1, sorted: 1, ...over });
    expect(() => TopK.infer([t([2, 3])], a({ k: 4 }), ctx)).toThrow("k = 4 must be in 1..3 (the size of axis -1)");
    expect(() => TopK.infer([t([2, 3])], a({ k: 0, axis: 0 }), ctx)).toThrow("k = 0 must be in 1..2 (the size of axis 0)");
    expect(() => TopK.infer([t([2, 3])], a({ largest: 2 }), ctx)).toThrow("attribute 'largest' must be 0 or 1, got 2");
    expect(() => TopK.infer([t([2, 3])], a({ sorted: -1 }), ctx)).toThrow("attribute 'sorted' must be 0 or 1, got -1");
    expect(() => TopK.infer([t([])], a({}), ctx)).toThrow("rank 0");
    expect(TopK.infer([t([4, 5, 6], 12)], a({ k: 3, axis: 1 }), ctx)).toEqual([t([4, 3, 6], 12), t([4, 3, 6], 0)]);
  });
});
