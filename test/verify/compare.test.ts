import { describe, expect, it } from "vitest";
import { I32_MAX } from "../../lib/tensor/fixed.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { argmaxRows } from "../../lib/batch.js";
import { compareOutputs, OutputComparator, type FloatTensor } from "../../lib/verify/compare.js";
import { Rng } from "../helpers/random.js";

const floats = (shape: number[], values: number[]): FloatTensor => ({ shape, data: Float64Array.from(values) });

describe("OutputComparator", () => {
  it("measures a hand-checked case", () => {
    const cmp = new OutputComparator("y");
    cmp.add(floats([4], [0, 1, 2, 3]), Tensor.fromFloat([0, 1.5, 2, 3], [4], 16));
    const r = cmp.result();
    expect(r).toMatchObject({ name: "y", shape: [4], samples: 1, count: 4, integer: false, maxAbsError: 0.5, meanAbsError: 0.125, range: 3, mismatches: 1 });
    expect(r.maxRelError).toBeCloseTo(0.5 / 3, 12);
    expect(r.worst).toEqual({ sample: 0, index: 1, expected: 1, actual: 1.5 });
    expect(r.argmax).toEqual({ agree: 1, total: 1, percent: 100, per: "row" });
    expect(r.violations).toBeUndefined();
  });

  for (const seed of [1, 2, 3, 4]) {
    it(`accumulates over samples like a direct computation (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const rows = rng.int(1, 4);
      const c = rng.int(2, 7);
      const cmp = new OutputComparator("logits", { atol: 0.01, rtol: 0.01 });
      const all: { e: number; a: number }[] = [];
      let agree = 0;
      const samples = rng.int(1, 5);
      for (let s = 0; s < samples; s++) {
        const e = Array.from({ length: rows * c }, () => rng.uniform(-3, 3));
        const t = Tensor.fromFloat(e.map((v) => v + rng.normal() * 0.02), [rows, c], 16);
        const a = Array.from(t.toFloat());
        e.forEach((v, i) => all.push({ e: v, a: a[i] }));
        for (let r = 0; r < rows; r++) {
          const row = (xs: number[]) => xs.slice(r * c, (r + 1) * c);
          const am = (xs: number[]) => xs.indexOf(Math.max(...xs));
          if (am(row(e)) === am(row(a))) agree++;
        }
        cmp.add(floats([rows, c], e), t);
      }
      const r = cmp.result();
      const errs = all.map(({ e, a }) => Math.abs(a - e));
      const range = Math.max(...all.map((x) => x.e)) - Math.min(...all.map((x) => x.e));
      expect(r.samples).toBe(samples);
      expect(r.count).toBe(all.length);
      expect(r.maxAbsError).toBe(Math.max(...errs));
      expect(r.meanAbsError).toBeCloseTo(errs.reduce((x, y) => x + y, 0) / errs.length, 12);
      expect(r.range).toBe(range);
      expect(r.maxRelError).toBeCloseTo(Math.max(...errs) / range, 12);
      expect(r.argmax).toEqual({ agree, total: rows * samples, percent: (100 * agree) / (rows * samples), per: "row" });
      const ratios = all.map(({ e, a }) => Math.abs(a - e) / (0.01 + 0.01 * Math.abs(e)));
      expect(r.violations).toBe(ratios.filter((x) => x > 1).length);
      expect(r.toleranceRatio).toBe(Math.max(...ratios));
    });
  }

  it("counts integer mismatches, saturation and non-finite float values", () => {
    const cmp = new OutputComparator("idx");
    cmp.add(floats([3], [1, 2, 3]), Tensor.fromInts([1, 5, 3], [3]));
    expect(cmp.result()).toMatchObject({ integer: true, mismatches: 1, maxAbsError: 3 });
    const sat = new OutputComparator("big");
    sat.add(floats([3], [1e6, NaN, 0]), new Tensor([3], Int32Array.from([I32_MAX, 0, 0]), 16));
    expect(sat.result()).toMatchObject({ saturated: 1, nonFinite: 1, count: 2 });
  });

  it("uses max |value| (or 1) as the scale of a constant output", () => {
    const cmp = new OutputComparator("c");
    cmp.add(floats([2], [4, 4]), Tensor.fromFloat([4.5, 4], [2], 16));
    expect(cmp.result()).toMatchObject({ range: 0, maxRelError: 0.125 });
    const zeros = new OutputComparator("z");
    zeros.add(floats([2], [0, 0]), Tensor.fromFloat([0.25, 0], [2], 16));
    expect(zeros.result().maxRelError).toBe(0.25);
  });

  it("rejects a shape mismatch with both shapes", () => {
    const cmp = new OutputComparator("y");
    expect(() => cmp.add(floats([1, 4], [0, 0, 0, 0]), Tensor.fromFloat([0, 0, 0, 0], [4], 16))).toThrow("output 'y': detml gives shape [4] but the float model gives [1,4]");
  });
});

describe("compareOutputs and argmaxRows", () => {
  it("compares named outputs across samples and names a missing one", () => {
    const e = [new Map([["y", floats([2], [1, 2])]])];
    const a = [new Map([["y", Tensor.fromFloat([1, 2], [2], 16)]])];
    expect(compareOutputs(["y"], e, a)[0]).toMatchObject({ maxAbsError: 0, argmax: { agree: 1, total: 1 } });
    expect(() => compareOutputs(["z"], e, a)).toThrow("the float model has no output 'z' (it has: y)");
  });

  it("counts argmax agreement per position of a sequence output [1, T, V]", () => {
    // T = 3 positions, V = 2: the float model picks 1, 0, 1; detml picks 1, 1, 1 (position 1 differs).
    const e = [new Map([["y", { shape: [1, 3, 2], data: Float64Array.from([0, 1, 1, 0, 0, 1]) }]])];
    const a = [new Map([["y", Tensor.fromFloat([0, 1, 0.4, 0.6, 0, 1], [1, 3, 2], 16)]])];
    expect(compareOutputs(["y"], e, a)[0].argmax).toEqual({ agree: 2, total: 3, percent: (100 * 2) / 3, per: "position" });
  });

  it("finds argmaxes along the last axis for classifier-like and sequence shapes only", () => {
    expect(argmaxRows({ shape: [2, 3], data: [0, 5, 1, 9, 2, 9] })).toEqual([1, 0]);
    expect(argmaxRows({ shape: [3], data: [1, 3, 2] })).toEqual([1]);
    expect(argmaxRows({ shape: [3, 1], data: [1, 2, 3] })).toBeUndefined();
    // A sequence output [N, T, V]: one argmax per position.
    expect(argmaxRows({ shape: [1, 2, 3], data: [0, 4, 1, 7, 0, 0] })).toEqual([1, 0]);
    expect(argmaxRows({ shape: [1, 1, 2, 3], data: [0, 0, 0, 0, 0, 0] })).toBeUndefined();
  });
});
