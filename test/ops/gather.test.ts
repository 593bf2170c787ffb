import { describe, expect, it } from "vitest";
import { Gather, gather } from "../../lib/ops/gather.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";
import { build, ctx, expectExact, realAt, runDef } from "./array-reference.js";

describe("Gather", () => {
  for (let seed = 1; seed <= 8; seed++) {
    it(`picks slices along an axis at integer indices, negatives from the end (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const data = rng.tensor(rng.shape(1, 3, 1, 5), rng.int(0, 20));
      const axis = rng.int(0, data.rank - 1);
      const dim = data.shape[axis];
      const indicesShape = rng.shape(0, 2, 0, 4);
      const size = indicesShape.reduce((a, b) => a * b, 1);
      const wanted = Array.from({ length: size }, () => rng.int(-dim, dim - 1));
      // indices given at frac 0 (token ids) or at a frac, where they are rounded to integers
      const indices = rng.next() < 0.5 ? Tensor.fromInts(wanted, indicesShape) : Tensor.fromFloat(wanted.map((v) => v + rng.uniform(-0.49, 0.49)), indicesShape, 8);
      const q = indicesShape.length;
      const shape = [...data.shape.slice(0, axis), ...indicesShape, ...data.shape.slice(axis + 1)];
      const ref = build(shape, (idx) => {
        const k = indicesShape.reduce((acc, d, i) => acc * d + idx[axis + i], 0);
        const row = wanted[k] < 0 ? wanted[k] + dim : wanted[k];
        return realAt(data, [...idx.slice(0, axis), row, ...idx.slice(axis + q)]);
      });
      const signedAxis = rng.next() < 0.5 ? axis : axis - data.rank;
      expectExact(runDef(Gather, [data, indices], { axis: signedAxis })[0], shape, data.frac, ref);
      expectExact(gather(data, indices, signedAxis), shape, data.frac, ref);
    });
  }

  it("looks up embeddings for token ids", () => {
    const table = Tensor.fromFloat([0, 0.5, 1, 1.5, 2, 2.5], [3, 2], 20);
    const y = gather(table, Tensor.fromInts([2, 0, -1], [1, 3]));
    expect(y.shape).toEqual([1, 3, 2]);
    expect(y.frac).toBe(20);
    expect(Array.from(y.toFloat())).toEqual([2, 2.5, 0, 0.5, 2, 2.5]);
  });

  it("throws at run time on an index out of range, and rejects a bad axis", () => {
    const table = new Rng(1).tensor([64, 4]);
    expect(() => gather(table, Tensor.fromInts([3, 70], [2]))).toThrow("Gather index 70 is out of range for axis 0 of size 64");
    expect(() => gather(table, Tensor.fromInts([-65], [1]))).toThrow("Gather index -65 is out of range for axis 0 of size 64");
    expect(() => Gather.infer([{ shape: [64, 4], frac: 16 }, { shape: [2], frac: 0 }], { axis: 2 }, ctx)).toThrow("Gather axis 2 is out of range for rank 2");
  });
});
