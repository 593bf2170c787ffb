import { describe, expect, it } from "vitest";
import { relu, Relu } from "../../lib/ops/relu.js";
import { Rng } from "../helpers/random.js";

describe("Relu", () => {
  for (let seed = 1; seed <= 5; seed++) {
    it(`matches max(x, 0) on random tensors (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const x = rng.tensor(rng.shape(0, 4), rng.int(0, 20));
      const y = relu(x);
      expect(y.shape).toEqual(x.shape);
      expect(y.frac).toBe(x.frac);
      const xf = x.toFloat();
      y.toFloat().forEach((v, i) => expect(v).toBe(Math.max(xf[i], 0)));
      expect(Relu.infer([{ shape: [...x.shape], frac: x.frac }], {}, { frac: 16 })).toEqual([{ shape: [...x.shape], frac: x.frac }]);
    });
  }
});
