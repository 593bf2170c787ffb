/**
 * Float-to-fixed conversion (lib/tensor/fixed.ts): `quantize`, the one rule (floor(x * 2^frac +
 * 0.5), saturated, NaN to 0), worked out by hand on the edge cases, and `quantizeInto`, the
 * array form the converter uses on whole weight tensors, equal to it value for value.
 */
import { describe, expect, it } from "vitest";
import { I32_MAX, I32_MIN, quantize, quantizeInto } from "../../lib/tensor/fixed.js";
import { Rng } from "../helpers/random.js";

describe("quantize", () => {
  it("rounds half up at the frac and saturates at the i32 edges", () => {
    const cases: [number, number, number][] = [
      [0.5, 0, 1], [-0.5, 0, 0], [1.5, 0, 2], [-1.5, 0, -1], [2.49, 0, 2],
      [1, 16, 65536], [-1 / 65536, 16, -1], [0.75 / 65536, 16, 1], [-0.75 / 65536, 16, -1],
      [32767.99999, 16, I32_MAX], [-32768, 16, I32_MIN], [-32769, 16, I32_MIN], [1e300, 8, I32_MAX],
      [Infinity, 16, I32_MAX], [-Infinity, 16, I32_MIN], [NaN, 16, 0],
    ];
    for (const [x, frac, want] of cases) expect(quantize(x, frac), `quantize(${x}, ${frac})`).toBe(want);
  });

  it("quantizeInto gives quantize's value for every element, edges and random values", () => {
    const rng = new Rng(5);
    const values = [0.5, -0.5, 1.5, -1.5, NaN, Infinity, -Infinity, 32767.99999, -32768.00001, 1e300, -1e300, 0, -0];
    for (let i = 0; i < 2000; i++) values.push((rng.next() - 0.5) * 2 ** rng.int(-20, 20));
    for (const frac of [0, 7, 16, 30]) {
      const out = new Int32Array(values.length);
      quantizeInto(values, frac, out);
      expect(Array.from(out)).toEqual(values.map((x) => quantize(x, frac)));
    }
  });
});
