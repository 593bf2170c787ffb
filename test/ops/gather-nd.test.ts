/**
 * GatherND against a plain-JS definition written here element by element (output multi-index ->
 * tuple of indices -> data multi-index), over random shapes, tuple depths, batch_dims, negative
 * indices and indices given at a frac; plus the run-time error on an index out of range and the
 * shape checks of infer().
 */
import { describe, expect, it } from "vitest";
import { GatherND, gatherND } from "../../lib/ops/gather-nd.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";
import { build, ctx, expectExact, ravel, realAt, runDef } from "./array-reference.js";

describe("GatherND", () => {
  for (let seed = 1; seed <= 10; seed++) {
    it(`picks slices at index tuples, batch by batch, negatives from the end (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const data = rng.tensor(rng.shape(1, 4, 1, 4), rng.int(0, 20));
      const r = data.rank;
      const b = rng.int(0, Math.min(r - 1, 2));
      const m = rng.int(1, r - b);
      const indicesShape = [...data.shape.slice(0, b), ...rng.shape(0, 2, 1, 3), m];
      const size = indicesShape.reduce((x, y) => x * y, 1);
      const wanted = Array.from({ length: size }, (_, i) => {
        const dim = data.shape[b + (i % m)];
        return rng.int(-dim, dim - 1);
      });
      // Indices at frac 0, or at a frac where they are rounded to integers (as Gather reads them).
      const indices = rng.next() < 0.5 ? Tensor.fromInts(wanted, indicesShape)
        : Tensor.fromFloat(wanted.map((v) => v + rng.uniform(-0.49, 0.49)), indicesShape, 8);
      const lead = indicesShape.length - 1;
      const shape = [...indicesShape.slice(0, lead), ...data.shape.slice(b + m)];
      const ref = build(shape, (idx) => {
        const tuple = Array.from({ length: m }, (_, k) => {
          const v = wanted[ravel([...idx.slice(0, lead), k], indicesShape)];
          return v < 0 ? v + data.shape[b + k] : v;
        });
        return realAt(data, [...idx.slice(0, b), ...tuple, ...idx.slice(lead)]);
      });
      expectExact(runDef(GatherND, [data, indices], { batch_dims: b })[0], shape, data.frac, ref);
      expectExact(gatherND(data, indices, b), shape, data.frac, ref);
    });
  }

  it("gathers whole rows, single elements and batched tuples (the ONNX examples)", () => {
    const data = Tensor.fromInts([0, 1, 2, 3], [2, 2]);
    expect([...gatherND(data, Tensor.fromInts([0, 0, 1, 1], [2, 2])).data]).toEqual([0, 3]);
    expect([...gatherND(data, Tensor.fromInts([1, 0], [2, 1])).data]).toEqual([2, 3, 0, 1]);
    const cube = Tensor.fromInts([0, 1, 2, 3, 4, 5, 6, 7], [2, 2, 2]);
    const batched = gatherND(cube, Tensor.fromInts([1, 0], [2, 1]), 1);
    expect(batched.shape).toEqual([2, 2]);
    expect([...batched.data]).toEqual([2, 3, 4, 5]);
    expect([...gatherND(cube, Tensor.fromInts([-1, -2, -1], [1, 3])).data]).toEqual([5]);
  });

  it("throws at run time on an index out of range, naming the index and the data axis", () => {
    const data = new Rng(1).tensor([3, 4, 2]);
    expect(() => gatherND(data, Tensor.fromInts([1, 4], [1, 2]))).toThrow("GatherND index 4 is out of range for axis 1 of size 4");
    expect(() => gatherND(data, Tensor.fromInts([-4], [1, 1]))).toThrow("GatherND index -4 is out of range for axis 0 of size 3");
    expect(() => gatherND(data, Tensor.fromInts([0, 5, 0], [3, 1]), 1)).toThrow("GatherND index 5 is out of range for axis 1 of size 4");
  });

  it("rejects tuple depths, batch_dims and batch sizes that do not fit", () => {
    const t = (shape: number[], frac = 0) => ({ shape, frac });
    expect(() => GatherND.infer([t([3, 4], 16), t([2, 3])], { batch_dims: 0 }, ctx)).toThrow("tuple depth 3) must be 1..2");
    expect(() => GatherND.infer([t([3, 4], 16), t([3, 1])], { batch_dims: 2 }, ctx)).toThrow("batch_dims 2 must be in 0..1");
    expect(() => GatherND.infer([t([3, 4], 16), t([2, 1])], { batch_dims: 1 }, ctx)).toThrow("batch axis 0 has size 3 in data [3,4] but 2 in indices [2,1]");
    expect(() => GatherND.infer([t([], 16), t([1])], { batch_dims: 0 }, ctx)).toThrow("must both have rank >= 1");
    expect(GatherND.infer([t([2, 5, 6], 12), t([4, 7, 2])], { batch_dims: 0 }, ctx)).toEqual([t([4, 7, 6], 12)]);
  });
});
