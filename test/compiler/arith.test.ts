/**
 * Differential tests of the arith-ops emitters (elementwise arithmetic, comparisons, Where,
 * reductions, ArgMax): random broadcastable shapes, fracs and raw values from small to the i32
 * limits; the compiled outputs must equal the reference executor's byte for byte.
 */
import { describe, it } from "vitest";
import { ATTR_FRAC } from "../../lib/ops/op.js";
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { broadcastableShapes, rawTensor } from "../ops/arith-random.js";
import { type CaseBuilder, expectCasesMatch } from "./helpers.js";

const SEEDS = [1, 2, 3];

const frac = (c: CaseBuilder) => c.rng.pick([0, 8, 16, 16, 20, 30]);

function addBinary(c: CaseBuilder): void {
  const kind = c.rng.pick(["Add", "Sub", "Mul", "Max", "Min", "Equal", "Less", "Greater", "PRelu", "Add+Relu", "Mul+Clip"]);
  if (kind.includes("+")) {
    // The second op reads only the first's output: the compiler fuses it into the first.
    const [first, second] = kind.split("+");
    const shapes = broadcastableShapes(c.rng, 2);
    const y = c.g.op(first, shapes.map((s) => c.input(s, frac(c))))[0];
    c.op(second, [y], second === "Clip" ? { min: -(1 << ATTR_FRAC), max: 3 << ATTR_FRAC } : {});
    return;
  }
  const count = kind === "Max" || kind === "Min" ? c.rng.int(1, 3) : 2;
  const shapes = broadcastableShapes(c.rng, count);
  if (kind === "PRelu") {
    const x = shapes[0].length >= shapes[1].length ? shapes[0] : shapes[1];
    c.op(kind, [c.input(x, frac(c)), c.operand(rawTensor(c.rng, x.slice(c.rng.int(0, x.length)), frac(c)))]);
    return;
  }
  c.op(kind, shapes.map((s) => (c.rng.next() < 0.8 ? c.input(s, frac(c)) : c.constant(rawTensor(c.rng, s, frac(c))))));
}

function addUnary(c: CaseBuilder): void {
  const { rng } = c;
  const x = c.input(rng.shape(0, 4, 1, 4), frac(c));
  const kind = rng.pick(["Relu", "Neg", "Abs", "LeakyRelu", "Clip", "HardSigmoid", "Where"]);
  const fixed = () => rng.pick([rng.int(-4 << ATTR_FRAC, 4 << ATTR_FRAC), rng.int(-100, 100)]);
  if (kind === "LeakyRelu") c.op(kind, [x], { alpha: fixed() });
  else if (kind === "Clip") c.op(kind, [x], { min: rng.pick([fixed(), I32_MIN]), max: rng.pick([fixed(), I32_MAX]) });
  else if (kind === "HardSigmoid") c.op(kind, [x], { alpha: fixed(), beta: fixed() });
  else if (kind === "Where") {
    const shapes = broadcastableShapes(rng, 3);
    const raw = rawTensor(rng, shapes[0], rng.pick([0, 16]));
    const cond = new Tensor(raw.shape, raw.data.map((v) => (v % 3 === 0 ? 0 : v)), raw.frac);
    c.op(kind, [c.operand(cond), c.input(shapes[1], frac(c)), c.input(shapes[2], frac(c))]);
  } else c.op(kind, [x]);
}

function addReduce(c: CaseBuilder): void {
  const { rng } = c;
  const shape = rng.shape(1, 4, 1, 5);
  const x = c.input(shape, frac(c));
  const kind = rng.pick(["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ArgMax"]);
  if (kind === "ArgMax") {
    c.op(kind, [x], { axis: rng.int(-shape.length, shape.length - 1), keepdims: rng.int(0, 1), select_last_index: rng.int(0, 1) });
    return;
  }
  const axes = shape.map((_, i) => i).filter(() => rng.next() < 0.5).map((a) => (rng.next() < 0.3 ? a - shape.length : a));
  c.op(kind, [x], { axes, keepdims: rng.int(0, 1), noop_with_empty_axes: rng.next() < 0.2 ? 1 : 0 });
}

/**
 * Add or Sub of two same-shape tensors at the graph frac (16) with a multiple of four values,
 * often extreme (saturation), sometimes with a fused Relu or Clip: the FAST build's SIMD path.
 */
function addSameShape(c: CaseBuilder): void {
  const { rng } = c;
  const shape = [...rng.shape(0, 2, 1, 3), 4 * rng.int(1, 6)];
  const [x, y] = [0, 1].map(() => c.input(shape, 16, rawTensor(rng, shape, 16, 0.4)));
  const kind = rng.pick(["Add", "Sub"]);
  const fused = rng.pick(["", "Relu", "Clip"]);
  if (!fused) {
    c.op(kind, [x, y]);
    return;
  }
  const sum = c.g.op(kind, [x, y])[0];
  c.op(fused, [sum], fused === "Clip" ? { min: rng.pick([I32_MIN, -(1 << ATTR_FRAC)]), max: rng.pick([I32_MAX, 6 << ATTR_FRAC]) } : {});
}

describe("the FAST build's elementwise Add and Sub: bit-exact, same memory as the canonical build", () => {
  for (const seed of SEEDS.slice(0, 2)) {
    it(`same-shape Add and Sub, fused Relu or Clip (seed ${seed})`, () => {
      expectCasesMatch(seed, 30, addSameShape, "fast");
    });
  }
});

describe("arith-ops emitters are bit-exact", () => {
  for (const seed of SEEDS) {
    it(`binary ops with broadcasting (seed ${seed})`, () => {
      expectCasesMatch(seed, 40, addBinary);
    });
    it(`unary ops and Where (seed ${seed})`, () => {
      expectCasesMatch(seed, 40, addUnary);
    });
    it(`reductions and ArgMax (seed ${seed})`, () => {
      expectCasesMatch(seed, 30, addReduce);
    });
  }
});
