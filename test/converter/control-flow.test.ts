/**
 * ONNX If, Loop and Scan inlined by converter/onnx/control-flow.ts, against onnxruntime-node on
 * models built in the test: If on a constant condition (only the taken branch is translated, so
 * an untranslatable other branch does no harm) and on a run-time one (a Where of both branches),
 * a Loop with a constant trip count, loop-carried values, a scan output and a value captured from
 * the outer graph, and a Scan whose body is a recurrent cell (the form older recurrent exports
 * have) running in reverse with its scan output on axis 1; and a PyTorch export of a scripted RNN
 * loop (fixtures/models/rnn_loop.onnx), whose trip count comes from the input's shape. The
 * rejections name the node and say why: a loop condition computed at run time, branches of
 * different shapes.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import pkg from "onnx-proto";
import type { onnx as OnnxTypes } from "onnx-proto";
import { convertOnnx } from "../../converter/onnx/index.js";
import { run } from "../../lib/executor.js";
import { readNpy } from "../../lib/tensor/npy.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { samplesFromArrays } from "../../lib/verify/inputs.js";
import { onnxRuntimeOracle } from "../../lib/verify/oracle.js";
import { verifyGraph } from "../../verify/verify.js";
import { buildModel, DT, runOrt, tensor, type ModelSpec } from "./onnx/onnx-builder.js";

const { onnx } = pkg;

/** A graph proto (for a graph attribute), built by the test builder's model encoder. */
function subgraph(spec: ModelSpec): OnnxTypes.IGraphProto {
  return onnx.ModelProto.decode(buildModel(spec)).graph!;
}

/** The model of `spec` with graph attributes added to node `index`. */
function withGraphs(spec: ModelSpec, index: number, graphs: Record<string, OnnxTypes.IGraphProto>): Uint8Array {
  const model = onnx.ModelProto.decode(buildModel(spec));
  for (const [name, g] of Object.entries(graphs)) model.graph!.node![index].attribute!.push({ name, type: onnx.AttributeProto.AttributeType.GRAPH, g });
  return onnx.ModelProto.encode(model).finish();
}

/** Seeded values in [-scale, scale). */
function values(count: number, seed: number, scale = 1): number[] {
  let s = seed >>> 0;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 * 2 - 1) * scale;
  });
}

/** Convert, run the reference executor and compare every output with ONNX Runtime. */
async function expectMatchesOrt(bytes: Uint8Array, feeds: Record<string, { data: number[]; shape: number[]; bool?: boolean }>, tolerance = 2e-4): Promise<void> {
  const ort = (await import("onnxruntime-node")).default;
  const session = await ort.InferenceSession.create(bytes);
  const result = await session.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v.bool ? new ort.Tensor("bool", Uint8Array.from(v.data), v.shape) : new ort.Tensor("float32", Float32Array.from(v.data), v.shape)])));
  await session.release();
  const { graph } = convertOnnx(bytes, { source: "control-flow.onnx" });
  const inputs = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v.bool ? Tensor.fromInts(v.data, v.shape) : Tensor.fromFloat(v.data, v.shape, 16)]));
  const got = run(graph, inputs).outputs;
  for (const [name, want] of Object.entries(result)) {
    const y = got.get(name)!;
    expect(y.shape, `${name} shape`).toEqual([...want.dims]);
    const wanted = Array.from(want.data as Float32Array, Number);
    y.toFloat().forEach((v, i) => expect(Math.abs(v - wanted[i]), `${name}[${i}]: ${v} vs ${wanted[i]}`).toBeLessThan(tolerance));
  }
}

const vec = (name: string, shape: number[]) => ({ name, shape });

