/**
 * BatchNormalization fusion into the Conv, ConvTranspose (grouped) or Gemm (either B layout,
 * with C and beta) before it, checked against onnxruntime on the unfused model; and no fusion
 * when the producer's output has another reader (the BatchNormalization op runs instead).
 * Tolerance 1e-3 absolute: inputs are Q16 and fused weights carry >= 16 fractional bits, so each
 * of the <= 32 products of a dot product is off by < 2^-15 relative to values of order 1.
 */
import { describe, expect, it } from "vitest";
import { convertOnnx } from "../../../converter/onnx/index.js";
import { run } from "../../../lib/executor.js";
import { Rng } from "../../helpers/random.js";
import { buildModel, runOrt, tensor, type NodeSpec } from "../onnx/onnx-builder.js";

const TOLERANCE = 1e-3;

function bnInits(rng: Rng, c: number) {
  const vec = (name: string, lo: number, hi: number) => tensor(name, [c], Array.from({ length: c }, () => rng.uniform(lo, hi)));
  return [vec("gamma", 0.5, 1.5), vec("beta", -0.5, 0.5), vec("mean", -0.5, 0.5), vec("var", 0.5, 2)];
}

const weights = (rng: Rng, name: string, dims: number[]) => tensor(name, dims, Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rng.uniform(-0.5, 0.5)));

interface Case {
  name: string;
  producer: NodeSpec;
  inputShape: number[];
  channels: number;
  inits: (rng: Rng) => ReturnType<typeof tensor>[];
  /** Another reader of the producer's output: blocks the fusion. */
  shared?: boolean;
}

const CASES: Case[] = [
  { name: "Conv", producer: { op: "Conv", inputs: ["x", "w", "b"], outputs: ["p"], attrs: { pads: [1, 1, 1, 1] } }, inputShape: [1, 2, 5, 5], channels: 3,
    inits: (rng) => [weights(rng, "w", [3, 2, 3, 3]), weights(rng, "b", [3])] },
  { name: "Conv without bias, depthwise", producer: { op: "Conv", inputs: ["x", "w"], outputs: ["p"], attrs: { group: 4 } }, inputShape: [1, 4, 4, 4], channels: 4,
    inits: (rng) => [weights(rng, "w", [4, 1, 3, 3])] },
  { name: "ConvTranspose with groups", producer: { op: "ConvTranspose", inputs: ["x", "w", "b"], outputs: ["p"], attrs: { group: 2, strides: [2, 2] } }, inputShape: [1, 4, 3, 3], channels: 6,
    inits: (rng) => [weights(rng, "w", [4, 3, 2, 2]), weights(rng, "b", [6])] },
  { name: "Gemm transB", producer: { op: "Gemm", inputs: ["x", "w", "b"], outputs: ["p"], attrs: { transB: 1 } }, inputShape: [2, 8], channels: 5,
    inits: (rng) => [weights(rng, "w", [5, 8]), weights(rng, "b", [5])] },
  { name: "Gemm with beta and a scalar C", producer: { op: "Gemm", inputs: ["x", "w", "b"], outputs: ["p"], attrs: { beta: 0.5, alpha: { float: 2 } } }, inputShape: [3, 6], channels: 4,
    inits: (rng) => [weights(rng, "w", [6, 4]), weights(rng, "b", [1])] },
  { name: "Conv whose output is also read elsewhere", producer: { op: "Conv", inputs: ["x", "w", "b"], outputs: ["p"] }, inputShape: [1, 2, 4, 4], channels: 2,
    inits: (rng) => [weights(rng, "w", [2, 2, 1, 1]), weights(rng, "b", [2])], shared: true },
];

describe("BatchNormalization fusion", () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const rng = new Rng(c.name.length);
      const nodes: NodeSpec[] = [c.producer, { op: "BatchNormalization", inputs: ["p", "gamma", "beta", "mean", "var"], outputs: ["y"], attrs: { epsilon: 1e-3 } }];
      if (c.shared) nodes.push({ op: "Relu", inputs: ["p"], outputs: ["z"] });
      const outputs = c.shared ? [{ name: "y" }, { name: "z" }] : [{ name: "y" }];
      const bytes = buildModel({ opset: 13, nodes, inputs: [{ name: "x", shape: c.inputShape }], outputs, initializers: [...c.inits(rng), ...bnInits(rng, c.channels)] });
      const { graph, report } = convertOnnx(bytes);
      expect(report.batchNormsFused).toBe(c.shared ? 0 : 1);
      expect(graph.nodes.map((n) => n.op)).toEqual(c.shared ? [c.producer.op, "BatchNormalization", "Relu"] : [c.producer.op]);
      const x = rng.tensor(c.inputShape, 16, -2, 2);
      const want = await runOrt(bytes, { x: { data: Float32Array.from(x.toFloat()), shape: c.inputShape } });
      const got = run(graph, { x }).outputs;
      for (const { name } of outputs) {
        expect(got.get(name)!.shape).toEqual(want[name].shape);
        got.get(name)!.toFloat().forEach((v, i) => expect(Math.abs(v - want[name].data[i]), `${name}[${i}]`).toBeLessThan(TOLERANCE));
      }
    });
  }
});
