/**
 * The elementwise compositions of converter/common/composite-math.ts through the ONNX front end
 * (Floor, Ceil, Round, Sign, Softplus, Celu, Shrink, ThresholdedRelu), against float64
 * definitions written here: the rounding functions and the selections must be exact at every
 * activation frac, including Round's ties (x.5, to even) and negative values; the others must
 * stay within the error bounds stated beside each composition. Also: constant inputs fold away,
 * and a model using every composition of both files compiles to WASM bit-identical to the
 * reference executor (the point of building them from existing IR ops).
 */
import { describe, expect, it } from "vitest";
import { run } from "../../../lib/executor.js";
import { Tensor } from "../../../lib/tensor/tensor.js";
import { expectWasmMatchesReference } from "../../compiler/helpers.js";
import { Rng } from "../../helpers/random.js";
import { convert, DT, expectValues, f32, i64, runModel, single } from "./composite-helpers.js";

const ULP = 2 ** -16;

/** ONNX/TF Round: to the nearest integer, ties to the even one. */
function roundHalfEven(v: number): number {
  const down = Math.floor(v);
  const rest = v - down;
  return rest > 0.5 ? down + 1 : rest < 0.5 ? down : down % 2 === 0 ? down : down + 1;
}

/** Inputs at `frac`: ties k + 1/2, integers, neighbours of ties one unit away, random values (both signs). */
function roundingInputs(frac: number, seed: number): Tensor {
  const rng = new Rng(seed);
  const unit = 2 ** -frac;
  const values: number[] = [];
  for (let k = -7; k <= 6; k++) values.push(k + 0.5, k, k + 0.5 - unit, k + 0.5 + unit, k + unit, k - unit);
  const span = Math.min(50, 2 ** (30 - frac));
  for (let i = 0; i < 200; i++) values.push(Math.round(rng.uniform(-span, span) / unit) * unit);
  return Tensor.fromFloat(values, [values.length], frac);
}

