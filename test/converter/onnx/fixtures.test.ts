/**
 * Every committed ONNX fixture converts and runs in the reference executor close to PyTorch's
 * float output. Tolerance, relative to the output range (max |output|): activations are Q16
 * (step 1.5e-5) and weights carry up to 20 fractional bits, so each op adds about one unit of
 * rounding (the integer Erf, Sqrt, Div and Softmax of the transformer a few units), and through
 * the 3 to 30 ops of these nets the errors add up to a few units of Q16: measured 2e-5 to 1e-4
 * of the range. 5e-4 leaves a 5x margin and still catches any real mistranslation.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { convertOnnxFile } from "../../../converter/onnx/index.js";
import { run } from "../../../lib/executor.js";
import { inputFromNpy } from "../../../lib/model-files.js";
import { readNpy } from "../../../lib/tensor/npy.js";
import { Tensor } from "../../../lib/tensor/tensor.js";

const FIXTURES = new URL("../../../fixtures/", import.meta.url).pathname;
const npy = (file: string) => readNpy(new Uint8Array(readFileSync(`${FIXTURES}data/${file}`)), file);

const TOLERANCE = 5e-4;

const CASES: { model: string; data: string }[] = [
  { model: "mlp", data: "mlp" },
  { model: "resnet_small", data: "resnet_small" },
  { model: "mobilenet_block", data: "mobilenet_block" },
  { model: "dcgan_generator", data: "dcgan_generator" },
  { model: "transformer_block", data: "transformer_block" },
  { model: "transformer_block_op17", data: "transformer_block" },
];

/** Largest |got - want| divided by the largest |want|. */
function relativeError(got: ArrayLike<number>, want: ArrayLike<number | bigint>): number {
  let diff = 0;
  let range = 0;
  for (let i = 0; i < got.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - Number(want[i])));
    range = Math.max(range, Math.abs(Number(want[i])));
  }
  return diff / range;
}

describe("ONNX fixtures convert and match PyTorch", () => {
  for (const c of CASES) {
    it(`${c.model}: output within ${TOLERANCE} of the output range`, () => {
      const { graph, report } = convertOnnxFile(`${FIXTURES}models/${c.model}.onnx`);
      expect(report.nodesIn).toBeGreaterThan(0);
      const input = graph.inputs[0];
      const x = inputFromNpy(npy(`${c.data}_input.npy`), input, c.data);
      const want = npy(`${c.data}_output.npy`);
      const y = run(graph, { [input.name]: x }).outputs.get(graph.outputs[0])!;
      expect(y.shape).toEqual(want.shape);
      expect(relativeError(y.toFloat(), want.data as ArrayLike<number>)).toBeLessThan(TOLERANCE);
    });
  }

  it("reports progress per node and records provenance (not paths) in the metadata", () => {
    const calls: [number, number][] = [];
    const { graph, report } = convertOnnxFile(`${FIXTURES}models/mlp.onnx`, { onProgress: (done, total) => calls.push([done, total]) });
    expect(calls).toEqual([[1, 3], [2, 3], [3, 3]]);
    expect(graph.metadata).toEqual({ producer: "detml convert", source: "mlp.onnx", source_format: "onnx", onnx_opset: "13", onnx_producer: "pytorch 1.13.0" });
    expect(report).toMatchObject({ nodesIn: 3, nodesOut: 3, params: 16 * 32 + 32 + 32 * 10 + 10, opCounts: { Gemm: 2, Relu: 1 } });
  });

  it("folds every BatchNormalization of resnet_small into its Conv", () => {
    const { graph, report } = convertOnnxFile(`${FIXTURES}models/resnet_small.onnx`);
    expect(report.batchNormsFused).toBe(6);
    expect(graph.nodes.some((n) => n.op === "BatchNormalization")).toBe(false);
  });

  it("mnist_lenet: the first 100 test digits get PyTorch's class and logits", () => {
    const { graph } = convertOnnxFile(`${FIXTURES}models/mnist_lenet.onnx`);
    expect(graph.inputs[0].shape).toEqual([1, 1, 28, 28]); // symbolic 'batch' defaulted to 1
    const digits = npy("mnist_test_1000.npy");
    const logits = npy("mnist_test_1000_logits.npy");
    const n = 100;
    let agree = 0;
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const pixels = Array.from((digits.data as Float32Array).subarray(i * 784, (i + 1) * 784));
      const y = run(graph, { input: Tensor.fromFloat(pixels, [1, 1, 28, 28], graph.inputs[0].frac) }).outputs.get("logits")!.toFloat();
      const want = Array.from((logits.data as Float32Array).subarray(i * 10, (i + 1) * 10));
      const argmax = (v: ArrayLike<number>) => Array.from(v).reduce((best, x, k, a) => (x > a[best] ? k : best), 0);
      if (argmax(y) === argmax(want)) agree++;
      worst = Math.max(worst, relativeError(y, want));
    }
    expect(agree).toBe(n);
    expect(worst).toBeLessThan(TOLERANCE);
  });
});
