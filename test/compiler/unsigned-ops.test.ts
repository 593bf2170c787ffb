/**
 * Differential tests of the emitters of the two ops on unsigned integers. BitShift
 * (compiler/emit/bitshift.ts): random broadcast shapes, every width and direction, X from small
 * values to the i32 limits (negative ones read modulo 2^bits), amounts from negative to beyond
 * the width. DynamicQuantizeLinear (compiler/emit/dynamic-quantize.ts): random shapes with
 * ranges from one raw unit to the i32 limits, inputs at several fracs, graphs at frac 16 and 28
 * (the scale output's frac, so its narrowing shifts both ways), all-zero and one-signed inputs.
 * The compiled module must give the reference's integers byte for byte, in the JS engine and,
 * for the edge values, in the rollup VM.
 */
import { describe, it } from "vitest";
import { GraphBuilder } from "../../lib/graph/builder.js";
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { broadcastableShapes, rangeTensor } from "../ops/arith-random.js";
import { type CaseBuilder, expectCasesMatch, expectVmMatchesReference } from "./helpers.js";

function addBitShift(c: CaseBuilder): void {
  const { rng } = c;
  const [sx, sy] = broadcastableShapes(rng, 2);
  const bits = rng.pick([8, 16, 32, 64]);
  const x = c.input(sx, 0);
  c.op("BitShift", [x, c.operand(rangeTensor(rng, sy, -2, bits + 2, 0))], { direction: rng.pick(["LEFT", "RIGHT"]), bits });
}

describe("BitShift compiles to the reference's integers", () => {
  it("random shapes, widths, directions and amounts", () => {
    expectCasesMatch(41, 30, addBitShift);
  });

  it("the edge values in the rollup VM", () => {
    const g = new GraphBuilder();
    const x = new Tensor([6], Int32Array.from([0, 1, 255, I32_MAX, I32_MIN, -1]), 0);
    const y = new Tensor([6], Int32Array.from([31, 63, 8, 1, 0, 33]), 0);
    g.input("x", x.shape, 0);
    g.input("y", y.shape, 0);
    for (const bits of [8, 32, 64]) {
      for (const direction of ["LEFT", "RIGHT"]) g.output(g.op("BitShift", ["x", "y"], { direction, bits }, { name: `${direction}${bits}` })[0]);
    }
    expectVmMatchesReference(g.build(), { x, y });
  });
});

function addDynamicQuantize(c: CaseBuilder): void {
  const { rng } = c;
  const spread = 2 ** rng.int(0, 31);
  const lo = rng.next() < 0.2 ? 0 : Math.max(I32_MIN, -spread);
  const hi = rng.next() < 0.2 ? 0 : Math.min(I32_MAX, spread);
  const shape = rng.shape(0, 3, 1, 6);
  c.op("DynamicQuantizeLinear", [c.input(shape, rng.pick([0, 8, 16, 30]), rangeTensor(rng, shape, lo, hi, 16))]);
}

describe("DynamicQuantizeLinear compiles to the reference's integers", () => {
  it("random ranges and fracs, graph frac 16", () => {
    expectCasesMatch(61, 12, addDynamicQuantize);
  });

  it("graph frac 28: the scale narrowed the other way", () => {
    expectCasesMatch(62, 8, addDynamicQuantize, "canonical", 28);
  });

  it("the ONNX example, zeros and the extremes in the rollup VM", () => {
    const g = new GraphBuilder();
    const inputs = {
      example: Tensor.fromFloat(Float32Array.from([0, 2, -3, -2.5, 1.34, 0.5]), [6], 16),
      zeros: new Tensor([2], new Int32Array(2), 16),
      extremes: new Tensor([3], Int32Array.from([I32_MIN, I32_MAX, 5]), 16),
    };
    for (const [name, t] of Object.entries(inputs)) {
      g.input(name, t.shape, t.frac);
      g.output(...g.op("DynamicQuantizeLinear", [name], {}, { name: `q_${name}` }));
    }
    expectVmMatchesReference(g.build(), inputs);
  });
});
