import { describe, expect, it } from "vitest";
import {
  Flatten, Identity, Reshape, Squeeze, Unsqueeze, flatten, reshape, squeeze, unsqueeze,
} from "../../lib/ops/reshape.js";
import type { OpDef } from "../../lib/ops/op.js";
import type { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";
import { ctx, runDef } from "./array-reference.js";

const run1 = (def: OpDef<any>, x: Tensor, attrs: Record<string, unknown>) => runDef(def, [x], attrs)[0];

/** Same values in the same row-major order, new shape, same frac. */
function expectView(y: Tensor, x: Tensor, shape: number[]): void {
  expect(y.shape).toEqual(shape);
  expect(y.frac).toBe(x.frac);
  expect(Array.from(y.toFloat())).toEqual(Array.from(x.toFloat()));
}

/** A random shape with the same element count: the dims' factors regrouped in a random order. */
function regroup(rng: Rng, shape: number[]): number[] {
  const factors = shape.flatMap((d) => (d === 4 ? [2, 2] : [d])).filter((d) => d !== 1);
  for (let i = factors.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [factors[i], factors[j]] = [factors[j], factors[i]];
  }
  const out: number[] = [];
  for (const f of factors) {
    if (out.length > 0 && rng.next() < 0.4) out[out.length - 1] *= f;
    else out.push(f);
  }
  if (rng.next() < 0.3) out.splice(rng.int(0, out.length), 0, 1);
  return out;
}

describe("Reshape", () => {
  for (let seed = 1; seed <= 8; seed++) {
    it(`keeps the data and gives the requested shape, with 0 and -1 entries (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const x = rng.tensor(rng.shape(0, 4), rng.int(0, 20));
      const target = regroup(rng, [...x.shape]);
      const attr = target.map((d, i) => (d === x.shape[i] && rng.next() < 0.5 ? 0 : d));
      if (attr.length > 0 && rng.next() < 0.6) attr[rng.int(0, attr.length - 1)] = -1;
      expectView(run1(Reshape, x, { shape: attr }), x, target);
      expectView(reshape(x, attr), x, target);
    });
  }

  it("allowzero = 1 makes 0 a zero-size dimension", () => {
    const x = new Rng(3).tensor([0, 3]);
    expectView(run1(Reshape, x, { shape: [3, 0], allowzero: 1 }), x, [3, 0]);
    expectView(run1(Reshape, x, { shape: [0, 3] }), x, [0, 3]);
  });

  it("rejects impossible shapes with specific messages", () => {
    const t = { shape: [2, 3], frac: 16 };
    const infer = (shape: number[], allowzero = 0) => Reshape.infer([t], { shape, allowzero }, ctx);
    expect(() => infer([4, -1])).toThrow("cannot reshape [2,3] (6 values) to [4,-1]: the -1 entry cannot be inferred");
    expect(() => infer([-1, -1])).toThrow("has 2 entries -1, at most one can be inferred");
    expect(() => infer([7])).toThrow("cannot reshape [2,3] (6 values) to [7] (7 values)");
    expect(() => infer([1, 1, 0])).toThrow("copies dimension 2 (entry 0) but the input has rank 2");
    expect(() => infer([-2, 3])).toThrow("has an entry below -1");
    expect(() => infer([0, -1], 1)).toThrow("the -1 entry cannot be inferred");
  });
});

describe("Flatten", () => {
  for (let seed = 1; seed <= 5; seed++) {
    it(`gives [prod(dims < axis), prod(dims >= axis)] (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const x = rng.tensor(rng.shape(0, 4), rng.int(0, 20));
      const axis = rng.int(-x.rank, x.rank);
      const a = axis < 0 ? axis + x.rank : axis;
      const prod = (dims: readonly number[]) => dims.reduce((p, d) => p * d, 1);
      const shape = [prod(x.shape.slice(0, a)), prod(x.shape.slice(a))];
      expectView(run1(Flatten, x, { axis }), x, shape);
      expectView(flatten(x, axis), x, shape);
    });
  }

  it("rejects an axis beyond the rank", () => {
    expect(() => Flatten.infer([{ shape: [2, 3], frac: 8 }], { axis: 3 }, ctx)).toThrow("Flatten axis 3 is out of range for rank 2 (allowed -2..2)");
  });
});

describe("Squeeze and Unsqueeze", () => {
  for (let seed = 1; seed <= 6; seed++) {
    it(`insert and remove size-1 axes (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const x = rng.tensor(rng.shape(0, 3, 2, 4), rng.int(0, 20));
      // insert k ones at random output positions, given with random signs
      const rank = x.rank + rng.int(1, 3);
      const positions = [...Array(rank).keys()].sort(() => rng.next() - 0.5).slice(0, rank - x.rank).sort((p, q) => p - q);
      const expanded: number[] = [];
      let next = 0;
      for (let i = 0; i < rank; i++) expanded.push(positions.includes(i) ? 1 : x.shape[next++]);
      const axes = positions.map((p) => (rng.next() < 0.5 ? p - rank : p)).reverse();
      const u = run1(Unsqueeze, x, { axes });
      expectView(u, x, expanded);
      expectView(unsqueeze(x, axes), x, expanded);
      // squeezing the same axes, or all size-1 axes (x has none: dims >= 2), restores x's shape
      expectView(run1(Squeeze, u, { axes }), x, [...x.shape]);
      expectView(run1(Squeeze, u, {}), x, [...x.shape]);
      expectView(squeeze(u), x, [...x.shape]);
    });
  }

  it("reject axes that are repeated, out of range or not of size 1", () => {
    const t = { shape: [2, 1, 3], frac: 16 };
    expect(() => Squeeze.infer([t], { axes: [0] }, ctx)).toThrow("Squeeze axis 0 has size 2, only size-1 axes can be removed");
    expect(() => Squeeze.infer([t], { axes: [1, -2] }, ctx)).toThrow("Squeeze attribute 'axes' repeats an axis: [1,-2]");
    expect(() => Unsqueeze.infer([t], { axes: [4] }, ctx)).toThrow("Unsqueeze axis 4 is out of range for rank 4");
    expect(() => Unsqueeze.infer([t], { axes: [] }, ctx)).toThrow("Unsqueeze attribute 'axes' is empty");
  });
});

describe("Identity", () => {
  it("returns the input unchanged", () => {
    const x = new Rng(9).tensor([2, 3, 4], 11);
    const y = run1(Identity, x, {});
    expect(y.equals(x)).toBe(true);
  });
});
