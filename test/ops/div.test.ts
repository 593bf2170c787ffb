import { describe, expect, it } from "vitest";
import { Div, div } from "../../lib/ops/div.js";
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import { broadcastIndex, broadcastShapes } from "../../lib/tensor/shape.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";
import { unitsError } from "./math-reference.js";

/** A shape that broadcasts with `shape`: some dimensions set to 1, maybe fewer leading axes. */
function broadcastPartner(rng: Rng, shape: number[]): number[] {
  return shape.slice(rng.int(0, shape.length)).map((d) => (rng.next() < 0.3 ? 1 : d));
}

describe("Div", () => {
  for (let seed = 1; seed <= 8; seed++) {
    it(`is within half a unit of the real quotient, with saturation (seed ${seed})`, () => {
      const rng = new Rng(seed + 100);
      const shapeA = rng.shape(1, 4);
      const shapeB = broadcastPartner(rng, shapeA);
      const [fa, fb, fo] = [rng.int(0, 30), rng.int(0, 30), rng.int(0, 30)];
      const a = rng.tensor(shapeA, fa, -(2 ** Math.min(30 - fa, 10)), 2 ** Math.min(30 - fa, 10));
      const b = rng.tensor(shapeB, fb, -(2 ** Math.min(30 - fb, 4)), 2 ** Math.min(30 - fb, 4));
      const y = div(a, b, fo);
      const shape = broadcastShapes(a.shape, b.shape);
      expect(y.shape).toEqual(shape);
      expect(y.frac).toBe(fo);
      expect(Div.infer([{ shape: shapeA, frac: fa }, { shape: shapeB, frac: fb }], { mode: "real" }, { frac: fo }))
        .toEqual([{ shape, frac: fo }]);
      const ia = broadcastIndex(a.shape, shape);
      const ib = broadcastIndex(b.shape, shape);
      const af = a.toFloat();
      const bf = b.toFloat();
      y.data.forEach((v, i) => {
        const [p, q] = [af[ia[i]], bf[ib[i]]];
        if (q === 0) {
          expect(v).toBe(p > 0 ? I32_MAX : p < 0 ? I32_MIN : 0);
          return;
        }
        // Exactly rounded: within 0.5 unit (a tie rounds away from zero, also 0.5).
        expect(unitsError(v, p / q, fo), `${p} / ${q} at Q${fo}`).toBeLessThanOrEqual(0.5 + 1e-6);
      });
      expect(Div.run([a, b], { mode: "real" }, { frac: fo })[0].equals(y)).toBe(true);
    });
  }

  it("rounds ties away from zero and follows the divRound rule for zero divisors", () => {
    const a = Tensor.fromInts([3, -3, 5, -5, 0], [5]);
    const b = Tensor.fromInts([2, 2, 0, 0, 0], [5]);
    expect([...div(a, b, 0).data]).toEqual([2, -2, I32_MAX, I32_MIN, 0]);
    // A huge shift: 1 / 2^-30 at Q30 is 2^60, saturated.
    expect(div(Tensor.fromInts([1], [1]), new Tensor([1], Int32Array.of(1), 30), 30).data[0]).toBe(I32_MAX);
  });

  for (let seed = 1; seed <= 6; seed++) {
    it(`modes floor and trunc give the exact integer quotient at frac 0 (seed ${seed})`, () => {
      const rng = new Rng(seed + 200);
      const shapeA = rng.shape(1, 3);
      const shapeB = broadcastPartner(rng, shapeA);
      const integer = seed % 2 === 1;
      const [fa, fb] = integer ? [0, 0] : [rng.pick([0, 8, 16, 30]), rng.pick([0, 8, 16, 30])];
      const raw = (shape: number[], frac: number, bits: number) => new Tensor(shape,
        Int32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => (rng.next() < 0.1 ? 0 : rng.int(-(2 ** bits), 2 ** bits))), frac);
      const a = raw(shapeA, fa, rng.pick([8, 20, 31]));
      const b = raw(shapeB, fb, rng.pick([2, 8, 16]));
      const shape = broadcastShapes(a.shape, b.shape);
      const [ia, ib] = [broadcastIndex(a.shape, shape), broadcastIndex(b.shape, shape)];
      for (const mode of ["floor", "trunc"] as const) {
        const y = Div.run([a, b], { mode }, { frac: 16 })[0];
        expect(Div.infer([{ shape: shapeA, frac: fa }, { shape: shapeB, frac: fb }], { mode }, { frac: 16 })).toEqual([{ shape, frac: 0 }]);
        expect(div(a, b, 16, mode).equals(y)).toBe(true);
        y.data.forEach((v, i) => {
          // BigInt reference on the operands aligned to the common frac: q = a / b truncated, then floored.
          const c = BigInt(Math.max(fa, fb));
          const [x, d] = [BigInt(a.data[ia[i]]) << (c - BigInt(fa)), BigInt(b.data[ib[i]]) << (c - BigInt(fb))];
          if (d === 0n) return expect(v).toBe(x > 0n ? I32_MAX : x < 0n ? I32_MIN : 0);
          let q = x / d;
          if (mode === "floor" && x % d !== 0n && x < 0n !== d < 0n) q -= 1n;
          expect(v, `${x} / ${d} (${mode})`).toBe(Number(q > 2147483647n ? 2147483647n : q < -2147483648n ? -2147483648n : q));
        });
      }
    });
  }

  it("floor rounds down and trunc toward zero (TF FloorDiv, ONNX Div of integers)", () => {
    const a = Tensor.fromInts([7, -7, 7, -7, 6, 0], [6]);
    const b = Tensor.fromInts([2, 2, -2, -2, 3, 5], [6]);
    expect([...div(a, b, 16, "floor").data]).toEqual([3, -4, -4, 3, 2, 0]);
    expect([...div(a, b, 16, "trunc").data]).toEqual([3, -3, -3, 3, 2, 0]);
    expect([...div(Tensor.fromFloat([-2.5], [1], 8), Tensor.fromInts([1], [1]), 16, "floor").data]).toEqual([-3]);
  });

  it("rejects shapes that do not broadcast", () => {
    expect(() => Div.infer([{ shape: [2, 3], frac: 16 }, { shape: [4], frac: 16 }], { mode: "real" }, { frac: 16 }))
      .toThrow("shapes [2,3] and [4] do not broadcast");
  });
});
