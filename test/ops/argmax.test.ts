import { describe, expect, it } from "vitest";
import { ArgMax, argMax, type ArgMaxAttrs } from "../../lib/ops/argmax.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";
import { unravel } from "./arith-random.js";

/** Float reference: scan every output position along the axis on the dequantized values. */
function argMaxFloat(x: Tensor, attrs: ArgMaxAttrs): { shape: number[]; indices: number[] } {
  const axis = attrs.axis < 0 ? attrs.axis + x.rank : attrs.axis;
  const kept = x.shape.map((d, i) => (i === axis ? 1 : d));
  const xf = x.toFloat();
  const size = kept.reduce((a, b) => a * b, 1);
  const indices = Array.from({ length: size }, (_, o) => {
    const idx = unravel(o, kept);
    let best = -Infinity;
    let at = -1;
    for (let k = 0; k < x.shape[axis]; k++) {
      idx[axis] = k;
      const v = xf[idx.reduce((flat, i, d) => flat * x.shape[d] + i, 0)];
      if (v > best || (attrs.select_last_index === 1 && v === best)) {
        best = v;
        at = k;
      }
    }
    return at;
  });
  return { shape: attrs.keepdims ? kept : x.shape.filter((_, i) => i !== axis), indices };
}

describe("ArgMax", () => {
  for (let seed = 1; seed <= 8; seed++) {
    it(`matches the float scan with random axis, keepdims and ties (seed ${seed})`, () => {
      const rng = new Rng(seed + 900);
      for (let trial = 0; trial < 15; trial++) {
        const shape = rng.shape(1, 4, 1, 5);
        // Few distinct values so that ties are common.
        const n = shape.reduce((a, b) => a * b, 1);
        const x = new Tensor(shape, Int32Array.from({ length: n }, () => rng.pick([-2147483648, -3, 0, 5, 2147483647])), rng.int(0, 24));
        const attrs = { axis: rng.int(-shape.length, shape.length - 1), keepdims: rng.int(0, 1), select_last_index: rng.int(0, 1) };
        const out = argMax(x, attrs);
        const want = argMaxFloat(x, attrs);
        expect(out.frac).toBe(0);
        expect(out.shape).toEqual(want.shape);
        expect(Array.from(out.data)).toEqual(want.indices);
        expect(ArgMax.infer([{ shape, frac: x.frac }], attrs, { frac: 16 })).toEqual([{ shape: [...out.shape], frac: 0 }]);
      }
    });
  }

  it("defaults to axis 0, keepdims 1, first index", () => {
    const out = argMax(Tensor.fromInts([1, 9, 9, 2], [2, 2]));
    expect(out.shape).toEqual([1, 2]);
    expect(Array.from(out.data)).toEqual([1, 0]);
  });

  it("rejects an axis out of range, a rank-0 input and a bad select_last_index", () => {
    const attrs = { axis: 0, keepdims: 1, select_last_index: 0 };
    expect(() => ArgMax.infer([{ shape: [2, 3], frac: 16 }], { ...attrs, axis: -3 }, { frac: 16 })).toThrow("axis -3 is out of range for rank 2");
    expect(() => ArgMax.infer([{ shape: [], frac: 16 }], attrs, { frac: 16 })).toThrow("input has rank 0, ArgMax needs an axis");
    expect(() => ArgMax.infer([{ shape: [2], frac: 16 }], { ...attrs, select_last_index: 3 }, { frac: 16 })).toThrow("'select_last_index' must be 0 or 1");
  });
});
