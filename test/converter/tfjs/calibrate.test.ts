/**
 * Calibration of TF.js models (converter/tfjs/calibrate.ts) on the committed MNIST fixtures (a
 * graph model, a Sequential and a functional layers model) and real test digits: the ranges
 * land on the IR values that compute each TF tensor (checked against the tensors TF.js itself
 * computes, asked for directly: `execute` on a graph model's nodes, a tf.model over a layers
 * model's layer outputs; a conv before its fused ReLU takes the ReLU's range), NaN inputs are
 * refused, each observed value's frac is the largest the rule of docs/numerics.md allows, and
 * the calibrated graphs (32-bit formats; 16-bit formats with 8-bit weights, biases corrected for
 * their rounding) agree with TF.js and run bit-identically in the reference executor and the fast and canonical WASM builds.
 */
import * as tf from "@tensorflow/tfjs";
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { convertTfjsCalibrated, observeTfjsRanges } from "../../../converter/tfjs/calibrate.js";
import { convertTfjs, shardsBeside, tfjsOracle } from "../../../converter/tfjs/index.js";
import type { Graph } from "../../../lib/graph/ir.js";
import { inferTypes } from "../../../lib/graph/validate.js";
import { readNpy } from "../../../lib/tensor/npy.js";
import type { FloatTensor } from "../../../lib/verify/compare.js";
import { samplesFromArrays } from "../../../lib/verify/inputs.js";
import { referenceEngine, wasmEngine } from "../../../verify/engines.js";
import { verifyGraph } from "../../../verify/verify.js";
import { tfReady } from "./helpers.js";

const GRAPH = "fixtures/tfjs/models/mnist_cnn/graph/model.json";
const LAYERS = "fixtures/tfjs/models/batchnorm/layers/model.json";
const DIGITS = readNpy(new Uint8Array(readFileSync("fixtures/tfjs/data/mnist_test_100.npy")));
const PIXELS = 28 * 28;

/** Test digits `from` .. `from + count - 1` (NHWC) as samples of the model's input `name`. */
function digits(name: string, from: number, count: number): Map<string, FloatTensor>[] {
  return Array.from({ length: count }, (_, i) => new Map([[name, { shape: [1, 28, 28, 1], data: Float64Array.from(DIGITS.data.slice((from + i) * PIXELS, (from + i + 1) * PIXELS) as Float32Array) }]]));
}

/** The model.json and its shards, as TF.js loads them from memory. */
function artifacts(path: string): tf.io.ModelArtifacts {
  const json = JSON.parse(readFileSync(path, "utf8")) as { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]; signature?: object };
  const shards = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(`${path.replace(/model\.json$/, "")}${p}`)));
  const weightData = new Uint8Array(Buffer.concat(shards)).buffer;
  return { modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData, signature: json.signature };
}

/** Largest |value| of each tensor over the samples. */
function maxAbs(perSample: tf.Tensor[][]): number[] {
  return perSample[0].map((_, k) => Math.max(...perSample.map((tensors) => Math.max(...Array.from(tensors[k].dataSync(), Math.abs)))));
}

/** The output of the IR node named `node` (the converter names nodes after their TF node or layer). */
function outputOf(graph: Graph, node: string): string {
  const n = graph.nodes.find((x) => x.name === node);
  if (!n) throw new Error(`no node '${node}' in ${graph.nodes.map((x) => x.name).join(", ")}`);
  return n.outputs[0];
}

/** The largest f in 0..30 with 2 * max * 2^f < 2^(bits - 1), counted down from 30. */
function expectedFrac(max: number, bits: number): number {
  let f = 30;
  while (f > 0 && 2 * max * 2 ** f >= 2 ** (bits - 1)) f--;
  return f;
}

beforeAll(tfReady);