describe("elementwise compositions (ONNX)", () => {
  for (const frac of [1, 4, 8, 16, 24]) {
    it(`Floor, Ceil, Round (ties to even) and Sign are exact at frac ${frac}`, () => {
      const x = roundingInputs(frac, frac);
      const xs = x.toFloat();
      for (const [op, fn] of [["Floor", Math.floor], ["Ceil", Math.ceil], ["Round", roundHalfEven], ["Sign", Math.sign]] as const) {
        const y = runModel(single(13, { op, inputs: ["x"] }, x.shape), { x }, frac);
        expectValues(y, xs.map((v) => fn(v) + 0), x.shape, `${op} at frac ${frac}`);
      }
    });
  }

  it("integer inputs are their own Floor/Ceil/Round (no node); Sign of integers stays integral", () => {
    const x = Tensor.fromInts([-5, -1, 0, 2, 7], [5]);
    for (const op of ["Floor", "Ceil", "Round"]) {
      const graph = convert(single(13, { op, inputs: ["x"] }, [5], [], DT.INT64));
      expect(graph.nodes.map((n) => n.op), op).toEqual(["Identity"]);
      expect(run(graph, { x }).outputs.get("y")!.toFloat()).toEqual(x.toFloat());
    }
    expectValues(runModel(single(13, { op: "Sign", inputs: ["x"] }, [5], [], DT.INT64), { x }), [-1, -1, 0, 1, 1], [5], "Sign");
  });

  it("Softplus stays within 1 ulp + 3e-8 of ln(1 + e^x) over the whole Q16 range, without overflow", () => {
    const rng = new Rng(5);
    const values = [-32768, -1000, -40, -20, -1e-5, 0, 1e-5, 10.4, 20, 40, 1000, 32767];
    for (let i = 0; i < 2000; i++) values.push(rng.uniform(-25, 25));
    const x = Tensor.fromFloat(values, [values.length], 16);
    const softplus = (v: number) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
    const y = runModel(single(1, { op: "Softplus", inputs: ["x"] }, x.shape), { x });
    expectValues(y, x.toFloat().map(softplus), x.shape, "Softplus", () => ULP + 3e-8);
  });

  it("Celu within (alpha + 2) * 2^-17 (alpha = 1 is Elu; x >= 0 passes exactly)", () => {
    const x = new Rng(6).tensor([400], 16, -12, 6);
    for (const alpha of [1, 2, 0.7]) {
      const celu = (v: number) => Math.max(0, v) + Math.min(0, alpha * Math.expm1(v / alpha));
      const y = runModel(single(12, { op: "Celu", inputs: ["x"], attrs: { alpha: { float: alpha } } }, x.shape), { x });
      const xs = x.toFloat();
      expectValues(y, xs.map(celu), x.shape, `Celu alpha ${alpha}`, (i) => (xs[i] >= 0 ? 0 : (alpha + 2) * 2 ** -17 + 1e-7));
    }
  });

  it("Shrink and ThresholdedRelu are exact selections (dyadic thresholds, and 0.3)", () => {
    const rng = new Rng(7);
    const values = [-1.5, -1.5 - ULP, -1.5 + ULP, 1.5, 1.5 + ULP, 0.3, -0.3, 0.75, 0.75 + ULP, 1, 1 + ULP, 0];
    for (let i = 0; i < 300; i++) values.push(rng.uniform(-4, 4));
    const x = Tensor.fromFloat(values, [values.length], 16);
    const xs = x.toFloat();
    for (const [lambd, bias] of [[1.5, 1.5], [0.5, 0], [0.3, 0.25]]) {
      const shrink = (v: number) => (v < -lambd ? v + bias : v > lambd ? v - bias : 0);
      const y = runModel(single(9, { op: "Shrink", inputs: ["x"], attrs: { lambd: { float: lambd }, bias: { float: bias } } }, x.shape), { x });
      expectValues(y, xs.map(shrink), x.shape, `Shrink lambd ${lambd} bias ${bias}`);
    }
    for (const alpha of [1, 0.75, -0.5]) {
      const y = runModel(single(10, { op: "ThresholdedRelu", inputs: ["x"], attrs: { alpha: { float: alpha } } }, x.shape), { x });
      expectValues(y, xs.map((v) => (v > alpha ? v : 0)), x.shape, `ThresholdedRelu alpha ${alpha}`);
    }
  });

  it("constant inputs fold: only the Mul with the run-time input remains", () => {
    const c = f32("c", [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -0.7, 3.2]);
    const nodes = ["Floor", "Ceil", "Round", "Sign"].map((op) => ({ op, inputs: ["c"], outputs: [op] }));
    const graph = convert({
      opset: 13,
      nodes: [...nodes, { op: "Sum", inputs: ["Floor", "Ceil", "Round", "Sign"], outputs: ["s"] }, { op: "Mul", inputs: ["x", "s"], outputs: ["y"] }],
      inputs: [{ name: "x", shape: [8] }],
      outputs: [{ name: "y" }],
      initializers: [c],
    });
    expect(graph.nodes.map((n) => n.op)).toEqual(["Mul"]);
    const one = Tensor.fromFloat(new Array(8).fill(1), [8], 16);
    const expected = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -0.7, 3.2].map((v) => Math.floor(v) + Math.ceil(v) + roundHalfEven(v) + Math.sign(v));
    expectValues(run(graph, { x: one }).outputs.get("y")!, expected, [8], "folded");
  });

  it("a model with every composition compiles to WASM bit-identical to the reference (canonical and fast)", () => {
    const node = (op: string, inputs: string[], attrs = {}) => ({ op, inputs, outputs: [op.toLowerCase()], attrs });
    const ops = [
      node("Floor", ["x"]), node("Ceil", ["x"]), node("Round", ["x"]), node("Sign", ["x"]), node("Softplus", ["x"]),
      node("Celu", ["x"], { alpha: { float: 1.5 } }), node("Shrink", ["x"], { lambd: { float: 0.5 }, bias: { float: 0.25 } }),
      node("ThresholdedRelu", ["x"], { alpha: { float: 0.5 } }), node("Trilu", ["x", "k"], { upper: 0 }),
      node("CumSum", ["x", "axis"], { exclusive: 1 }), node("Hardmax", ["x"], { axis: 1 }),
      node("GatherElements", ["x", "ids"], { axis: 2 }), node("OneHot", ["ids", "depth", "values"], { axis: 1 }),
      node("ReduceProd", ["x"], { axes: [2], keepdims: 0 }), node("MeanVarianceNormalization", ["x"], { axes: [0, 2] }),
      node("LRN", ["x"], { size: 3, bias: { float: 2 } }),
    ];
    const graph = convert({
      opset: 14,
      nodes: ops,
      inputs: [{ name: "x", shape: [2, 3, 4] }, { name: "ids", shape: [2, 3, 2], type: DT.INT64 }],
      outputs: ops.map((o) => ({ name: o.outputs[0] })),
      initializers: [i64("k", [1], []), i64("axis", [1], []), f32("depth", [4], []), f32("values", [-1, 3])],
    });
    const rng = new Rng(8);
    const values = Array.from({ length: 24 }, (_, i) => (i % 5 === 0 ? Math.round(rng.uniform(-4, 4)) + 0.5 : rng.uniform(-4, 4)));
    const inputs = { x: Tensor.fromFloat(values, [2, 3, 4], 16), ids: Tensor.fromInts(Array.from({ length: 12 }, () => rng.int(-4, 3)), [2, 3, 2]) };
    expectWasmMatchesReference(graph, inputs);
    expectWasmMatchesReference(graph, inputs, "fast");
  });
});
