/**
 * Differential tests of the compiled Resize in mode linear (compiler/emit/resize.ts) against the
 * reference kernel lib/ops/resize.ts, byte for byte, in the canonical and the FAST build: random
 * ranks 2..4, upsampling and downsampling (sizes down to 1) under every
 * coordinate_transformation_mode, values from small reals to the i32 limits at random fracs,
 * a fixed grid of axis sizes under every mode, checkerboards of the i32 limits (rounding ties of
 * the extremes), and an output large enough that the reference takes its BigInt path.
 */
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../lib/graph/builder.js";
import { axisMap, COORDINATE_MODES } from "../../lib/ops/resize.js";
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { rawTensor } from "../ops/arith-random.js";
import { Rng } from "../helpers/random.js";
import { type CaseBuilder, expectCasesMatch, expectWasmMatchesReference } from "./helpers.js";

const SEEDS = [1, 2, 3, 4];

/** Values: realistic reals, raw values with some i32 extremes, or almost only extremes. */
function values(rng: Rng, shape: number[], frac: number): Tensor {
  const kind = rng.int(0, 2);
  return kind === 0 ? rng.tensor(shape, frac, -3, 3) : rawTensor(rng, shape, frac, kind === 1 ? 0.2 : 0.9);
}

function addLinear(c: CaseBuilder): void {
  const { rng } = c;
  const lead = rng.shape(rng.pick([0, 1, 1, 2, 2]), 2, 1, 3);
  const hw = [rng.int(1, 7), rng.int(1, 7)];
  const shape = [...lead, ...hw];
  const frac = rng.pick([0, 8, 16, 20, rng.int(0, 30)]);
  const x = c.input(shape, frac, values(rng, shape, frac));
  // Each axis up, down or unchanged, sizes from 1.
  const size = (n: number) => rng.pick([n, rng.int(1, n), rng.int(n, 13), rng.int(1, 13)]);
  c.op("Resize", [x], { sizes: [...lead, size(hw[0]), size(hw[1])], mode: "linear", coordinate_transformation_mode: rng.pick(COORDINATE_MODES) });
}

/** [in, out] axis sizes covering 1 -> n, n -> 1, unchanged, integer and fractional scales. */
const AXES: [number, number][] = [[1, 1], [1, 4], [4, 1], [3, 3], [2, 4], [2, 5], [4, 2], [5, 3], [7, 2], [3, 8], [6, 4], [5, 12]];

describe("Resize linear emitter is bit-exact", () => {
  for (const build of ["canonical", "fast"] as const) {
    for (const seed of SEEDS) {
      it(`random shapes, modes and values (${build}, seed ${seed})`, () => {
        expect(expectCasesMatch(seed, 40, addLinear, build)).toBe(40);
      });
    }
  }

  it("every coordinate_transformation_mode on a grid of axis sizes, ranks 3 and 4", () => {
    const rng = new Rng(11);
    let k = 0;
    const accepted = expectCasesMatch(5, COORDINATE_MODES.length * AXES.length, (c) => {
      const mode = COORDINATE_MODES[Math.floor(k / AXES.length)];
      const [inH, outH] = AXES[k % AXES.length];
      const [inW, outW] = AXES[(k * 5 + 3) % AXES.length];
      const lead = k % 2 === 0 ? [2] : [1, 2];
      k++;
      const shape = [...lead, inH, inW];
      const x = c.input(shape, 16, rawTensor(rng, shape, 16, 0.3));
      c.op("Resize", [x], { sizes: [...lead, outH, outW], mode: "linear", coordinate_transformation_mode: mode });
    }, "fast");
    expect(accepted).toBe(COORDINATE_MODES.length * AXES.length);
  });

  it("planes of the i32 limits: constant, checkerboard and stripes (ties of the extremes)", () => {
    const g = new GraphBuilder();
    const inputs: Record<string, Tensor> = {};
    const patterns: ((y: number, x: number) => number)[] = [
      () => I32_MAX, () => I32_MIN, (y, x) => ((y + x) % 2 === 0 ? I32_MAX : I32_MIN),
      (y) => (y % 2 === 0 ? I32_MIN : I32_MAX), (_, x) => (x % 3 === 0 ? I32_MAX : I32_MIN + x),
    ];
    patterns.forEach((p, i) => {
      for (const mode of COORDINATE_MODES) {
        const [h, w] = [3 + (i % 2), 4 - (i % 2)];
        const name = `x${i}_${mode}`;
        inputs[name] = new Tensor([1, h, w], Int32Array.from({ length: h * w }, (_, j) => p(Math.floor(j / w), j % w)), 16);
        g.input(name, [1, h, w], 16);
        g.output(g.op("Resize", [name], { sizes: [1, 2 * h + 1, w + 3], mode: "linear", coordinate_transformation_mode: mode })[0]);
        g.output(g.op("Resize", [name], { sizes: [1, 2, 3], mode: "linear", coordinate_transformation_mode: mode })[0]);
      }
    });
    expectWasmMatchesReference(g.build(), inputs, "fast");
  });

  it("a weight denominator above 2^21: the reference's BigInt path", () => {
    const mode = "half_pixel";
    const [inH, inW, outH, outW] = [5, 7, 726, 724];
    const den = axisMap(inH, outH, mode).c * axisMap(inW, outW, mode).c;
    expect(den).toBeGreaterThan(2 ** 21);
    const rng = new Rng(21);
    const g = new GraphBuilder();
    g.input("x", [1, 2, inH, inW], 16);
    g.output(g.op("Resize", ["x"], { sizes: [1, 2, outH, outW], mode: "linear", coordinate_transformation_mode: mode })[0]);
    expectWasmMatchesReference(g.build(), { x: rawTensor(rng, [1, 2, inH, inW], 16, 0.5) }, "fast");
  });
});
