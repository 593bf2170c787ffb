import { describe, expect, it } from "vitest";
import { Slice, slice } from "../../lib/ops/slice.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";
import { build, ctx, expectExact, realAt, runDef } from "./array-reference.js";

const I32_MAX = 2147483647;
const I32_MIN = -2147483648;

/** The indices Python's a[start:stop:step] selects (CPython's slice adjustment, as numpy and ONNX). */
function pythonSlice(length: number, start: number, stop: number, step: number): number[] {
  const adjust = (v: number) => {
    if (v < 0) {
      v += length;
      if (v < 0) v = step < 0 ? -1 : 0;
    } else if (v >= length) {
      v = step < 0 ? length - 1 : length;
    }
    return v;
  };
  const [s, e] = [adjust(start), adjust(stop)];
  const out: number[] = [];
  for (let i = s; step > 0 ? i < e : i > e; i += step) out.push(i);
  return out;
}

describe("Slice", () => {
  for (let seed = 1; seed <= 10; seed++) {
    it(`selects start:end:step like numpy, clamping and counting negatives from the end (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const x = rng.tensor(rng.shape(1, 4, 0, 6), rng.int(0, 20));
      const useAxes = rng.next() < 0.6;
      const axes = useAxes
        ? [...Array(x.rank).keys()].sort(() => rng.next() - 0.5).slice(0, rng.int(1, x.rank))
        : [...Array(rng.int(1, x.rank)).keys()];
      const bound = (dim: number) => rng.next() < 0.15 ? rng.pick([I32_MIN, I32_MAX]) : rng.int(-dim - 3, dim + 3);
      const starts = axes.map((a) => bound(x.shape[a]));
      const ends = axes.map((a) => bound(x.shape[a]));
      const useSteps = rng.next() < 0.7;
      const steps = useSteps ? axes.map(() => rng.pick([-3, -2, -1, 1, 2, 3])) : [];
      const picks = x.shape.map((dim, d) => {
        const k = axes.indexOf(d);
        return k < 0 ? [...Array(dim).keys()] : pythonSlice(dim, starts[k], ends[k], steps[k] ?? 1);
      });
      const shape = picks.map((p) => p.length);
      const ref = build(shape, (idx) => realAt(x, idx.map((i, d) => picks[d][i])));
      const attrs = {
        starts, ends, steps,
        axes: useAxes ? axes.map((a) => (rng.next() < 0.5 ? a - x.rank : a)) : [],
      };
      expectExact(runDef(Slice, [x], attrs)[0], shape, x.frac, ref);
      expectExact(slice(x, attrs), shape, x.frac, ref);
    });
  }

  it("reverses with INT64-style sentinels clamped into i32", () => {
    const x = Tensor.fromInts([0, 1, 2, 3, 4, 5], [6]);
    expect(Array.from(slice(x, { starts: [-1], ends: [I32_MIN], steps: [-1] }).data)).toEqual([5, 4, 3, 2, 1, 0]);
    expect(Array.from(slice(x, { starts: [1], ends: [I32_MAX], steps: [2] }).data)).toEqual([1, 3, 5]);
    expect(Array.from(slice(x, { starts: [4], ends: [1] }).data)).toEqual([]);
  });

  it("rejects inconsistent attributes", () => {
    const t = { shape: [4, 5], frac: 16 };
    const infer = (attrs: { starts: number[]; ends: number[]; axes?: number[]; steps?: number[] }) =>
      Slice.infer([t], { axes: [], steps: [], ...attrs }, ctx);
    expect(() => infer({ starts: [0], ends: [1, 2] })).toThrow("Slice attributes 'starts' [0] and 'ends' [1,2] differ in length");
    expect(() => infer({ starts: [0], ends: [1], steps: [0] })).toThrow("Slice attribute 'steps' [0] contains 0");
    expect(() => infer({ starts: [0, 0], ends: [1, 1], axes: [1, -1] })).toThrow("Slice attribute 'axes' [1,-1] repeats an axis");
    expect(() => infer({ starts: [0], ends: [1], axes: [2] })).toThrow("Slice axis 2 is out of range for rank 2");
  });
});
