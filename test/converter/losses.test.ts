/**
 * The evaluation-graph ops of converter/onnx/losses.ts against onnxruntime-node:
 * NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss on one-node models (reductions
 * none/sum/mean, ignore_index, class weights, spatial axes, SCE's log_prob output) and
 * LayerNormalization's Mean and InvStdDev outputs; then the PyTorch evaluation graph
 * fixtures/models/eval_graph.onnx (fixtures/pytorch/export_eval_graph.py: logits, mean
 * cross-entropy, weighted per-sample NLL with an ignored class, a scatter_add label histogram)
 * end to end: convert, verify against ONNX Runtime, compile, run bit-identically in the ref, wasm
 * and vm engines, and dispute.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { packInputs } from "../../abi/tensors.js";
import { compile } from "../../compiler/compile.js";
import { convertOnnx } from "../../converter/onnx/index.js";
import { HonestView, runDispute } from "../../dispute/index.js";
import { run } from "../../lib/executor.js";
import { readNpy } from "../../lib/tensor/npy.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { samplesFromArrays } from "../../lib/verify/inputs.js";
import { onnxRuntimeOracle } from "../../lib/verify/oracle.js";
import { wasmSampleRunner } from "../../verify/runnable.js";
import { verifyGraph } from "../../verify/verify.js";
import { Session } from "../../vm/index.js";
import { buildModel, DT, runOrt, type NodeSpec } from "./onnx/onnx-builder.js";

/** Seeded uniform values in [-scale, scale). */
function uniform(count: number, seed: number, scale = 1): number[] {
  let s = seed >>> 0;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s / 2 ** 32) * 2 - 1) * scale;
  });
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

interface LossCase {
  name: string;
  op: "NegativeLogLikelihoodLoss" | "SoftmaxCrossEntropyLoss";
  shape: number[];
  attrs: Record<string, number | string>;
  weights?: boolean;
  logProb?: boolean;
}

const LOSS_CASES: LossCase[] = [
  { name: "NLL mean", op: "NegativeLogLikelihoodLoss", shape: [4, 5], attrs: {} },
  { name: "NLL none, weights, ignore_index inside the classes", op: "NegativeLogLikelihoodLoss", shape: [4, 5], attrs: { reduction: "none", ignore_index: 2 }, weights: true },
  { name: "NLL sum over spatial axes, negative ignore_index", op: "NegativeLogLikelihoodLoss", shape: [2, 3, 4, 2], attrs: { reduction: "sum", ignore_index: -1 } },
  { name: "NLL mean with weights over spatial axes", op: "NegativeLogLikelihoodLoss", shape: [2, 4, 3], attrs: { reduction: "mean", ignore_index: 1 }, weights: true },
  { name: "SCE mean with log_prob", op: "SoftmaxCrossEntropyLoss", shape: [3, 6], attrs: {}, logProb: true },
  { name: "SCE none, weights, spatial", op: "SoftmaxCrossEntropyLoss", shape: [2, 3, 5], attrs: { reduction: "none", ignore_index: 0 }, weights: true },
];

/** Labels 0..C-1, with the ignored class (or -1 for a negative ignore_index) at some positions. */
function labelsFor(c: LossCase): number[] {
  const ignore = c.attrs.ignore_index as number | undefined;
  return uniform(size([c.shape[0], ...c.shape.slice(2)]), 5).map((v, i) => (ignore !== undefined && i % 3 === 1 ? ignore : Math.floor((v + 1) / 2 * c.shape[1])));
}

async function checkLoss(c: LossCase): Promise<void> {
  const labelShape = [c.shape[0], ...c.shape.slice(2)];
  const inputs = ["x", "labels", ...(c.weights ? ["w"] : [])];
  const outputs = ["loss", ...(c.logProb ? ["log_prob"] : [])];
  const node: NodeSpec = { op: c.op, name: "loss_under_test", inputs, outputs, attrs: c.attrs };
  const bytes = buildModel({
    opset: 13,
    nodes: [node],
    inputs: [{ name: "x", shape: c.shape }, { name: "labels", shape: labelShape, type: DT.INT64 }, ...(c.weights ? [{ name: "w", shape: [c.shape[1]] }] : [])],
    outputs: outputs.map((name) => ({ name })),
  });
  // NLL takes log-probabilities (negative values); SCE takes any scores.
  const x = uniform(size(c.shape), 3, 2).map((v) => (c.op === "NegativeLogLikelihoodLoss" ? v - 2 : v));
  const labels = labelsFor(c);
  const w = uniform(c.shape[1], 9).map((v) => 1 + v / 2);
  const want = await runOrt(bytes, {
    x: { data: Float32Array.from(x), shape: c.shape },
    labels: { data: BigInt64Array.from(labels, BigInt), shape: labelShape },
    ...(c.weights ? { w: { data: Float32Array.from(w), shape: [c.shape[1]] } } : {}),
  });
  const { graph } = convertOnnx(bytes);
  const feeds: Record<string, Tensor> = {
    x: Tensor.fromFloat(Float32Array.from(x), c.shape, 16),
    labels: new Tensor(labelShape, Int32Array.from(labels), 0),
    ...(c.weights ? { w: Tensor.fromFloat(Float32Array.from(w), [c.shape[1]], 16) } : {}),
  };
  const got = run(graph, feeds).outputs;
  for (const name of outputs) {
    const y = got.get(name)!;
    expect(y.shape, name).toEqual(want[name].shape);
    const values = y.toFloat();
    // Inputs quantized at 2^-17, one rounding per Mul/LogSoftmax/Div, sums of at most 24 terms.
    want[name].data.forEach((v, i) => expect(Math.abs(values[i] - v), `${name}[${i}]`).toBeLessThan(5e-4));
  }
}

