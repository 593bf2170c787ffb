/**
 * Mod against float64 written here (JS % is exact on doubles, the floor remainder adds the
 * divisor when the signs differ), over random broadcast shapes: integer tensors at frac 0 and
 * reals at mixed fracs, both fmod modes, signs of both operands, the saturation of a remainder
 * beyond i32; plus the run-time error on a zero divisor and the attribute check.
 */
import { describe, expect, it } from "vitest";
import { Mod, mod } from "../../lib/ops/mod.js";
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import { broadcastShapes } from "../../lib/tensor/shape.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";
import { ctx, runDef } from "./array-reference.js";
import { broadcastableShapes, broadcastRead, unravel } from "./arith-random.js";

/** The real remainder: truncated (fmod 1, the sign of x) or floored (fmod 0, the sign of y). */
function remainder(x: number, y: number, fmod: number): number {
  const r = x % y;
  return fmod === 0 && r !== 0 && r < 0 !== y < 0 ? r + y : r;
}

/** Nonzero raw values: integers up to 2^bits in magnitude. */
function nonzero(rng: Rng, shape: number[], frac: number, bits: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(shape, Int32Array.from({ length: n }, () => rng.pick([-1, 1]) * rng.int(1, 2 ** bits)), frac);
}

describe("Mod", () => {
  for (let seed = 1; seed <= 10; seed++) {
    it(`is the exact remainder at the common frac, fmod 0 and 1 (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const [sa, sb] = broadcastableShapes(rng, 2);
      const integer = seed % 2 === 1;
      const [fa, fb] = integer ? [0, 0] : [rng.pick([0, 8, 16, 20]), rng.pick([0, 8, 16, 20])];
      const a = nonzero(rng, sa, fa, rng.pick([4, 12, 20, 30]));
      const b = nonzero(rng, sb, fb, rng.pick([2, 8, 16]));
      const fmod = rng.int(0, 1);
      const y = runDef(Mod, [a, b], { fmod })[0];
      const shape = broadcastShapes(sa, sb);
      const fo = Math.max(fa, fb);
      expect(y.shape).toEqual(shape);
      expect(y.frac).toBe(fo);
      y.data.forEach((v, i) => {
        const idx = unravel(i, shape);
        const [x, d] = [a.data[broadcastRead(idx, sa)] / 2 ** fa, b.data[broadcastRead(idx, sb)] / 2 ** fb];
        const want = Math.min(I32_MAX, Math.max(I32_MIN, remainder(x, d, fmod) * 2 ** fo));
        expect(v, `${x} mod ${d} (fmod ${fmod})`).toBe(want);
      });
      expect(mod(a, b, fmod).equals(y)).toBe(true);
    });
  }

  it("follows the divisor's sign with fmod 0 and the dividend's with fmod 1 (the ONNX examples)", () => {
    const x = Tensor.fromInts([-4, 7, 5, 4, -7, 8], [6]);
    const y = Tensor.fromInts([2, -3, 8, -2, 3, 5], [6]);
    expect([...mod(x, y).data]).toEqual([0, -2, 5, 0, 2, 3]);
    expect([...mod(x, y, 1).data]).toEqual([0, 1, 5, 0, -1, 3]);
    const reals = mod(Tensor.fromFloat([-4.25, 7.5], [2], 8), Tensor.fromFloat([2, -3], [2], 4), 1);
    expect(reals.frac).toBe(8);
    expect([...reals.toFloat()]).toEqual([-0.25, 1.5]);
    // -1 mod 2^30 at the dividend's frac 16 is 2^46 - 2^-16 units: saturated.
    expect(mod(new Tensor([1], Int32Array.of(-1), 16), Tensor.fromInts([2 ** 30], [1])).data[0]).toBe(I32_MAX);
    expect(mod(Tensor.fromInts([I32_MIN], [1]), Tensor.fromInts([-1], [1])).data[0]).toBe(0);
  });

  it("throws at run time on a zero divisor and rejects fmod other than 0 and 1", () => {
    expect(() => mod(Tensor.fromInts([3, 4], [2]), Tensor.fromInts([2, 0], [2]))).toThrow("Mod divisor is 0 (element 1 of the divisor, output element 1)");
    expect(() => Mod.infer([{ shape: [2], frac: 0 }, { shape: [2], frac: 0 }], { fmod: 2 }, ctx)).toThrow("attribute 'fmod' must be 0 or 1, got 2");
  });
});
