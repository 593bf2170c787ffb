/**
 * Differential tests of the array-ops emitters (Transpose, Concat, Split, Slice, Gather, Expand,
 * Tile, Pad, Resize; bilinear Resize in depth in resize.test.ts) and of the views (Reshape,
 * Flatten, Squeeze, Unsqueeze, Identity), which compile to aliases, including the memory-plan
 * corner cases: a graph output that is a graph input, a constant, a view of another output or
 * listed twice.
 */
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import { GraphBuilder } from "../../lib/graph/builder.js";
import { ATTR_FRAC } from "../../lib/ops/op.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { rawTensor } from "../ops/arith-random.js";
import { Rng } from "../helpers/random.js";
import { type CaseBuilder, expectCasesMatch, expectWasmMatchesReference } from "./helpers.js";

const SEEDS = [1, 2, 3];

function shuffled(rng: Rng, n: number): number[] {
  const p = [...Array(n).keys()];
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

function addCopy(c: CaseBuilder): void {
  const { rng } = c;
  const shape = rng.shape(1, 4, 1, 4);
  const rank = shape.length;
  const x = c.input(shape, rng.pick([0, 16]));
  const axis = rng.int(-rank, rank - 1);
  switch (rng.pick(["Transpose", "Concat", "Split", "Slice", "Gather", "Expand", "Tile", "Pad", "Resize", "views"])) {
    case "Transpose":
      c.op("Transpose", [x], { perm: rng.next() < 0.2 ? [] : shuffled(rng, rank) });
      break;
    case "Concat": {
      const a = (axis + rank) % rank;
      const others = Array.from({ length: rng.int(0, 2) }, () => shape.map((d, i) => (i === a ? rng.int(1, 3) : d)));
      c.op("Concat", [x, ...others.map((s) => (rng.next() < 0.5 ? c.input(s, rng.pick([16, 20])) : c.constant(rawTensor(rng, s, 16))))], { axis });
      break;
    }
    case "Split": {
      const dim = shape[(axis + rank) % rank];
      const cut = rng.int(0, dim);
      c.op("Split", [x], rng.next() < 0.5 ? { axis, split: [cut, dim - cut] } : { axis, num_outputs: rng.int(1, Math.max(1, dim)) });
      break;
    }
    case "Slice": {
      const axes = shuffled(rng, rank).slice(0, rng.int(1, rank));
      const steps = axes.map(() => rng.pick([1, 1, 2, -1, -2]));
      c.op("Slice", [x], {
        starts: axes.map((a) => rng.int(-shape[a] - 1, shape[a] + 1)),
        ends: axes.map((a) => rng.int(-shape[a] - 1, shape[a] + 1)),
        axes,
        steps,
      });
      break;
    }
    case "Gather": {
      const dim = shape[(axis + rank) % rank];
      const idx = rng.shape(0, 2, 1, 3);
      const ids = Tensor.fromInts(Array.from({ length: idx.reduce((p, d) => p * d, 1) }, () => rng.int(-dim, dim - 1)), idx);
      c.op("Gather", [x, c.operand(ids)], { axis });
      break;
    }
    case "Expand":
      c.op("Expand", [x], { shape: [rng.int(1, 2), ...shape.map((d) => (d === 1 ? rng.int(1, 3) : rng.pick([1, d])))] });
      break;
    case "Tile":
      c.op("Tile", [x], { repeats: shape.map(() => rng.int(0, 2)) });
      break;
    case "Pad":
      c.op("Pad", [x], { pads: [...shape, ...shape].map(() => rng.int(-1, 3)), value: rng.int(-3 << ATTR_FRAC, 3 << ATTR_FRAC),
        mode: rng.pick(["constant", "edge", "reflect"]) });
      break;
    case "Resize":
      c.op("Resize", [x], {
        sizes: shape.map((d, i) => (i >= rank - 2 ? rng.int(1, 7) : d)),
        mode: rng.pick(["nearest", "nearest", "linear"]),
        coordinate_transformation_mode: rng.pick(["half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel", "tf_half_pixel_for_nn"]),
        nearest_mode: rng.pick(["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]),
      });
      break;
    default: {
      // A chain of views ending in a copy, so the alias is read by code.
      const flat = c.g.op("Flatten", [x], { axis: rng.int(0, rank) })[0];
      const r = c.g.op("Reshape", [flat], { shape: [-1] })[0];
      const u = c.g.op("Unsqueeze", [r], { axes: [0] })[0];
      c.op("Transpose", [c.g.op("Identity", [u])[0]]);
    }
  }
}

describe("array-ops emitters are bit-exact", () => {
  for (const seed of SEEDS) {
    it(`data movement (seed ${seed})`, () => {
      expectCasesMatch(seed, 40, addCopy);
    });
  }

  it("graph outputs that are inputs, constants, views or repeated", () => {
    const rng = new Rng(7);
    const g = new GraphBuilder();
    const x = g.input("x", [2, 3]);
    const k = g.constant("k", rng.tensor([4]));
    const y = g.op("Relu", [x])[0];
    const view = g.op("Reshape", [y], { shape: [3, 2] })[0];
    const kv = g.op("Reshape", [k], { shape: [2, 2] })[0];
    g.output(y, x, k, view, y, kv);
    expectWasmMatchesReference(g.build(), { x: rng.tensor([2, 3]) });
  });

  it("a graph of only views and constants", () => {
    const g = new GraphBuilder();
    const x = g.input("x", [2, 3]);
    g.output(g.op("Flatten", [x])[0], g.op("Add", [g.constant("a", [1, 2]), g.constant("b", [3, 4])])[0]);
    expectWasmMatchesReference(g.build(), { x: new Rng(3).tensor([2, 3]) });
  });

  it("folds constant subgraphs and reports it", () => {
    const g = new GraphBuilder();
    const x = g.input("x", [2]);
    const w = g.op("Mul", [g.constant("a", [1, 2]), g.constant("b", [3, 4])])[0];
    g.output(g.op("Add", [x, w])[0]);
    const r = compile(g.build());
    expect(r.stats.folded).toBe(1);
    expect(r.stats.segments).toBe(1);
  });
});