describe("ONNX losses against onnxruntime", () => {
  for (const c of LOSS_CASES) it(c.name, () => checkLoss(c));

  it("refuses an unknown reduction and a rank-1 input, naming the node", () => {
    const model = (shape: number[], reduction: string) => buildModel({
      opset: 13,
      nodes: [{ op: "NegativeLogLikelihoodLoss", name: "nll", inputs: ["x", "t"], outputs: ["y"], attrs: { reduction } }],
      inputs: [{ name: "x", shape }, { name: "t", shape: shape.slice(0, 1), type: DT.INT64 }],
      outputs: [{ name: "y" }],
    });
    expect(() => convertOnnx(model([2, 3], "max"))).toThrow(/node 'nll' \(NegativeLogLikelihoodLoss\): reduction 'max' is not one of none, sum, mean/);
    expect(() => convertOnnx(model([3], "mean"))).toThrow(/node 'nll' .*input of rank 1 has no class axis/);
  });
});

describe("LayerNormalization Mean and InvStdDev against onnxruntime", () => {
  for (const [shape, axis] of [[[3, 8], -1], [[2, 3, 4], 1]] as const) {
    it(`shape [${shape}] axis ${axis}`, async () => {
      const normalized = shape.slice(((axis % shape.length) + shape.length) % shape.length);
      const bytes = buildModel({
        opset: 17,
        nodes: [{ op: "LayerNormalization", inputs: ["x", "scale", "bias"], outputs: ["y", "mean", "inv_std"], attrs: { axis, epsilon: { float: 1e-3 } } }],
        inputs: [{ name: "x", shape: [...shape] }, { name: "scale", shape: normalized }, { name: "bias", shape: normalized }],
        outputs: [{ name: "y" }, { name: "mean" }, { name: "inv_std" }],
      });
      const x = uniform(size([...shape]), 21, 3).map((v, i) => v + (i % 5));
      const [scale, bias] = [uniform(size(normalized), 22), uniform(size(normalized), 23)];
      const feed = (data: number[], s: number[]) => ({ data: Float32Array.from(data), shape: s });
      const want = await runOrt(bytes, { x: feed(x, [...shape]), scale: feed(scale, normalized), bias: feed(bias, normalized) });
      const { graph } = convertOnnx(bytes);
      const got = run(graph, {
        x: Tensor.fromFloat(Float32Array.from(x), [...shape], 16),
        scale: Tensor.fromFloat(Float32Array.from(scale), normalized, 16),
        bias: Tensor.fromFloat(Float32Array.from(bias), normalized, 16),
      }).outputs;
      for (const name of ["y", "mean", "inv_std"]) {
        const values = got.get(name)!.toFloat();
        expect(got.get(name)!.shape, name).toEqual(want[name].shape);
        // Measured worst: 8.3e-6 (Mean), 5.5e-6 (InvStdDev: Sqrt and Reciprocal each round once at Q16).
        want[name].data.forEach((v, i) => expect(Math.abs(values[i] - v), `${name}[${i}]`).toBeLessThan(5e-5));
      }
    });
  }
});

describe("PyTorch evaluation graph (losses and scatter_add), end to end", () => {
  const name = "eval_graph";
  const bytes = new Uint8Array(readFileSync(`fixtures/models/${name}.onnx`));
  const arrays = new Map(["x", "labels"].map((input) => {
    const path = `fixtures/data/eval_${input}.npy`;
    return [input, { path, npy: readNpy(new Uint8Array(readFileSync(path))) }];
  }));

  it("converts, verifies against ONNX Runtime, runs bit-identically in ref, wasm and vm, and disputes", async () => {
    const { graph, report } = convertOnnx(bytes, { source: `${name}.onnx` });
    expect(report.opCounts.LogSoftmax).toBe(2);
    const samples = samplesFromArrays(graph, arrays);
    const checked = await verifyGraph(graph, await onnxRuntimeOracle(bytes, name), samples);
    for (const output of checked.engines[0].outputs) {
      // Measured: logits 6.3e-6, loss 1.7e-6, weighted 7.3e-6 of their ranges; counts exact.
      expect(output.maxRelError, output.name).toBeLessThan(1e-4);
    }
    expect(checked.engines[0].outputs.find((o) => o.name === "counts")!.maxAbsError).toBe(0);
    const { wasm } = compile(graph);
    const want = run(graph, samples[0].fixed).outputs;
    for (const engine of ["wasm", "vm"] as const) {
      const got = wasmSampleRunner(wasm, name, engine).run(samples[0].fixed);
      for (const [output, tensor] of want) expect([...got.get(output)!.data], `${engine} ${output}`).toEqual([...tensor.data]);
    }
    const { manifest } = wasmSampleRunner(wasm, name);
    const view = new HonestView(new Session(wasm, packInputs(manifest.inputs, samples[0].fixed), { snapshotEvery: 1 << 16 }));
    const total = view.session.segmentSteps().reduce((a, b) => a + b, 0);
    const lie = runDispute(view, { cheat: { kind: "step", step: Math.floor(total / 2) }, cheatSide: "submitter" });
    expect(lie).toMatchObject({ challenged: true, winner: "challenger", conserved: true });
  });
});
