import { describe, expect, it } from "vitest";
import { Expand, Tile, expand, tile } from "../../lib/ops/expand-tile.js";
import { Rng } from "../helpers/random.js";
import { build, ctx, expectExact, realAt, runDef } from "./array-reference.js";

describe("Expand", () => {
  for (let seed = 1; seed <= 8; seed++) {
    it(`broadcasts the input and the shape against each other (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const outShape = rng.shape(0, 4, 1, 4);
      // input: a suffix of the output shape with some dims set to 1; attr: the output with other dims set to 1
      const x = rng.tensor(outShape.slice(rng.int(0, outShape.length)).map((d) => (rng.next() < 0.4 ? 1 : d)), rng.int(0, 20));
      const lead = outShape.length - x.rank;
      const attr = outShape.map((d, i) => (i >= lead && x.shape[i - lead] === d && rng.next() < 0.5 ? 1 : d)).slice(rng.next() < 0.3 ? lead : 0);
      // numpy broadcasting, right-aligned: a missing or size-1 dim takes the other side's size
      const rank = Math.max(x.rank, attr.length);
      const dimAt = (s: readonly number[], i: number) => s[i - (rank - s.length)] ?? 1;
      const shape = Array.from({ length: rank }, (_, i) => (dimAt(x.shape, i) === 1 ? dimAt(attr, i) : dimAt(x.shape, i)));
      const ref = build(shape, (idx) => realAt(x, x.shape.map((d, j) => (d === 1 ? 0 : idx[j + rank - x.rank]))));
      expectExact(runDef(Expand, [x], { shape: attr })[0], shape, x.frac, ref);
      expectExact(expand(x, attr), shape, x.frac, ref);
    });
  }

  it("rejects shapes that do not broadcast", () => {
    expect(() => Expand.infer([{ shape: [3, 2], frac: 16 }], { shape: [4, 1] }, ctx)).toThrow("Expand cannot broadcast input shape [3,2] with shape [4,1]");
    expect(() => Expand.infer([{ shape: [3, 2], frac: 16 }], { shape: [-1] }, ctx)).toThrow("Expand attribute 'shape' [-1] has a negative dimension");
  });
});

describe("Tile", () => {
  for (let seed = 1; seed <= 8; seed++) {
    it(`repeats the input along every axis (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const x = rng.tensor(rng.shape(0, 4, 1, 4), rng.int(0, 20));
      const repeats = x.shape.map(() => rng.int(0, 3));
      const shape = x.shape.map((d, i) => d * repeats[i]);
      const ref = build(shape, (idx) => realAt(x, idx.map((v, i) => v % x.shape[i])));
      expectExact(runDef(Tile, [x], { repeats })[0], shape, x.frac, ref);
      expectExact(tile(x, repeats), shape, x.frac, ref);
    });
  }

  it("rejects repeats of the wrong length or sign", () => {
    const t = { shape: [3, 2], frac: 16 };
    expect(() => Tile.infer([t], { repeats: [2] }, ctx)).toThrow("Tile attribute 'repeats' [2] needs one entry per input axis (rank 2)");
    expect(() => Tile.infer([t], { repeats: [1, -1] }, ctx)).toThrow("Tile attribute 'repeats' [1,-1] has a negative entry");
  });
});
