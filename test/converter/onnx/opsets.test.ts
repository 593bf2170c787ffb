/**
 * Translations against onnxruntime: the ops built from other detml ops; the same small model in
 * the opset where an operand is an attribute and in the one where it became an input (Clip, Pad,
 * Split, Squeeze/Unsqueeze, ReduceSum/ReduceMean, Slice, Upsample/Resize, Softmax's old 2-D
 * coercion); PyTorch-style shape chains that must fold; and the no-op removals. Inputs are random Q16 values; onnxruntime runs
 * on exactly those (dequantized, exact in float32), so data movement must match exactly and
 * arithmetic within 2 units of Q16 (the input and output roundings: 2^-15).
 */
import { describe, expect, it } from "vitest";
import { convertOnnx } from "../../../converter/onnx/index.js";
import { run } from "../../../lib/executor.js";
import { Tensor } from "../../../lib/tensor/tensor.js";
import { Rng } from "../../helpers/random.js";
import { buildModel, DT, runOrt, tensor, type ModelSpec, type NodeSpec } from "./onnx-builder.js";

const ARITH_TOL = 2 ** -15;
/** Compositions through detml's integer Exp/Log/Sqrt/Div/normalizations: a few units of Q16 each. */
const MATH_TOL = 2e-4;

interface Case {
  name: string;
  spec: ModelSpec;
  /** Expected detml op kinds after conversion (checks what folded away). */
  ops?: string[];
  tol?: number;
}

const i64 = (name: string, values: number[], dims = [values.length]) => tensor(name, dims, values, DT.INT64);
const f32 = (name: string, values: number[], dims = [values.length]) => tensor(name, dims, values, DT.FLOAT);

/** One node from x [shape] to y, with constant initializers. */
function single(opset: number, node: Omit<NodeSpec, "outputs"> & { outputs?: string[] }, shape: number[], inits: ReturnType<typeof tensor>[] = []): ModelSpec {
  const outputs = node.outputs ?? ["y"];
  return { opset, nodes: [{ ...node, outputs }], inputs: [{ name: "x", shape }], outputs: outputs.map((name) => ({ name })), initializers: inits };
}

