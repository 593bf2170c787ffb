/**
 * Differential tests of the math-ops emitters (Div, Exp, Log, Sqrt, Reciprocal, Pow, Sigmoid,
 * Tanh, Erf, Gelu, Elu, Softmax, LogSoftmax, LayerNormalization, BatchNormalization): the
 * compiled integer algorithms must reproduce the reference kernels bit for bit, over raw values
 * from tiny to the i32 limits (saturation, zero divisors, log of non-positives), several input
 * fracs and several graph (output) fracs.
 */
import { describe, it } from "vitest";
import { ATTR_FRAC } from "../../lib/ops/op.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { broadcastableShapes, rawTensor } from "../ops/arith-random.js";
import type { Rng } from "../helpers/random.js";
import { type CaseBuilder, expectCasesMatch } from "./helpers.js";

/** (seed, graph frac): the output frac varies with the seed. */
const CONFIGS: [number, number][] = [[1, 16], [2, 8], [3, 30]];

const frac = (rng: Rng) => rng.pick([0, 8, 16, 16, 24, 30]);

/** Mostly moderate reals at the frac, sometimes raw i32 values (extremes included). */
function values(rng: Rng, shape: number[], f: number): Tensor {
  return rng.next() < 0.5 ? rng.tensor(shape, f, -6, 6) : rawTensor(rng, shape, f, 0.1);
}

function addPointwise(c: CaseBuilder): void {
  const { rng } = c;
  const shape = rng.shape(0, 3, 1, 5);
  const f = frac(rng);
  const x = c.input(shape, f, values(rng, shape, f));
  const kind = rng.pick(["Exp", "Log", "Sqrt", "Reciprocal", "Pow", "Sigmoid", "Tanh", "Erf", "Gelu", "Elu"]);
  if (kind === "Pow") c.op(kind, [x], { exponent: rng.pick([rng.int(-5, 5), 0.5]) * 2 ** ATTR_FRAC });
  else if (kind === "Gelu") c.op(kind, [x], { approximate: rng.pick(["none", "tanh"]) });
  else if (kind === "Elu") c.op(kind, [x], { alpha: rng.int(0, 3 << ATTR_FRAC) });
  else c.op(kind, [x]);
}

function addDiv(c: CaseBuilder): void {
  const { rng } = c;
  const [sa, sb] = broadcastableShapes(rng, 2);
  const b = values(rng, sb, frac(rng));
  const withZeros = new Tensor(b.shape, b.data.map((v) => (rng.next() < 0.1 ? 0 : v)), b.frac);
  c.op("Div", [c.input(sa, frac(rng)), c.operand(withZeros)]);
}

function addSoftmax(c: CaseBuilder): void {
  const { rng } = c;
  const shape = rng.shape(1, 3, 1, 6);
  const f = frac(rng);
  const x = c.input(shape, f, values(rng, shape, f));
  c.op(rng.pick(["Softmax", "LogSoftmax"]), [x], { axis: rng.int(-shape.length, shape.length - 1) });
}

function addNorm(c: CaseBuilder): void {
  const { rng } = c;
  if (rng.next() < 0.5) {
    const shape = [rng.int(1, 2), rng.int(1, 4), ...rng.shape(0, 2, 1, 4)];
    const ch = [shape[1]];
    const variance = rng.tensor(ch, rng.pick([16, 20]), -0.2, 3);
    c.op("BatchNormalization", [c.input(shape, frac(rng)), c.operand(values(rng, ch, 16)), c.operand(values(rng, ch, 16)),
      c.operand(values(rng, ch, rng.pick([8, 16, 24]))), c.operand(variance)], { epsilon: rng.pick([0, 1, 655]) });
    return;
  }
  const shape = rng.shape(1, 3, 1, 6);
  const axis = rng.int(-shape.length, shape.length - 1);
  const normalized = shape.slice(axis < 0 ? axis + shape.length : axis);
  const scaleShape = normalized.slice(rng.int(0, normalized.length));
  const inputs = [c.input(shape, frac(rng)), c.operand(values(rng, scaleShape, 16))];
  if (rng.next() < 0.7) inputs.push(c.operand(values(rng, normalized, rng.pick([12, 16, 20]))));
  c.op("LayerNormalization", inputs, { axis, epsilon: rng.pick([0, 1, 655]) });
}

describe("math-ops emitters are bit-exact", () => {
  for (const [seed, graphFrac] of CONFIGS) {
    {
      it(`pointwise functions (seed ${seed}, frac ${graphFrac})`, () => {
        expectCasesMatch(seed, 40, addPointwise, "canonical", graphFrac);
      });
      it(`Div (seed ${seed}, frac ${graphFrac})`, () => {
        expectCasesMatch(seed, 15, addDiv, "canonical", graphFrac);
      });
      it(`Softmax and LogSoftmax (seed ${seed}, frac ${graphFrac})`, () => {
        expectCasesMatch(seed, 15, addSoftmax, "canonical", graphFrac);
      });
      it(`LayerNormalization and BatchNormalization (seed ${seed}, frac ${graphFrac})`, () => {
        expectCasesMatch(seed, 15, addNorm, "canonical", graphFrac);
      });
    }
  }
});
