/**
 * DFT and STFT (converter/onnx/spectral.ts: one MatMul with a constant cos/sin table) and Det
 * (converter/onnx/determinant.ts: a Laplace expansion of batched dot products) against
 * onnxruntime-node on one-node models: real and complex signals, a dft_length that truncates or
 * pads, onesided, the inverse, another axis; STFT with a window and overlapping frames; Det of
 * 1x1, 3x3 and 5x5 matrices in batches; the Hann, Hamming and Blackman windows and
 * MelWeightMatrix (constants). A DFT, an STFT and a Det also compile to the reference's
 * integers, and the refusals (a run-time frame_step, an axis that is not a signal axis, a
 * non-square Det) name the node and say why.
 */
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import { convertOnnx } from "../../converter/onnx/index.js";
import { run } from "../../lib/executor.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { wasmSampleRunner } from "../../verify/runnable.js";
import { buildModel, DT, runOrt, tensor } from "./onnx/onnx-builder.js";
import { uniform } from "../helpers/random.js";


const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

interface Case {
  name: string;
  op: string;
  x: number[];
  attrs?: Record<string, number>;
  /** Constant inputs after x: [name, dims, values, type]. */
  consts?: [string, number[], number[], number][];
  /** Bound on |detml - onnxruntime| relative to max(1, largest |output|). */
  tolerance: number;
  /** Also compile it (the other cases reuse the same emitters). */
  compiled?: boolean;
}

const CASES: Case[] = [
  { name: "DFT of a real signal along axis 1", op: "DFT", x: [2, 12, 3, 1], tolerance: 1e-4 },
  { name: "DFT of a complex signal along axis 2, dft_length 7 truncating", op: "DFT", x: [1, 3, 9, 2], attrs: { axis: 2 },
    consts: [["dft_length", [], [7], DT.INT64]], tolerance: 1e-4, compiled: true },
  { name: "one-sided DFT, dft_length 16 padding a real signal of 10", op: "DFT", x: [2, 10, 1], attrs: { onesided: 1 },
    consts: [["dft_length", [], [16], DT.INT64]], tolerance: 1e-4 },
  { name: "inverse DFT of a complex signal", op: "DFT", x: [1, 8, 2], attrs: { inverse: 1 }, tolerance: 1e-4 },
  { name: "STFT with a window, frames overlapping", op: "STFT", x: [2, 40, 1],
    consts: [["frame_step", [], [6], DT.INT64], ["window", [10], uniform(10, 3).map((v) => 0.5 + v / 2), DT.FLOAT]], tolerance: 1e-4, compiled: true },
  { name: "STFT of a complex signal, two-sided, frame_length only", op: "STFT", x: [1, 30, 2], attrs: { onesided: 0 },
    consts: [["frame_step", [], [8], DT.INT64], ["", [], [], DT.FLOAT], ["frame_length", [], [9], DT.INT64]], tolerance: 1e-4 },
  { name: "Det of a [2, 2] batch of 3x3 matrices", op: "Det", x: [2, 2, 3, 3], tolerance: 1e-4 },
  { name: "Det of 5x5 matrices", op: "Det", x: [3, 5, 5], tolerance: 2e-4, compiled: true },
  { name: "Det of one 1x1 matrix", op: "Det", x: [1, 1], tolerance: 1e-4 },
];

function caseModel(c: Case): Uint8Array {
  const consts = c.consts ?? [];
  return buildModel({
    opset: 17,
    nodes: [{ op: c.op, name: "transform", inputs: ["x", ...consts.map(([name]) => name)], outputs: ["y"], attrs: c.attrs }],
    inputs: [{ name: "x", shape: c.x }],
    outputs: [{ name: "y" }],
    initializers: consts.filter(([name]) => name !== "").map(([name, dims, values, type]) => tensor(name, dims, values, type)),
  });
}