const CASES: Case[] = [
  // ---- ops built from other detml ops (converter/onnx/composite.ts)
  { name: "Selu", spec: single(13, { op: "Selu", inputs: ["x"] }, [2, 6]), ops: ["Elu", "Mul"], tol: MATH_TOL },
  { name: "Softsign", spec: single(13, { op: "Softsign", inputs: ["x"] }, [2, 6]), tol: MATH_TOL },
  // alpha = 1/6 as a Q16 attribute is off by 5e-6, times x^2 <= 9.
  { name: "HardSwish", spec: single(14, { op: "HardSwish", inputs: ["x"] }, [2, 6]), tol: MATH_TOL },
  { name: "ArgMin keepdims 0", spec: { ...single(13, { op: "ArgMin", inputs: ["x"], attrs: { axis: 1, keepdims: 0 } }, [3, 5]), outputs: [{ name: "y", type: DT.INT64 }] } },
  { name: "Sum and Mean", spec: { opset: 13, nodes: [{ op: "Sum", inputs: ["x", "c", "x"], outputs: ["y"] }, { op: "Mean", inputs: ["x", "c"], outputs: ["z"] }],
    inputs: [{ name: "x", shape: [2, 3] }], outputs: [{ name: "y" }, { name: "z" }], initializers: [f32("c", [0.5, -1, 2])] }, tol: ARITH_TOL },
  { name: "ReduceL2-13", spec: single(13, { op: "ReduceL2", inputs: ["x"], attrs: { axes: [1] } }, [2, 4, 3]), tol: MATH_TOL },
  { name: "ReduceL1-18 axes input", spec: single(18, { op: "ReduceL1", inputs: ["x", "ax"], attrs: { keepdims: 0 } }, [2, 4, 3], [i64("ax", [0, 2])]), tol: ARITH_TOL },
  { name: "ReduceSumSquare-13", spec: single(13, { op: "ReduceSumSquare", inputs: ["x"], attrs: { axes: [-1] } }, [3, 4]), tol: MATH_TOL },
  { name: "ReduceLogSumExp-13 keepdims 0", spec: single(13, { op: "ReduceLogSumExp", inputs: ["x"], attrs: { axes: [1], keepdims: 0 } }, [2, 5, 2]), tol: MATH_TOL },
  { name: "ReduceLogSum-13 of |x|", spec: { opset: 13, nodes: [{ op: "Abs", inputs: ["x"], outputs: ["a"] }, { op: "ReduceLogSum", inputs: ["a"], outputs: ["y"], attrs: { axes: [0] } }],
    inputs: [{ name: "x", shape: [4, 3] }], outputs: [{ name: "y" }] }, tol: MATH_TOL },
  { name: "InstanceNormalization", spec: single(13, { op: "InstanceNormalization", inputs: ["x", "s", "b"], attrs: { epsilon: { float: 1e-3 } } }, [2, 3, 4, 5],
    [f32("s", [0.5, 1, -2]), f32("b", [0, 0.25, 1])]), tol: MATH_TOL },
  { name: "DepthToSpace DCR", spec: single(13, { op: "DepthToSpace", inputs: ["x"], attrs: { blocksize: 2 } }, [1, 8, 2, 3]) },
  { name: "DepthToSpace CRD", spec: single(13, { op: "DepthToSpace", inputs: ["x"], attrs: { blocksize: 2, mode: "CRD" } }, [2, 8, 2, 2]) },
  { name: "SpaceToDepth", spec: single(13, { op: "SpaceToDepth", inputs: ["x"], attrs: { blocksize: 2 } }, [1, 2, 4, 6]) },
  { name: "Trilu on a constant folds", spec: { opset: 14, nodes: [{ op: "Trilu", inputs: ["m", "k"], outputs: ["t"], attrs: { upper: 0 } }, { op: "Mul", inputs: ["x", "t"], outputs: ["y"] }],
    inputs: [{ name: "x", shape: [3, 4] }], outputs: [{ name: "y" }], initializers: [f32("m", new Array(12).fill(1), [3, 4]), tensor("k", [], [1], DT.INT64)] }, ops: ["Mul"], tol: ARITH_TOL },
  { name: "Pow with a broadcast exponent of equal values", spec: single(13, { op: "Pow", inputs: ["x", "e"] }, [3], [f32("e", [2, 2, 2, 2, 2, 2], [2, 3])]), tol: MATH_TOL },
  { name: "CastLike to float is a no-op", spec: single(15, { op: "CastLike", inputs: ["x", "like"] }, [2, 2], [f32("like", [0], [])]), ops: ["Identity"] },
  // ---- operands that moved between attributes and inputs across opsets
  { name: "Clip-6 attributes", spec: single(6, { op: "Clip", inputs: ["x"], attrs: { min: { float: -0.5 }, max: { float: 1.25 } } }, [2, 5]) },
  { name: "Clip-11 inputs", spec: single(11, { op: "Clip", inputs: ["x", "lo", "hi"] }, [2, 5], [f32("lo", [-1], []), f32("hi", [0.75], [])]) },
  { name: "Clip-13 max only", spec: single(13, { op: "Clip", inputs: ["x", "", "hi"] }, [3, 2], [f32("hi", [0.5], [])]) },
  { name: "Squeeze-11 attribute", spec: single(11, { op: "Squeeze", inputs: ["x"], attrs: { axes: [1, -1] } }, [2, 1, 3, 1]) },
  { name: "Squeeze-13 input / all", spec: single(13, { op: "Squeeze", inputs: ["x"] }, [1, 3, 1, 2]) },
  { name: "Unsqueeze-11 attribute", spec: single(11, { op: "Unsqueeze", inputs: ["x"], attrs: { axes: [0, 3] } }, [2, 3]) },
  { name: "Unsqueeze-13 input", spec: single(13, { op: "Unsqueeze", inputs: ["x", "axes"] }, [2, 3], [i64("axes", [-1, 1])]) },
  { name: "Split-11 attribute", spec: single(11, { op: "Split", inputs: ["x"], outputs: ["a", "b"], attrs: { axis: 1, split: [1, 3] } }, [2, 4]) },
  { name: "Split-13 input", spec: single(13, { op: "Split", inputs: ["x", "s"], outputs: ["a", "b", "c"], attrs: { axis: -1 } }, [2, 6], [i64("s", [2, 3, 1])]) },
  { name: "Split-13 equal parts", spec: single(13, { op: "Split", inputs: ["x"], outputs: ["a", "b"] }, [4, 3]) },
  { name: "Split-18 num_outputs uneven", spec: single(18, { op: "Split", inputs: ["x"], outputs: ["a", "b", "c"], attrs: { axis: 1, num_outputs: 3 } }, [2, 7]) },
  { name: "ReduceSum-11 attribute", spec: single(11, { op: "ReduceSum", inputs: ["x"], attrs: { axes: [1], keepdims: 0 } }, [2, 3, 4]), tol: ARITH_TOL },
  { name: "ReduceSum-13 input", spec: single(13, { op: "ReduceSum", inputs: ["x", "axes"] }, [2, 3, 4], [i64("axes", [0, 2])]), tol: ARITH_TOL },
  { name: "ReduceSum-13 all axes", spec: single(13, { op: "ReduceSum", inputs: ["x"], attrs: { keepdims: 0 } }, [2, 3]), tol: ARITH_TOL },
  { name: "ReduceSum-13 noop", spec: single(13, { op: "ReduceSum", inputs: ["x"], attrs: { noop_with_empty_axes: 1 } }, [2, 3]), ops: ["Identity"] },
  { name: "ReduceMean-18 input", spec: single(18, { op: "ReduceMean", inputs: ["x", "axes"] }, [2, 3, 4], [i64("axes", [-1])]), tol: ARITH_TOL },
  { name: "ReduceMax-13 attribute", spec: single(13, { op: "ReduceMax", inputs: ["x"], attrs: { axes: [0] } }, [3, 2]) },
  { name: "Pad-2 attributes", spec: single(2, { op: "Pad", inputs: ["x"], attrs: { pads: [0, 1, 1, 2], value: { float: 0.5 } } }, [2, 3]) },
  { name: "Pad-11 inputs reflect", spec: single(11, { op: "Pad", inputs: ["x", "p"], attrs: { mode: "reflect" } }, [3, 4], [i64("p", [1, 2, 1, 0])]) },
  { name: "Pad-13 constant value", spec: single(13, { op: "Pad", inputs: ["x", "p", "v"] }, [2, 2], [i64("p", [1, 0, 0, 1]), f32("v", [-2], [])]) },
  { name: "Pad-18 axes", spec: single(18, { op: "Pad", inputs: ["x", "p", "", "ax"], attrs: { mode: "edge" } }, [2, 3, 2], [i64("p", [2, 1]), i64("ax", [1])]) },
  { name: "Slice-9 attributes", spec: single(9, { op: "Slice", inputs: ["x"], attrs: { starts: [1, 0], ends: [1000, -1], axes: [0, 1] } }, [3, 4]) },
  { name: "Slice-13 inputs, negative step, INT64 bounds", spec: single(13, { op: "Slice", inputs: ["x", "st", "en", "ax", "sp"] }, [4, 5],
    [i64("st", [-1, 0]), i64("en", [-9223372036854775807, 9223372036854775807]), i64("ax", [0, 1]), i64("sp", [-2, 2])]) },
  { name: "Upsample-9 nearest", spec: single(9, { op: "Upsample", inputs: ["x", "s"], attrs: { mode: "nearest" } }, [1, 2, 2, 3], [f32("s", [1, 1, 2, 3])]) },
  { name: "Upsample-7 attribute", spec: single(7, { op: "Upsample", inputs: ["x"], attrs: { mode: "nearest", scales: { floats: [1, 1, 2, 2] } } }, [1, 1, 2, 2]) },
  { name: "Resize-10 linear", spec: single(10, { op: "Resize", inputs: ["x", "s"], attrs: { mode: "linear" } }, [1, 1, 3, 3], [f32("s", [1, 1, 2, 2])]), tol: ARITH_TOL },
  { name: "Resize-11 sizes nearest", spec: single(11, { op: "Resize", inputs: ["x", "roi", "sc", "sz"], attrs: { mode: "nearest", coordinate_transformation_mode: "asymmetric", nearest_mode: "floor" } }, [1, 2, 2, 2],
    [f32("roi", [], [0]), f32("sc", [], [0]), i64("sz", [1, 2, 4, 6])]) },
  { name: "Resize-13 scales linear half_pixel", spec: single(13, { op: "Resize", inputs: ["x", "", "sc"], attrs: { mode: "linear" } }, [1, 1, 2, 4], [f32("sc", [1, 1, 2, 0.5])]), tol: ARITH_TOL },
  { name: "Softmax-11 axis 1 coerces to 2-D", spec: single(11, { op: "Softmax", inputs: ["x"], attrs: { axis: 1 } }, [2, 3, 4]), tol: ARITH_TOL },
  { name: "Softmax-13 axis 1", spec: single(13, { op: "Softmax", inputs: ["x"], attrs: { axis: 1 } }, [2, 3, 4]), tol: ARITH_TOL },
  {
    name: "Not/And/Or/LessOrEqual/GreaterOrEqual on run-time values (built from comparisons)",
    spec: {
      opset: 16,
      nodes: [
        { op: "Greater", inputs: ["x", "zero"], outputs: ["pos"] },
        { op: "Less", inputs: ["x", "one"], outputs: ["small"] },
        { op: "And", inputs: ["pos", "small"], outputs: ["and"] },
        { op: "Or", inputs: ["pos", "small"], outputs: ["or"] },
        { op: "Not", inputs: ["pos"], outputs: ["not"] },
        { op: "LessOrEqual", inputs: ["x", "one"], outputs: ["le"] },
        { op: "GreaterOrEqual", inputs: ["x", "zero"], outputs: ["ge"] },
      ],
      inputs: [{ name: "x", shape: [3, 4] }],
      outputs: ["and", "or", "not", "le", "ge"].map((name) => ({ name, type: DT.BOOL })),
      initializers: [f32("zero", [0], []), f32("one", [1], [])],
    },
  },
  {
    name: "PyTorch flatten chain Shape/Gather/Unsqueeze/Concat/Reshape folds",
    spec: {
      opset: 13,
      nodes: [
        { op: "Shape", inputs: ["x"], outputs: ["s"] },
        { op: "Gather", inputs: ["s", "zero"], outputs: ["n"], attrs: { axis: 0 } },
        { op: "Unsqueeze", inputs: ["n", "axes0"], outputs: ["n1"] },
        { op: "Concat", inputs: ["n1", "minus1"], outputs: ["shape"], attrs: { axis: 0 } },
        { op: "Reshape", inputs: ["x", "shape"], outputs: ["y"] },
      ],
      inputs: [{ name: "x", shape: [2, 3, 4] }],
      outputs: [{ name: "y" }],
      initializers: [tensor("zero", [], [0], DT.INT64), i64("axes0", [0]), i64("minus1", [-1])],
    },
    ops: ["Reshape"],
  },
  {
    name: "ConstantOfShape/Range/Cast/Expand/Where fold to constants",
    spec: {
      opset: 13,
      nodes: [
        { op: "Constant", inputs: [], outputs: ["shp"], attrs: { value_ints: [3] } },
        { op: "ConstantOfShape", inputs: ["shp"], outputs: ["ones"], attrs: { value: tensor("v", [1], [1], DT.INT64) } },
        { op: "Range", inputs: ["start", "limit", "delta"], outputs: ["r"] },
        { op: "Equal", inputs: ["r", "ones"], outputs: ["eq"] },
        { op: "Cast", inputs: ["r"], outputs: ["rf"], attrs: { to: DT.FLOAT } },
        { op: "Constant", inputs: [], outputs: ["c"], attrs: { value_float: { float: 0.25 } } },
        { op: "Where", inputs: ["eq", "c", "rf"], outputs: ["w"] },
        { op: "Expand", inputs: ["w", "eshape"], outputs: ["we"] },
        { op: "Mul", inputs: ["x", "we"], outputs: ["y"] },
      ],
      inputs: [{ name: "x", shape: [2, 3] }],
      outputs: [{ name: "y" }],
      initializers: [tensor("start", [], [0], DT.INT64), tensor("limit", [], [3], DT.INT64), tensor("delta", [], [1], DT.INT64), i64("eshape", [2, 3])],
    },
    ops: ["Mul"],
    tol: ARITH_TOL,
  },
  {
    name: "Identity, Dropout and a float Cast disappear; an output that is an input's alias keeps its name",
    spec: {
      opset: 13,
      nodes: [
        { op: "Identity", inputs: ["x"], outputs: ["a"] },
        { op: "Dropout", inputs: ["a"], outputs: ["b"] },
        { op: "Relu", inputs: ["b"], outputs: ["r"] },
        { op: "Cast", inputs: ["r"], outputs: ["y"], attrs: { to: DT.FLOAT } },
        { op: "Identity", inputs: ["x"], outputs: ["z"] },
      ],
      inputs: [{ name: "x", shape: [2, 3] }],
      outputs: [{ name: "y" }, { name: "z" }],
    },
    ops: ["Relu", "Identity"],
  },
];

