import { describe, expect, it } from "vitest";
import { Pad, pad } from "../../lib/ops/pad.js";
import { quantize } from "../../lib/tensor/fixed.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";
import { build, ctx, expectExact, realAt, runDef } from "./array-reference.js";

type Mode = "constant" | "reflect" | "edge";

/**
 * numpy.pad index rules on one axis of length n for position p (which may lie outside 0..n-1):
 * edge repeats the border; reflect mirrors about the border element, again and again while the
 * position is still outside. Returns -1 for constant mode outside the axis.
 */
function numpyPadIndex(p: number, n: number, mode: Mode): number {
  if (p >= 0 && p < n) return p;
  if (mode === "constant") return -1;
  if (mode === "edge" || n === 1) return p < 0 ? 0 : n - 1;
  while (p < 0 || p >= n) p = p < 0 ? -p : 2 * (n - 1) - p;
  return p;
}

describe("Pad", () => {
  for (let seed = 1; seed <= 12; seed++) {
    it(`pads (or crops) like numpy.pad after removing negative pads (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const x = rng.tensor(rng.shape(1, 4, 1, 5), rng.int(0, 20));
      const mode = rng.pick(["constant", "reflect", "edge"] as const);
      const useAxes = rng.next() < 0.5;
      const axes = useAxes ? [...Array(x.rank).keys()].sort(() => rng.next() - 0.5).slice(0, rng.int(1, x.rank)) : [...Array(x.rank).keys()];
      // crops leave at least one element on an axis; pads up to 2x the axis (reflect bounces)
      const begin = x.shape.map(() => 0);
      const end = x.shape.map(() => 0);
      for (const a of axes) {
        const dim = x.shape[a];
        const crop = rng.int(0, dim - 1);
        const cropBegin = rng.int(0, crop);
        begin[a] = rng.next() < 0.3 ? -cropBegin : rng.int(0, 2 * dim);
        end[a] = rng.next() < 0.3 ? -(crop - cropBegin) : rng.int(0, 2 * dim);
      }
      const pads = [...axes.map((a) => begin[a]), ...axes.map((a) => end[a])];
      const value = quantize(rng.uniform(-3, 3), 16);
      const fill = quantize(value / 65536, x.frac) / 2 ** x.frac;
      const shape = x.shape.map((d, i) => d + begin[i] + end[i]);
      const ref = build(shape, (idx) => {
        const src = idx.map((o, d) => {
          const first = Math.max(0, -begin[d]);
          const kept = x.shape[d] - first - Math.max(0, -end[d]);
          const p = numpyPadIndex(o - Math.max(0, begin[d]), kept, mode);
          return p < 0 ? -1 : first + p;
        });
        return src.includes(-1) ? fill : realAt(x, src);
      });
      const attrs = { pads, mode, value, axes: useAxes ? axes.map((a) => (rng.next() < 0.5 ? a - x.rank : a)) : [] };
      expectExact(runDef(Pad, [x], attrs)[0], shape, x.frac, ref);
      expectExact(pad(x, pads, attrs), shape, x.frac, ref);
    });
  }

  it("matches numpy examples for reflect and edge", () => {
    const x = Tensor.fromInts([1, 2, 3], [3]);
    // outputs of numpy.pad([1, 2, 3], (4, 5), mode="reflect") and numpy.pad([1, 2, 3, 4], (7, 9), mode="reflect")
    expect(Array.from(pad(x, [4, 5], { mode: "reflect" }).data)).toEqual([1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2]);
    expect(Array.from(pad(Tensor.fromInts([1, 2, 3, 4], [4]), [7, 9], { mode: "reflect" }).data))
      .toEqual([2, 1, 2, 3, 4, 3, 2, 1, 2, 3, 4, 3, 2, 1, 2, 3, 4, 3, 2, 1]);
    expect(Array.from(pad(x, [2, 1], { mode: "edge" }).data)).toEqual([1, 1, 1, 2, 3, 3]);
    expect(Array.from(pad(x, [1, -2], { value: 5 * 65536 }).data)).toEqual([5, 1]);
  });

  it("rejects pads of the wrong length and impossible crops", () => {
    const t = { shape: [2, 3], frac: 16 };
    const infer = (pads: number[], mode: Mode = "constant", axes: number[] = []) => Pad.infer([t], { pads, mode, value: 0, axes }, ctx);
    expect(() => infer([1, 1])).toThrow("Pad attribute 'pads' [1,1] has 2 entries, expected 4 (begin and end for 2 axes)");
    expect(() => infer([0, -2, 0, -2])).toThrow("Pad removes 4 elements from axis 1 of size 3");
    expect(() => infer([-2, 0, 1, 0], "edge")).toThrow("Pad mode edge cannot extend axis 0: it has no elements to repeat");
    expect(() => infer([1, 1], "constant", [3])).toThrow("Pad axis 3 is out of range for rank 2");
  });
});