describe("a TF.js graph model (mnist_cnn, fused conv + ReLU)", () => {
  const calibration = digits("conv1_input", 0, 10);
  // TF nodes and the IR node that writes each one's value: a fused conv's value is its ReLU's output.
  const tensors = [["conv1/BiasAdd_Relu", "conv1/BiasAdd_Relu/relu"], ["pool1/MaxPool", "pool1/MaxPool"], ["conv2/BiasAdd_Relu", "conv2/BiasAdd_Relu/relu"], ["logits/BiasAdd", "logits/BiasAdd"]];
  let expected: number[];

  beforeAll(async () => {
    const model = await tf.loadGraphModel(tf.io.fromMemory(artifacts(GRAPH)));
    expected = maxAbs(calibration.map((s) => {
      const x = s.get("conv1_input")!;
      return model.execute({ conv1_input: tf.tensor(Array.from(x.data), x.shape) }, tensors.map(([t]) => `${t}:0`)) as tf.Tensor[];
    }));
  });

  it("records each TF node's range under the IR value that computes it, and the ReLU's for the conv before it", async () => {
    const probe = convertTfjs(readFileSync(GRAPH, "utf8"), shardsBeside(GRAPH)).graph;
    const ranges = await observeTfjsRanges(readFileSync(GRAPH, "utf8"), shardsBeside(GRAPH), probe, calibration);
    expect(ranges.samples).toBe(10);
    tensors.forEach(([tfName, node], k) => expect(ranges.maxAbs.get(outputOf(probe, node)), tfName).toBeCloseTo(expected[k], 5));
    expect(ranges.maxAbs.get(outputOf(probe, "conv1/BiasAdd_Relu"))).toBe(ranges.maxAbs.get(outputOf(probe, "conv1/BiasAdd_Relu/relu")));
    expect(ranges.maxAbs.get("conv1_input")).toBe(1);
  });

  it("refuses calibration inputs with NaN or infinities", async () => {
    const probe = convertTfjs(readFileSync(GRAPH, "utf8"), shardsBeside(GRAPH)).graph;
    const [sample] = digits("conv1_input", 0, 1);
    sample.get("conv1_input")!.data[300] = Number.POSITIVE_INFINITY;
    await expect(observeTfjsRanges(readFileSync(GRAPH, "utf8"), shardsBeside(GRAPH), probe, [sample])).rejects.toThrow("calibration sample 0: input 'conv1_input' has a NaN or infinite value (first at index 300); calibration needs finite inputs");
  });

  it("gives each observed value the largest frac the rule allows, agrees with TF.js, and runs bit-identically in the reference and both WASM builds", async () => {
    const { graph, plan, calibration: result } = await convertTfjsCalibrated(readFileSync(GRAPH, "utf8"), shardsBeside(GRAPH), () => calibration, "10 test digits");
    expect(result.lowered).toEqual([]);
    const types = inferTypes(graph);
    const fracs = tensors.map(([, node]) => types.get(outputOf(graph, node))!.frac);
    expect(fracs).toEqual(expected.map((m) => expectedFrac(m, 32)));
    expect(new Set(fracs).size).toBeGreaterThan(1);
    expect(graph.frac).toBe(Math.min(...plan.tensorFracs.values()));
    expect(JSON.parse(graph.metadata.calibration)).toMatchObject({ samples: 10, data: "10 test digits", frac: graph.frac });
    await expectVerified(graph, GRAPH, 5e-4);
  });
});

