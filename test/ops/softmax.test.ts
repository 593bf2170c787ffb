import { describe, expect, it } from "vitest";
import { LogSoftmax, Softmax, logSoftmax, softmax } from "../../lib/ops/softmax.js";
import { sizeOf } from "../../lib/tensor/shape.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";
import { BOUNDS, tolerance, unitsError } from "./math-reference.js";

/** Float softmax / log-softmax along `axis` of row-major data. */
function reference(xs: Float64Array, shape: number[], axis: number, logForm: boolean): Float64Array {
  const n = shape[axis];
  const inner = sizeOf(shape.slice(axis + 1));
  const out = new Float64Array(xs.length);
  for (let o = 0; o < sizeOf(shape.slice(0, axis)); o++) {
    for (let i = 0; i < inner; i++) {
      const at = (k: number) => (o * n + k) * inner + i;
      let max = -Infinity;
      for (let k = 0; k < n; k++) max = Math.max(max, xs[at(k)]);
      let sum = 0;
      for (let k = 0; k < n; k++) sum += Math.exp(xs[at(k)] - max);
      for (let k = 0; k < n; k++) {
        out[at(k)] = logForm ? xs[at(k)] - max - Math.log(sum) : Math.exp(xs[at(k)] - max) / sum;
      }
    }
  }
  return out;
}

describe("Softmax and LogSoftmax", () => {
  for (const [def, kernel, bound, logForm] of [
    [Softmax, softmax, BOUNDS.softmax, false],
    [LogSoftmax, logSoftmax, BOUNDS.logSoftmax, true],
  ] as const) {
    for (let seed = 1; seed <= 6; seed++) {
      it(`${def.kind} along a random axis matches float64 (seed ${seed})`, () => {
        const rng = new Rng(seed * 13 + (logForm ? 1 : 0));
        const shape = rng.shape(1, 4, 1, 6);
        const axis = rng.int(-shape.length, shape.length - 1);
        const fx = rng.int(8, 24);
        const fo = rng.int(8, 28);
        const spread = rng.pick([1, 8, 40]);
        const x = rng.tensor(shape, fx, -spread, spread);
        const y = kernel(x, { axis }, fo);
        expect(y.shape).toEqual(shape);
        expect(y.frac).toBe(fo);
        const ref = reference(x.toFloat(), shape, axis < 0 ? axis + shape.length : axis, logForm);
        y.data.forEach((v, i) => {
          expect(unitsError(v, ref[i], fo), `element ${i}`).toBeLessThanOrEqual(tolerance(bound, ref[i], fo));
        });
        expect(def.infer([{ shape, frac: fx }], { axis }, { frac: fo })).toEqual([{ shape, frac: fo }]);
        expect(def.run([x], { axis }, { frac: fo })[0].equals(y)).toBe(true);
      });
    }
  }

  it("a long row sums to 1 within its rounding, and extreme inputs saturate LogSoftmax", () => {
    const rng = new Rng(99);
    const x = rng.tensor([1, 1000], 16, -10, 10);
    const total = softmax(x, {}, 16).data.reduce((s, v) => s + v, 0);
    expect(Math.abs(total - 65536)).toBeLessThanOrEqual(1000 * 0.5);
    const wide = Tensor.fromInts([-2147483648, 2147483647], [2]);
    expect([...logSoftmax(wide, {}, 16).data]).toEqual([-2147483648, 0]);
    expect([...softmax(wide, {}, 16).data]).toEqual([0, 65536]);
  });

  it("rejects an out-of-range axis and a scalar", () => {
    expect(() => Softmax.infer([{ shape: [2, 3], frac: 16 }], { axis: 2 }, { frac: 16 }))
      .toThrow("axis 2 is out of range for rank 2");
    expect(() => LogSoftmax.infer([{ shape: [], frac: 16 }], { axis: -1 }, { frac: 16 }))
      .toThrow("LogSoftmax needs an input of rank >= 1, got a scalar");
  });
});