/** If(cond) with then: x * 2, else: x - 1 (or a Shape-changing else for the rejection). */
function ifModel(cond: boolean | undefined, elseBranch?: OnnxTypes.IGraphProto): Uint8Array {
  const thenBranch = subgraph({ nodes: [{ op: "Mul", inputs: ["x", "two"], outputs: ["doubled"] }], inputs: [], outputs: [vec("doubled", [2, 3])], initializers: [tensor("two", [], [2])] });
  const minusOne = subgraph({ nodes: [{ op: "Sub", inputs: ["x", "one"], outputs: ["less"] }], inputs: [], outputs: [vec("less", [2, 3])], initializers: [tensor("one", [], [1])] });
  const spec: ModelSpec = {
    nodes: [{ op: "If", name: "choose", inputs: ["c"], outputs: ["y"] }],
    inputs: [vec("x", [2, 3]), ...(cond === undefined ? [{ name: "c", shape: [], type: DT.BOOL }] : [])],
    outputs: [vec("y", [2, 3])],
    initializers: cond === undefined ? [] : [tensor("c", [], [cond ? 1 : 0], DT.BOOL)],
  };
  return withGraphs(spec, 0, { then_branch: thenBranch, else_branch: elseBranch ?? minusOne });
}

describe("If", () => {
  const x = { data: values(6, 1, 3), shape: [2, 3] };

  it("takes the branch of a constant condition and leaves the other untranslated", async () => {
    const unsupported = subgraph({ nodes: [{ op: "Bernoulli", inputs: ["x"], outputs: ["coin"] }], inputs: [], outputs: [vec("coin", [2, 3])] });
    const bytes = ifModel(true, unsupported);
    const { graph } = convertOnnx(bytes);
    expect(graph.nodes.map((n) => n.op)).toEqual(["Mul"]);
    // ONNX Runtime cannot run this model (Bernoulli's output type); the ref result is x * 2.
    const y = run(graph, { x: Tensor.fromFloat(x.data, x.shape, 16) }).outputs.get("y")!;
    y.toFloat().forEach((v, i) => expect(v).toBeCloseTo(2 * x.data[i], 4));
    await expectMatchesOrt(ifModel(false), { x });
  });

  it("with a run-time condition, selects between both branches", async () => {
    for (const c of [0, 1]) await expectMatchesOrt(ifModel(undefined), { x, c: { data: [c], shape: [], bool: true } });
  });

  it("refuses a run-time condition over branches of different shapes, naming the node", () => {
    const other = subgraph({ nodes: [{ op: "ReduceSum", inputs: ["x"], outputs: ["total"], attrs: { keepdims: 0 } }], inputs: [], outputs: [vec("total", [])] });
    expect(() => convertOnnx(ifModel(undefined, other))).toThrow(/node 'choose' \(If\): a condition computed at run time is only supported when both branches give outputs of one shape/);
  });
});

/** Loop(M = 4): v <- 0.5 * v + x (x from the outer graph), scan output v * v. */
function loopModel(condBody: boolean): Uint8Array {
  const body = subgraph({
    nodes: [
      { op: "Mul", inputs: ["v_in", "half"], outputs: ["halved"] },
      { op: "Add", inputs: ["halved", "x"], outputs: ["v_out"] },
      { op: "Mul", inputs: ["v_out", "v_out"], outputs: ["square"] },
      ...(condBody
        ? [{ op: "ReduceSum", inputs: ["v_out"], outputs: ["total"], attrs: { keepdims: 0 } }, { op: "Less", inputs: ["total", "limit"], outputs: ["cond_out"] }]
        : [{ op: "Identity", inputs: ["cond_in"], outputs: ["cond_out"] }]),
    ],
    inputs: [{ name: "i", shape: [], type: DT.INT64 }, { name: "cond_in", shape: [], type: DT.BOOL }, vec("v_in", [3])],
    outputs: [{ name: "cond_out", shape: [], type: DT.BOOL }, vec("v_out", [3]), vec("square", [3])],
    initializers: [tensor("half", [], [0.5]), tensor("limit", [], [100])],
  });
  const spec: ModelSpec = {
    nodes: [{ op: "Loop", name: "repeat", inputs: ["M", "", "v0"], outputs: ["v_final", "squares"] }],
    inputs: [vec("x", [3]), vec("v0", [3])],
    outputs: [vec("v_final", [3]), vec("squares", [4, 3])],
    initializers: [tensor("M", [], [4], DT.INT64)],
  };
  return withGraphs(spec, 0, { body });
}