describe("a TF.js layers model (batchnorm: BatchNormalization fused into the conv and the dense layer)", () => {
  const calibration = digits("conv_input", 10, 10);
  // Layers and the IR node that writes each one's output: a BatchNormalization fused into the layer before it.
  const layers = [["conv_bn", "conv"], ["pool", "pool"], ["hidden_bn", "hidden"], ["hidden_relu", "hidden_relu/relu"]];
  let expected: number[];

  beforeAll(async () => {
    const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts(LAYERS)));
    const all = tf.model({ inputs: model.inputs, outputs: layers.map(([l]) => model.getLayer(l).output as tf.SymbolicTensor) });
    expected = maxAbs(calibration.map((s) => {
      const x = s.get("conv_input")!;
      return all.predict(tf.tensor(Array.from(x.data), x.shape)) as tf.Tensor[];
    }));
  });

  it("gives 16-bit formats from each layer's range with 8-bit weights, agrees with TF.js, and runs bit-identically", async () => {
    const { graph, ranges } = await convertTfjsCalibrated(readFileSync(LAYERS, "utf8"), shardsBeside(LAYERS), () => calibration, "10 test digits", { weightBits: 8 }, 16);
    layers.forEach(([layer, node], k) => expect(ranges.maxAbs.get(outputOf(graph, node)), layer).toBeCloseTo(expected[k], 5));
    const types = inferTypes(graph);
    // The Relu passes its input's frac on: the conv's and the dense layer's fracs are the ones to check.
    expect([types.get(outputOf(graph, "conv"))!.frac, types.get(outputOf(graph, "hidden"))!.frac]).toEqual([expectedFrac(expected[0], 16), expectedFrac(expected[2], 16)]);
    expect(graph.metadata.weight_bits).toBe("8");
    expect([...graph.constants.values()].some((t) => t.storage !== undefined)).toBe(true);
    // The conv's and the dense layers' biases were corrected for the rounding (means from the reference executor), unless told not to.
    expect(Number(graph.metadata.bias_corrected_layers)).toBeGreaterThanOrEqual(2);
    expect(graph.nodes.filter((n) => n.inputs[2]?.endsWith("/corrected_bias")).length).toBe(Number(graph.metadata.bias_corrected_layers));
    const plain = await convertTfjsCalibrated(readFileSync(LAYERS, "utf8"), shardsBeside(LAYERS), () => calibration, "10 test digits", { weightBits: 8, biasCorrection: false }, 16);
    expect(plain.graph.metadata.bias_corrected_layers).toBeUndefined();
    await expectVerified(graph, LAYERS, 0.05);
  });
});

describe("a functional TF.js layers model (residual: Add, Concatenate)", () => {
  it("records each layer's range under the IR value that computes it", async () => {
    const path = "fixtures/tfjs/models/residual/layers/model.json";
    const calibration = digits("image", 20, 4);
    const layers = ["res_b", "residual", "concat", "gap"];
    const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts(path)));
    const all = tf.model({ inputs: model.inputs, outputs: layers.map((l) => model.getLayer(l).output as tf.SymbolicTensor) });
    const expected = maxAbs(calibration.map((s) => all.predict(tf.tensor(Array.from(s.get("image")!.data), [1, 28, 28, 1])) as tf.Tensor[]));
    const probe = convertTfjs(readFileSync(path, "utf8"), shardsBeside(path)).graph;
    const ranges = await observeTfjsRanges(readFileSync(path, "utf8"), shardsBeside(path), probe, calibration);
    // Each of these layers is one IR node of its name.
    layers.forEach((layer, k) => expect(ranges.maxAbs.get(outputOf(probe, layer)), layer).toBeCloseTo(expected[k], 5));
  });
});

/** Verify on three digits not calibrated on: close to TF.js, the fast build bit-identical to the reference, the canonical build too. */
async function expectVerified(graph: Graph, path: string, maxError: number): Promise<void> {
  const name = graph.inputs[0].name;
  const npy = { ...DIGITS, shape: [3, 28, 28, 1], data: DIGITS.data.slice(50 * PIXELS, 53 * PIXELS) };
  const samples = samplesFromArrays(graph, new Map([[name, { path: "mnist_test_100.npy", npy }]]));
  const oracle = await tfjsOracle(readFileSync(path, "utf8"), shardsBeside(path), path);
  try {
    const report = await verifyGraph(graph, oracle, samples, { engines: [referenceEngine, wasmEngine] });
    expect(report.engines[1].identicalTo?.identical).toBe(true);
    expect(report.canonical).toMatchObject({ samples: 3, identical: 3 });
    for (const o of report.engines[0].outputs) expect(o.maxAbsError, o.name).toBeLessThan(maxError);
  } finally {
    await oracle.dispose?.();
  }
}
