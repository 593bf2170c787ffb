import { describe, expect, it } from "vitest";
import { COORDINATE_MODES, NEAREST_MODES, Resize, resize, type ResizeAttrs } from "../../lib/ops/resize.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";
import { build, ctx, expectExact, realAt, runDef, unravel } from "./array-reference.js";

type CoordMode = ResizeAttrs["coordinate_transformation_mode"];
type NearestMode = ResizeAttrs["nearest_mode"];

/**
 * ONNX's source coordinate of output index d, in floating point. Products come before the
 * division so that exact ties (x = k + 1/2) are computed exactly and rounding modes can be tested.
 * An axis of unchanged size is an identity, as in onnxruntime (only tf_half_pixel_for_nn differs).
 */
function sourceCoord(d: number, inSize: number, outSize: number, mode: CoordMode): number {
  if (inSize === outSize) return d;
  switch (mode) {
    case "half_pixel": return ((d + 0.5) * inSize) / outSize - 0.5;
    case "pytorch_half_pixel": return outSize > 1 ? ((d + 0.5) * inSize) / outSize - 0.5 : -0.5;
    case "align_corners": return outSize === 1 ? 0 : (d * (inSize - 1)) / (outSize - 1);
    case "asymmetric": return (d * inSize) / outSize;
    case "tf_half_pixel_for_nn": return ((d + 0.5) * inSize) / outSize;
  }
}

function roundNearest(x: number, mode: NearestMode): number {
  switch (mode) {
    case "floor": return Math.floor(x);
    case "ceil": return Math.ceil(x);
    case "round_prefer_ceil": return Math.floor(x + 0.5);
    case "round_prefer_floor": return x - Math.floor(x) === 0.5 ? Math.floor(x) : Math.round(x);
  }
}

const clampTo = (v: number, n: number) => Math.min(Math.max(v, 0), n - 1);

/** Float reference of one output element (nearest: the picked input; linear: bilinear on a clamped coordinate). */
function reference(x: Tensor, idx: number[], sizes: number[], a: ResizeAttrs): number {
  const rank = x.rank;
  const lead = idx.slice(0, rank - 2);
  const [y, xc] = [rank - 2, rank - 1].map((d) => sourceCoord(idx[d], x.shape[d], sizes[d], a.coordinate_transformation_mode));
  const [inH, inW] = x.shape.slice(-2);
  if (a.mode === "nearest") return realAt(x, [...lead, clampTo(roundNearest(y, a.nearest_mode), inH), clampTo(roundNearest(xc, a.nearest_mode), inW)]);
  const taps = (c: number, n: number) => {
    const v = clampTo(c, n);
    const lo = Math.floor(v);
    return { lo, hi: Math.min(lo + 1, n - 1), r: v - lo };
  };
  const ty = taps(y, inH);
  const tx = taps(xc, inW);
  const at = (r: number, c: number) => realAt(x, [...lead, r, c]);
  const top = at(ty.lo, tx.lo) * (1 - tx.r) + at(ty.lo, tx.hi) * tx.r;
  const bottom = at(ty.hi, tx.lo) * (1 - tx.r) + at(ty.hi, tx.hi) * tx.r;
  return top * (1 - ty.r) + bottom * ty.r;
}

describe("Resize", () => {
  for (let seed = 1; seed <= 16; seed++) {
    const mode = seed % 2 === 0 ? "nearest" : "linear";
    it(`${mode}: matches ONNX's coordinate formulas (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const x = rng.tensor([...rng.shape(0, 2, 1, 3), rng.int(1, 7), rng.int(1, 7)], rng.int(0, 20));
      const sizes = [...x.shape.slice(0, -2), rng.int(1, 13), rng.int(1, 13)];
      const a: ResizeAttrs = {
        sizes, mode,
        coordinate_transformation_mode: rng.pick(COORDINATE_MODES),
        nearest_mode: rng.pick(NEAREST_MODES),
      };
      const ref = build(sizes, (idx) => reference(x, idx, sizes, a));
      const y = runDef(Resize, [x], a)[0];
      if (mode === "nearest") {
        expectExact(y, sizes, x.frac, ref);
      } else {
        // one final rounding of an exact rational: within one unit of the last place (2^-frac)
        expect(y.shape).toEqual(sizes);
        expect(y.frac).toBe(x.frac);
        y.toFloat().forEach((v, i) => expect(Math.abs(v - ref[i])).toBeLessThanOrEqual(2 ** -x.frac));
      }
      expect(resize(x, sizes, a).equals(y)).toBe(true);
    });
  }

  it("linear on a wide denominator (the i64 path) stays within one unit at extreme values", () => {
    const rng = new Rng(7);
    const x = rng.tensor([1, 1, 3, 3], 0, -(2 ** 31), 2 ** 31); // saturated extremes included
    const sizes = [1, 1, 1024, 1024]; // weights out of 2048 * 2048 > 2^21
    const a: ResizeAttrs = { sizes, mode: "linear", coordinate_transformation_mode: "half_pixel", nearest_mode: "round_prefer_floor" };
    const y = resize(x, sizes, a);
    for (let k = 0; k < 2000; k++) {
      const i = rng.int(0, y.size - 1);
      expect(Math.abs(y.data[i] - reference(x, unravel(i, sizes), sizes, a))).toBeLessThanOrEqual(1);
    }
  });

  it("nearest upsampling by 2 repeats pixels", () => {
    const x = Tensor.fromInts([1, 2, 3, 4], [1, 1, 2, 2]);
    const y = resize(x, [1, 1, 4, 4], { coordinate_transformation_mode: "asymmetric", nearest_mode: "floor" });
    expect(Array.from(y.data)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    const z = resize(x, [1, 1, 4, 4]); // half_pixel, round_prefer_floor (ONNX defaults)
    expect(Array.from(z.data)).toEqual(Array.from(y.data));
  });

  it("rejects sizes that change other axes or exceed the weight bound", () => {
    const t = { shape: [1, 3, 4, 4], frac: 16 };
    const infer = (sizes: number[], mode: ResizeAttrs["mode"] = "nearest") =>
      Resize.infer([t], { sizes, mode, coordinate_transformation_mode: "half_pixel", nearest_mode: "floor" }, ctx);
    expect(() => infer([2, 3, 8, 8])).toThrow("Resize changes only the last two axes; 'sizes' [2,3,8,8] changes axis 0 of input [1,3,4,4]");
    expect(() => infer([1, 3, 8])).toThrow("Resize attribute 'sizes' [1,3,8] needs 4 entries (the full output shape)");
    expect(() => infer([1, 3, 0, 8])).toThrow("Resize output size 0 on axis 2 is not in 1..2^24");
    expect(() => Resize.infer([{ shape: [1, 1, 1, 1], frac: 16 }], { sizes: [1, 1, 40000, 40000], mode: "linear", coordinate_transformation_mode: "half_pixel", nearest_mode: "floor" }, ctx))
      .toThrow("needs weights with denominator 6400000000 > 2^32");
    expect(() => Resize.infer([{ shape: [4], frac: 16 }], { sizes: [8], mode: "nearest", coordinate_transformation_mode: "half_pixel", nearest_mode: "floor" }, ctx))
      .toThrow("Resize input has rank 1; it resizes the last two axes, e.g. [N,C,H,W]");
  });
});