describe("DFT, STFT and Det lowered onto MatMul", () => {
  for (const c of CASES) {
    it(`${c.name}: onnxruntime's values${c.compiled ? ", and the same integers compiled" : ""}`, async () => {
      const bytes = caseModel(c);
      const values = Float32Array.from(uniform(size(c.x), 11));
      const want = (await runOrt(bytes, { x: { data: values, shape: c.x } })).y;
      const { graph } = convertOnnx(bytes);
      const x = new Map([["x", Tensor.fromFloat(values, c.x, 16)]]);
      const y = run(graph, x).outputs.get("y")!;
      expect(y.shape).toEqual(want.shape);
      const bound = c.tolerance * Math.max(1, ...Array.from(want.data, Math.abs));
      const got = y.toFloat();
      want.data.forEach((v, i) => expect(Math.abs(got[i] - v), `y[${i}]`).toBeLessThan(bound));
      if (c.compiled) expect([...wasmSampleRunner(compile(graph).wasm, c.name).run(x).get("y")!.data]).toEqual([...y.data]);
    });
  }

  it("computes the Hann, Hamming and Blackman windows of a constant size as onnxruntime does", async () => {
    for (const [op, periodic] of [["HannWindow", 1], ["HammingWindow", 0], ["BlackmanWindow", 1], ["BlackmanWindow", 0]] as const) {
      const bytes = buildModel({
        opset: 17,
        nodes: [
          { op, name: "window", inputs: ["size"], outputs: ["w"], attrs: { periodic } },
          { op: "Mul", name: "apply", inputs: ["x", "w"], outputs: ["y"] },
        ],
        inputs: [{ name: "x", shape: [2, 11] }],
        outputs: [{ name: "y" }],
        initializers: [tensor("size", [], [11], DT.INT64)],
      });
      const values = Float32Array.from(uniform(22, 4));
      const want = (await runOrt(bytes, { x: { data: values, shape: [2, 11] } })).y;
      const got = run(convertOnnx(bytes).graph, new Map([["x", Tensor.fromFloat(values, [2, 11], 16)]])).outputs.get("y")!.toFloat();
      want.data.forEach((v, i) => expect(Math.abs(got[i] - v), `${op} periodic ${periodic} y[${i}]`).toBeLessThan(3e-5));
    }
  });

  it("computes MelWeightMatrix of constant parameters as onnxruntime does", async () => {
    for (const [melBins, dftLength, sampleRate, low, high] of [[8, 16, 8192, 0, 4096], [5, 64, 16000, 100, 6000], [12, 128, 22050, 30, 11025]]) {
      const bins = Math.floor(dftLength / 2) + 1;
      const bytes = buildModel({
        opset: 17,
        nodes: [
          { op: "MelWeightMatrix", name: "mel", inputs: ["m", "d", "r", "lo", "hi"], outputs: ["w"] },
          { op: "MatMul", name: "apply", inputs: ["x", "w"], outputs: ["y"] },
        ],
        inputs: [{ name: "x", shape: [2, bins] }],
        outputs: [{ name: "y" }],
        initializers: [
          tensor("m", [], [melBins], DT.INT32), tensor("d", [], [dftLength], DT.INT32), tensor("r", [], [sampleRate], DT.INT32),
          tensor("lo", [], [low]), tensor("hi", [], [high]),
        ],
      });
      const values = Float32Array.from(uniform(2 * bins, 6));
      const want = (await runOrt(bytes, { x: { data: values, shape: [2, bins] } })).y;
      const got = run(convertOnnx(bytes).graph, new Map([["x", Tensor.fromFloat(values, [2, bins], 16)]])).outputs.get("y")!.toFloat();
      want.data.forEach((v, i) => expect(Math.abs(got[i] - v), `${melBins} mel bins, y[${i}]`).toBeLessThan(1e-4));
    }
  });

  it("refuses what sets a shape at run time, a non-signal axis and non-square matrices, naming the node", () => {
    const stepAtRunTime = buildModel({
      opset: 17,
      nodes: [{ op: "STFT", name: "s", inputs: ["x", "step", "", "len"], outputs: ["y"] }],
      inputs: [{ name: "x", shape: [1, 20, 1] }, { name: "step", shape: [], type: DT.INT64 }],
      outputs: [{ name: "y" }],
      initializers: [tensor("len", [], [4], DT.INT64)],
    });
    expect(() => convertOnnx(stepAtRunTime)).toThrow(/^node 's' \(STFT\): input 1 \(frame_step\) must be a constant/);
    const lastAxis = buildModel({
      opset: 17,
      nodes: [{ op: "DFT", name: "d", inputs: ["x"], outputs: ["y"], attrs: { axis: 2 } }],
      inputs: [{ name: "x", shape: [1, 4, 2] }],
      outputs: [{ name: "y" }],
    });
    expect(() => convertOnnx(lastAxis)).toThrow(/^node 'd' \(DFT\): axis 2 is not a signal axis/);
    const notSquare = buildModel({
      nodes: [{ op: "Det", name: "det", inputs: ["x"], outputs: ["y"] }],
      inputs: [{ name: "x", shape: [2, 3] }],
      outputs: [{ name: "y" }],
    });
    expect(() => convertOnnx(notSquare)).toThrow(/^node 'det' \(Det\): input X \[2,3\] is not a stack of square matrices/);
  });
});