async function compareWithOrt(c: Case, seed: number): Promise<void> {
  const bytes = buildModel(c.spec);
  const { graph } = convertOnnx(bytes, { source: c.name });
  if (c.ops) expect(graph.nodes.map((n) => n.op)).toEqual(c.ops);
  const rng = new Rng(seed);
  const feeds: Record<string, { data: Float32Array; shape: number[] }> = {};
  const inputs: Record<string, Tensor> = {};
  for (const v of graph.inputs) {
    const t = rng.tensor(v.shape, v.frac, -3, 3);
    inputs[v.name] = t;
    feeds[v.name] = { data: Float32Array.from(t.toFloat()), shape: v.shape };
  }
  const want = await runOrt(bytes, feeds);
  const got = run(graph, inputs).outputs;
  for (const out of c.spec.outputs) {
    const y = got.get(out.name)!;
    expect(y.shape, out.name).toEqual(want[out.name].shape);
    const tol = c.tol ?? 0;
    y.toFloat().forEach((v, i) => {
      if (Math.abs(v - want[out.name].data[i]) > tol) expect.fail(`${out.name}[${i}] = ${v}, onnxruntime ${want[out.name].data[i]} (tolerance ${tol})`);
    });
  }
}

describe("ONNX translations match onnxruntime", () => {
  for (const c of CASES) {
    it(c.name, async () => {
      for (const seed of [1, 2]) await compareWithOrt(c, seed);
    });
  }

  // onnxruntime has no kernels for opset 6 any more: the expected values are computed here.
  it("Add-6 and PRelu-6 broadcast a channel vector on axis 1", () => {
    const b = [0.5, -1, 2];
    const add = single(6, { op: "Add", inputs: ["x", "b"], attrs: { broadcast: 1, axis: 1 } }, [2, 3, 4], [f32("b", b)]);
    const prelu = single(6, { op: "PRelu", inputs: ["x", "b"] }, [2, 3, 4], [f32("b", b)]);
    const x = new Rng(3).tensor([2, 3, 4], 16, -3, 3);
    const xs = x.toFloat();
    const channel = (i: number) => Math.floor(i / 4) % 3;
    const sum = run(convertOnnx(buildModel(add)).graph, { x }).outputs.get("y")!.toFloat();
    sum.forEach((v, i) => expect(Math.abs(v - (xs[i] + b[channel(i)]))).toBeLessThanOrEqual(ARITH_TOL));
    const leaky = run(convertOnnx(buildModel(prelu)).graph, { x }).outputs.get("y")!.toFloat();
    leaky.forEach((v, i) => expect(Math.abs(v - (xs[i] < 0 ? xs[i] * b[channel(i)] : xs[i]))).toBeLessThanOrEqual(ARITH_TOL));
  });
});
