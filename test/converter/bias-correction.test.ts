/**
 * Bias correction (converter/common/bias-correction.ts): after rounding the weights to 8 bits,
 * each corrected layer's mean output over the calibration samples must come back to the mean of
 * the unrounded layer (the property the correction exists for), where the uncorrected rounding
 * leaves a visible shift. Checked in the reference executor on a strided, padded, grouped Conv
 * and on a Gemm without a bias, with inputs of nonzero mean. (Only a layer by itself: the
 * correction uses the float model's means, so a layer after a corrected one still sees the
 * per-position drift its channel means do not capture.)
 */
import { describe, expect, test } from "vitest";
import { correctBiases, LayerInputMeans } from "../../converter/common/bias-correction.js";
import { narrowWeights } from "../../converter/common/narrow-weights.js";
import { GraphBuilder } from "../../lib/graph/builder.js";
import type { Graph } from "../../lib/graph/ir.js";
import { run } from "../../lib/executor.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";

const rng = new Rng(31);
const randn = (n: number, s: number) => Array.from({ length: n }, () => rng.normal() * s);

/** x[1,4,9,9] -> Conv(6 out, 3x3, stride 2, pad 1, group 2) -> y. */
function convModel(): Graph {
  const g = new GraphBuilder();
  const x = g.input("x", [1, 4, 9, 9]);
  g.output(g.op("Conv", [x, g.constant("w", randn(6 * 2 * 9, 0.3), [6, 2, 3, 3]), g.constant("b", randn(6, 0.1), [6])],
    { pads: [1, 1, 1, 1], strides: [2, 2], group: 2 }, { name: "conv", outputs: ["y"] })[0]);
  return g.build();
}

/** x[3,40] -> Gemm(transB, no bias) -> y[3,5]. */
function gemmModel(): Graph {
  const g = new GraphBuilder();
  const x = g.input("x", [3, 40]);
  g.output(g.op("Gemm", [x, g.constant("v", randn(5 * 40, 0.2), [5, 40])], { transB: 1 }, { name: "fc", outputs: ["y"] })[0]);
  return g.build();
}

/** Each output channel's mean over the samples (channel: axis 1; every other axis averaged). */
function channelMeans(graph: Graph, samples: Float64Array[]): number[] {
  const sums: number[] = [];
  for (const data of samples) {
    const t = run(graph, { x: Tensor.fromFloat(Array.from(data), graph.inputs[0].shape, graph.inputs[0].frac) }).outputs.get("y")!;
    const [outer, channels] = [t.shape[0], t.shape[1]];
    const inner = t.size / (outer * channels);
    for (let i = 0; i < t.size; i++) {
      const c = Math.floor(i / inner) % channels;
      sums[c] = (sums[c] ?? 0) + t.data[i] / 2 ** t.frac / (outer * inner * samples.length);
    }
  }
  return sums;
}

describe("bias correction of narrow weights", () => {
  test("a corrected layer keeps the unrounded layer's mean output over the calibration samples (Conv; Gemm without a bias)", () => {
    for (const graph of [convModel(), gemmModel()]) {
      const shape = graph.inputs[0].shape;
      const size = shape.reduce((a, b) => a * b, 1);
      // Inputs around 1 (like post-ReLU activations): the rounding's shift (Wq - W) mu is large there.
      const samples = Array.from({ length: 12 }, () => Float64Array.from({ length: size }, () => 1 + rng.normal() * 0.5));
      const means = new LayerInputMeans(graph);
      for (const data of samples) means.observe(new Map([["x", { shape, data }]]));
      const narrowed = narrowWeights(graph, 8);
      const { graph: corrected, corrected: count } = correctBiases(graph, narrowed, means);
      expect(count).toBe(1);
      expect(corrected.nodes[0].inputs).toHaveLength(3); // the Gemm gets a bias
      const [exact, rounded, fixed] = [graph, narrowed, corrected].map((g) => channelMeans(g, samples));
      // Rounding shifts the means visibly; the correction brings each back to within rounding noise (a few units of 2^-16).
      expect(Math.max(...rounded.map((m, c) => Math.abs(m - exact[c])))).toBeGreaterThan(1e-3);
      for (const [c, m] of fixed.entries()) expect(Math.abs(m - exact[c])).toBeLessThan(2e-5);
    }
  });

  test("layers without a mean (never observed) and unrounded weights are left alone", () => {
    const graph = convModel();
    const { graph: same, corrected } = correctBiases(graph, narrowWeights(graph, 8), new LayerInputMeans(graph));
    expect(corrected).toBe(0);
    expect(same.nodes.map((n) => n.inputs)).toEqual(graph.nodes.map((n) => n.inputs));
    const means = new LayerInputMeans(graph);
    means.observe(new Map([["x", { shape: [1, 4, 9, 9], data: new Float64Array(324).fill(1) }]]));
    expect(correctBiases(graph, graph, means).corrected).toBe(0); // nothing was rounded
    const other = new LayerInputMeans(graph);
    other.observe(new Map([["x", { shape: [1, 4, 3, 3], data: new Float64Array(36) }]])); // another shape: ignored
    expect(correctBiases(graph, narrowWeights(graph, 8), other).corrected).toBe(0);
    expect(correctBiases(graph, narrowWeights(graph, 8), means).corrected).toBe(1);
    const overflowed = new LayerInputMeans(graph);
    overflowed.observe(new Map([["x", { shape: [1, 4, 9, 9], data: new Float64Array(324).fill(Infinity) }]])); // a float run that overflowed
    expect(correctBiases(graph, narrowWeights(graph, 8), overflowed).corrected).toBe(0);
  });
});
