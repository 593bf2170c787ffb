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
      expect(Div.infer([{ shape: shapeA, frac: fa }, { shape: shapeB, frac: fb }], {}, { frac: fo }))
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
      expect(Div.run([a, b], {}, { frac: fo })[0].equals(y)).toBe(true);
    });
  }

  it("rounds ties away from zero and follows the divRound rule for zero divisors", () => {
    const a = Tensor.fromInts([3, -3, 5, -5, 0], [5]);
    const b = Tensor.fromInts([2, 2, 0, 0, 0], [5]);
    expect([...div(a, b, 0).data]).toEqual([2, -2, I32_MAX, I32_MIN, 0]);
    // A huge shift: 1 / 2^-30 at Q30 is 2^60, saturated.
    expect(div(Tensor.fromInts([1], [1]), new Tensor([1], Int32Array.of(1), 30), 30).data[0]).toBe(I32_MAX);
  });

  it("rejects shapes that do not broadcast", () => {
    expect(() => Div.infer([{ shape: [2, 3], frac: 16 }, { shape: [4], frac: 16 }], {}, { frac: 16 }))
      .toThrow("shapes [2,3] and [4] do not broadcast");
  });
});