describe("Loop", () => {
  it("unrolls a constant trip count with carried values, a scan output and an outer value", async () => {
    const bytes = loopModel(false);
    await expectMatchesOrt(bytes, { x: { data: values(3, 2), shape: [3] }, v0: { data: values(3, 3), shape: [3] } });
    expect(convertOnnx(bytes).graph.nodes.filter((n) => n.op === "Mul")).toHaveLength(8);
  });

  it("converts PyTorch's export of a scripted RNN loop and matches ONNX Runtime and PyTorch", async () => {
    const bytes = new Uint8Array(readFileSync("fixtures/models/rnn_loop.onnx"));
    const { graph, report } = convertOnnx(bytes, { source: "rnn_loop.onnx" });
    // Five inlined copies of the body (trip count = x.size(1), folded from the shape).
    expect(report.opCounts.Tanh).toBe(5);
    const npy = readNpy(new Uint8Array(readFileSync("fixtures/data/rnn_loop_input.npy")));
    const samples = samplesFromArrays(graph, new Map([["x", { path: "rnn_loop_input.npy", npy }]]));
    const checked = await verifyGraph(graph, await onnxRuntimeOracle(bytes, "rnn_loop"), samples);
    const [y] = checked.engines[0].outputs;
    expect(y.samples).toBe(20);
    expect(y.maxRelError).toBeLessThan(1e-3);
    expect(y.argmax!.agree).toBe(20);
    const torch = Float64Array.from(readNpy(new Uint8Array(readFileSync("fixtures/data/rnn_loop_output.npy"))).data as ArrayLike<number>, Number);
    samples.forEach((sample, i) => {
      run(graph, sample.fixed).outputs.get("y")!.toFloat().forEach((v, k) => expect(Math.abs(v - torch[i * 3 + k])).toBeLessThan(2e-4));
    });
  });

  it("refuses a condition computed at run time, naming the node", () => {
    expect(() => convertOnnx(loopModel(true))).toThrow(/node 'repeat' \(Loop\): the loop condition is computed at run time in iteration 0/);
  });
});

describe("Scan", () => {
  it("unrolls a recurrent cell over a reversed scan input, scan output on axis 1", async () => {
    // h_t = tanh(x_t W + h_{t-1} R): the unrolled RNN of older exports.
    const body = subgraph({
      nodes: [
        { op: "MatMul", inputs: ["x_t", "W"], outputs: ["xw"] },
        { op: "MatMul", inputs: ["h_in", "R"], outputs: ["hr"] },
        { op: "Add", inputs: ["xw", "hr"], outputs: ["pre"] },
        { op: "Tanh", inputs: ["pre"], outputs: ["h_out"] },
        { op: "Identity", inputs: ["h_out"], outputs: ["y_t"] },
      ],
      inputs: [vec("h_in", [2, 4]), vec("x_t", [2, 3])],
      outputs: [vec("h_out", [2, 4]), vec("y_t", [2, 4])],
    });
    const spec: ModelSpec = {
      opset: 11,
      nodes: [{ op: "Scan", name: "cell", inputs: ["h0", "xs"], outputs: ["h_last", "ys"], attrs: { num_scan_inputs: 1, scan_input_directions: [1], scan_output_axes: [1] } }],
      inputs: [vec("h0", [2, 4]), vec("xs", [5, 2, 3])],
      outputs: [vec("h_last", [2, 4]), vec("ys", [2, 5, 4])],
      initializers: [tensor("W", [3, 4], values(12, 4, 0.8)), tensor("R", [4, 4], values(16, 5, 0.8))],
    };
    await expectMatchesOrt(withGraphs(spec, 0, { body }), { h0: { data: values(8, 6), shape: [2, 4] }, xs: { data: values(30, 7, 2), shape: [5, 2, 3] } }, 1e-3);
  });
});
