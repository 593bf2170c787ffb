import { describe, expect, it } from "vitest";
import { Concat, Split, concat, split } from "../../lib/ops/concat-split.js";
import { quantize } from "../../lib/tensor/fixed.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";
import { build, ctx, expectExact, realAt, runDef } from "./array-reference.js";

describe("Concat", () => {
  for (let seed = 1; seed <= 8; seed++) {
    it(`joins inputs along an axis, rescaling mixed fracs to the graph frac (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const base = rng.shape(1, 4, 1, 4);
      const axis = rng.int(0, base.length - 1);
      const sameFrac = rng.next() < 0.4;
      const xs = Array.from({ length: rng.int(1, 4) }, () => {
        const shape = [...base];
        shape[axis] = rng.int(0, 4);
        const frac = sameFrac ? 12 : rng.pick([0, 8, 16, 20]);
        const range = frac === 0 ? 40000 : 40; // integers beyond 2^15 saturate at frac 16
        return rng.tensor(shape, frac, -range, range);
      });
      const outFrac = sameFrac ? 12 : xs.every((x) => x.frac === xs[0].frac) ? xs[0].frac : ctx.frac;
      const shape = [...base];
      shape[axis] = xs.reduce((n, x) => n + x.shape[axis], 0);
      // the input holding output index i along the axis, and i's position inside it
      const ref = build(shape, (idx) => {
        let i = idx[axis];
        let k = 0;
        while (i >= xs[k].shape[axis]) i -= xs[k++].shape[axis];
        const src = [...idx];
        src[axis] = i;
        return quantize(realAt(xs[k], src), outFrac) / 2 ** outFrac; // round half up, saturate
      });
      const signedAxis = rng.next() < 0.5 ? axis : axis - base.length;
      expectExact(runDef(Concat, xs, { axis: signedAxis })[0], shape, outFrac, ref);
      expectExact(concat(xs, signedAxis, ctx.frac), shape, outFrac, ref);
    });
  }

  it("keeps integer tensors (frac 0) exact when all inputs share the frac", () => {
    const ids = Tensor.fromInts([50256, 7, 123456], [3]);
    const y = concat([ids, ids], 0);
    expect(y.frac).toBe(0);
    expect(Array.from(y.data)).toEqual([50256, 7, 123456, 50256, 7, 123456]);
  });

  it("rejects inputs whose shapes differ off the axis", () => {
    const a = { shape: [2, 3], frac: 16 };
    const b = { shape: [2, 4], frac: 16 };
    expect(() => Concat.infer([a, b], { axis: 0 }, ctx)).toThrow("Concat input 1 has shape [2,4], incompatible with input 0 [2,3] (only axis 0 may differ)");
    expect(() => Concat.infer([a, b], { axis: 2 }, ctx)).toThrow("Concat axis 2 is out of range for rank 2");
  });
});

describe("Split", () => {
  for (let seed = 1; seed <= 8; seed++) {
    it(`cuts the input into parts along an axis (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const x = rng.tensor(rng.shape(1, 4, 1, 7), rng.int(0, 20));
      const axis = rng.int(0, x.rank - 1);
      const dim = x.shape[axis];
      let sizes: number[];
      let attrs: Record<string, unknown>;
      if (rng.next() < 0.5) {
        // explicit sizes summing to the axis size (zeros allowed)
        sizes = [];
        let left = dim;
        while (left > 0) {
          const s = rng.int(0, left);
          sizes.push(s);
          left -= s;
        }
        if (sizes.length === 0) sizes.push(0);
        attrs = { axis: axis - (rng.next() < 0.5 ? x.rank : 0), split: sizes };
      } else {
        // num_outputs equal parts of ceil(dim / n), the last one smaller
        const counts = [...Array(dim).keys()].map((i) => i + 1).filter((n) => dim - Math.ceil(dim / n) * (n - 1) >= 0);
        const n = rng.pick(counts);
        const part = Math.ceil(dim / n);
        sizes = Array.from({ length: n }, (_, i) => Math.min(part, dim - i * part));
        attrs = { axis, num_outputs: n };
      }
      const ys = runDef(Split, [x], attrs);
      expect(ys.length).toBe(sizes.length);
      let offset = 0;
      ys.forEach((y, k) => {
        const shape = x.shape.map((d, i) => (i === axis ? sizes[k] : d));
        const start = offset;
        expectExact(y, shape, x.frac, build(shape, (idx) => realAt(x, idx.map((v, i) => (i === axis ? v + start : v)))));
        offset += sizes[k];
      });
      expect(split(x, attrs).map((y) => y.shape)).toEqual(ys.map((y) => y.shape));
    });
  }

  it("gives ceil-sized parts with a smaller last one for num_outputs", () => {
    const x = Tensor.fromInts([0, 1, 2, 3, 4, 5, 6], [7]);
    expect(split(x, { num_outputs: 3 }).map((y) => Array.from(y.data))).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  });

  it("rejects sizes that do not add up and missing part counts", () => {
    const t = { shape: [2, 5], frac: 16 };
    expect(() => Split.infer([t], { axis: 1, split: [2, 2], num_outputs: 0 }, ctx)).toThrow("Split attribute 'split' [2,2] sums to 4, the axis has size 5");
    expect(() => Split.outputs({ axis: 1, split: [], num_outputs: 0 })).toThrow("Split needs attribute 'split' (part sizes) or 'num_outputs' (>= 1)");
    expect(() => Split.outputs({ axis: 1, split: [1, 4], num_outputs: 3 })).toThrow("'num_outputs' 3 disagrees with 'split' [1,4]");
    expect(() => Split.infer([t], { axis: 1, split: [], num_outputs: 4 }, ctx)).toThrow("Split cannot cut an axis of size 5 into 4 parts of 2");
  });
});
