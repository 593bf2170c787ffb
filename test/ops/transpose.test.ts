import { describe, expect, it } from "vitest";
import { Transpose, transpose } from "../../lib/ops/transpose.js";
import { Rng } from "../helpers/random.js";
import { build, ctx, expectExact, realAt, runDef } from "./array-reference.js";

describe("Transpose", () => {
  for (let seed = 1; seed <= 8; seed++) {
    it(`output[i] = input[i permuted back] (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const x = rng.tensor(rng.shape(0, 5, 1, 4), rng.int(0, 20));
      const givenPerm = rng.next() < 0.3 ? [] : [...Array(x.rank).keys()].sort(() => rng.next() - 0.5);
      const perm = givenPerm.length > 0 ? givenPerm : [...Array(x.rank).keys()].reverse();
      const shape = perm.map((p) => x.shape[p]);
      // output axis d walks input axis perm[d]
      const ref = build(shape, (idx) => {
        const src = new Array<number>(x.rank);
        perm.forEach((p, d) => (src[p] = idx[d]));
        return realAt(x, src);
      });
      expectExact(runDef(Transpose, [x], { perm: givenPerm })[0], shape, x.frac, ref);
      expectExact(transpose(x, givenPerm), shape, x.frac, ref);
    });
  }

  it("rejects a perm that is not a permutation of the axes", () => {
    const t = { shape: [2, 3, 4], frac: 16 };
    expect(() => Transpose.infer([t], { perm: [0, 1] }, ctx)).toThrow("Transpose perm [0,1] is not a permutation of the 3 axes 0..2");
    expect(() => Transpose.infer([t], { perm: [0, 1, 1] }, ctx)).toThrow("is not a permutation");
  });
});
