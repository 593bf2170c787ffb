/**
 * Real-world TF.js graph models published by others (the npm package @vladmandic/human 3.3.6,
 * fetched into .cache by scripts/fetch-tfjs-real-models.sh): converted from disk and compared with
 * TF.js on seeded random inputs through the verify core, on the reference executor and on the
 * compiled WASM module, which must be bit-identical to it. Tolerance per output: max error /
 * output range <= 2e-3 as in the op tests (these deeper nets measure 1e-7..8e-4), or, for an
 * output whose values are within a few units of Q16's resolution (a one-element output of about
 * 5e-5, whose "range" is its own magnitude), a max absolute error of at most 4 units (6.1e-5).
 * MoveNet's decoder (ArgMax, FloorDiv, GatherNd on the heatmaps) runs on int32 pixels in 0..255.
 * CenterNet takes float pixels in 0..255 and ranks 100 detections out of 1.3M heatmap cells with
 * TopK: its heatmap and box sizes meet the tolerance, its detections are checked as a ranked list
 * that may differ only at near-ties of the fixed-point heatmap (expectSameDetections).
 * A detector with while loops is rejected as control flow.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { convertTfjs, convertTfjsFile, shardsBeside, tfjsOracle, tfjsOracleFile } from "../../../converter/tfjs/index.js";
import type { Graph } from "../../../lib/graph/ir.js";
import { sizeOf } from "../../../lib/tensor/shape.js";
import { Tensor } from "../../../lib/tensor/tensor.js";
import type { FloatTensor } from "../../../lib/verify/compare.js";
import { type Engine, referenceEngine, wasmEngine } from "../../../verify/engines.js";
import { randomSamples, SeededRandom, type IntRange, type Sample } from "../../../lib/verify/inputs.js";
import type { FloatOracle } from "../../../lib/verify/oracle.js";
import { verifyGraph } from "../../../verify/verify.js";
import { realModelsDir, tfReady } from "./helpers.js";

const REAL = realModelsDir();
const TOLERANCE = 2e-3;
const ABS_TOLERANCE = 4 / 2 ** 16;

/**
 * Run TF.js, the reference and the WASM build on `samples`; expect the outputs named `checked`
 * within the tolerance and unsaturated, and every output of the WASM build bit-identical.
 */
async function expectMatchesTfjs(graph: Graph, oracle: FloatOracle, samples: Sample[], checked = graph.outputs, reference = referenceEngine) {
  const result = await verifyGraph(graph, oracle, samples, { engines: [reference, wasmEngine] });
  const measured = result.engines[0].outputs.filter((o) => checked.includes(o.name));
  const outside = measured.filter((o) => o.maxRelError > TOLERANCE && o.maxAbsError > ABS_TOLERANCE);
  expect(outside.map((o) => [o.name, o.maxRelError, o.maxAbsError])).toEqual([]);
  expect(measured.every((o) => o.saturated === 0)).toBe(true);
  expect(result.engines[1].identicalTo).toEqual({ engine: "ref", identical: true });
  return measured;
}

/** `count` seeded images of uniform integer pixel values 0..255 for a float image input. */
function pixelSamples(graph: Graph, count: number, seed: number): Sample[] {
  const rng = new SeededRandom(seed);
  const [info] = graph.inputs;
  return Array.from({ length: count }, () => {
    const data = Float64Array.from({ length: sizeOf(info.shape) }, () => rng.int(0, 255));
    const fixed = Tensor.fromFloat(data, info.shape, info.frac);
    return { float: new Map([[info.name, { shape: [...info.shape], data }]]), fixed: new Map([[info.name, fixed]]) };
  });
}

/** `oracle` and the reference engine, also keeping the raw outputs of the last sample in `t` and `d`. */
function recording(oracle: FloatOracle, t: Map<string, FloatTensor>, d: Map<string, Tensor>): { oracle: FloatOracle; reference: Engine } {
  const keep = <T>(into: Map<string, T>, outputs: Map<string, T>) => {
    for (const [name, x] of outputs) into.set(name, x);
    return outputs;
  };
  return {
    oracle: { ...oracle, run: async (v) => keep(t, await oracle.run(v)) },
    reference: {
      ...referenceEngine,
      load: async (graph) => {
        const loaded = await referenceEngine.load(graph);
        return { run: async (v) => keep(d, await loaded.run(v)) };
      },
    },
  };
}

/**
 * CenterNet's decoder keeps the 100 best peaks of its [1, H, W, C] heatmap (cells equal to their
 * 3x3 max pool), by TopK over the flattened cells. In fixed point every heatmap value is off by up
 * to e (the measured max error), so two cells whose TF.js values differ by at most 2e may compare
 * either way: which of two neighbours is the peak, which of two scores ranks first, which makes
 * the cut at 100 (and a peak gained or lost moves the cut by one). So: a cell kept by one side
 * only must have a same-class neighbour within 2e in TF.js's heatmap, or a TF.js value within 2e
 * of TF.js's 100th score, or sit in the last u ranks of its list (u: the cells of the first kind);
 * a cell both keep must have the same class, a score within e and a box within `boxError`. With
 * detml's scores sorted, two common cells can then swap ranks only when their TF.js scores are
 * within 2e. Returns the number of cells kept by one side only and of common cells ranked
 * differently.
 */
function expectSameDetections(t: Map<string, FloatTensor>, d: Map<string, Tensor>, e: number, boxError: number) {
  const heat = t.get("tower_0/keypoints")!;
  const [, h, w, c] = heat.shape;
  const [tCells, dCells] = [Array.from(t.get("tower_0/TopKV2:1")!.data), Array.from(d.get("tower_0/TopKV2:1")!.data)];
  const [tScores, dScores] = [t.get("tower_0/TopKV2")!.data, d.get("tower_0/TopKV2")!.toFloat()];
  const [tRows, dRows] = [t.get("tower_0/detections")!.data, d.get("tower_0/detections")!.toFloat()];
  const k = tCells.length;
  expect(dScores.every((v, i) => i === 0 || v <= dScores[i - 1])).toBe(true);
  const peakTie = (cell: number) => {
    const [y, x, cls] = [Math.floor(cell / (w * c)), Math.floor(cell / c) % w, cell % c];
    const near = [-1, 0, 1].flatMap((dy) => [-1, 0, 1].map((dx) => [y + dy, x + dx]));
    return near.some(([ny, nx]) => (ny !== y || nx !== x) && ny >= 0 && ny < h && nx >= 0 && nx < w &&
      Math.abs(heat.data[(ny * w + nx) * c + cls] - heat.data[cell]) <= 2 * e);
  };
  const oneSided = [...dCells.filter((cell) => !tCells.includes(cell)), ...tCells.filter((cell) => !dCells.includes(cell))];
  const u = oneSided.filter(peakTie).length;
  const rank = (cell: number) => Math.max(dCells.indexOf(cell), tCells.indexOf(cell));
  const unexplained = oneSided.filter((cell) => !peakTie(cell) && Math.abs(heat.data[cell] - tScores[k - 1]) > 2 * e && rank(cell) < k - u);
  expect(unexplained).toEqual([]);
  let moved = 0;
  dCells.forEach((cell, i) => {
    const j = tCells.indexOf(cell);
    if (j < 0) return;
    if (j !== i) moved++;
    expect(Math.abs(dScores[i] - tScores[j])).toBeLessThanOrEqual(e);
    for (let col = 0; col < 4; col++) expect(Math.abs(dRows[i * 6 + col] - tRows[j * 6 + col])).toBeLessThanOrEqual(boxError);
    expect(dRows[i * 6 + 5]).toBe(tRows[j * 6 + 5]);
  });
  return { oneSided: oneSided.length, moved };
}

describe("real-world TF.js graph models", () => {
  /** Model, samples, output names and the range of integer image inputs (MoveNet takes int32 pixels). */
  const cases: [string, number, string[], Record<string, IntRange>?][] = [
    ["blazeface", 1, ["Identity", "Identity_2", "Identity_3", "Identity_1"]],
    ["emotion", 1, ["Identity"]],
    ["antispoof", 2, ["Identity"]],
    ["liveness", 3, ["Identity"]],
    ["iris", 2, ["Identity"]],
    ["facemesh", 1, ["Identity_2", "Identity_1", "Identity"]],
    ["handlandmark-lite", 1, ["Identity_1", "Identity", "Identity_2", "Identity_3"]],
    ["faceres", 1, ["gender_pred/Sigmoid", "global_pooling/Mean", "age_pred/Softmax"]],
    ["movenet-lightning", 2, ["Identity"], { input: { lo: 0, hi: 255 } }],
  ];
  for (const [name, samples, outputs, intRanges] of cases) {
    it(`${name} matches TF.js, and its WASM build the reference bit for bit`, async () => {
      await tfReady();
      const path = join(REAL, `${name}.json`);
      const { graph, report } = convertTfjsFile(path);
      expect(report.format).toBe("graph-model");
      expect(graph.outputs).toEqual(outputs);
      const oracle = await tfjsOracleFile(path);
      await expectMatchesTfjs(graph, oracle, randomSamples(graph, samples, 7, { intRanges }));
      await oracle.dispose?.();
    });
  }

  it("centernet matches TF.js (detections up to near-ties of the heatmap), and its WASM build the reference bit for bit", async () => {
    await tfReady();
    const path = join(REAL, "centernet.json");
    // The decoder's TopK (scores, flat cell * 80 + class indices) as extra outputs of both models.
    const json = JSON.parse(readFileSync(path, "utf8")) as { signature: { outputs: Record<string, unknown> } };
    json.signature.outputs = { ...json.signature.outputs, scores: { name: "tower_0/TopKV2:0" }, cells: { name: "tower_0/TopKV2:1" } };
    const { graph, report } = convertTfjs(json, shardsBeside(path));
    expect(graph.outputs).toEqual(["tower_0/wh", "tower_0/keypoints", "tower_0/detections", "tower_0/TopKV2", "tower_0/TopKV2:1"]);
    expect(graph.nodes.filter((n) => n.op === "TopK").map((n) => [n.name, n.attrs.k])).toEqual([["tower_0/TopKV2", 100]]);
    expect(report.nodesOut).toBe(296);
    const tfjs = await tfjsOracle(json, shardsBeside(path));
    const [t, d] = [new Map<string, FloatTensor>(), new Map<string, Tensor>()];
    const { oracle, reference } = recording(tfjs, t, d);
    const [wh, heat] = await expectMatchesTfjs(graph, oracle, pixelSamples(graph, 1, 7), ["tower_0/wh", "tower_0/keypoints"], reference);
    await tfjs.dispose?.();
    // On this image both keep the same 100 cells, and 4 of them rank differently (rows swapped,
    // which an element-wise comparison of the detections would count as errors of up to 489).
    expect(expectSameDetections(t, d, heat.maxAbsError, TOLERANCE * wh.range)).toEqual({ oneSided: 0, moved: 4 });
  });

  it("antispoof's weights are float16-quantized", () => {
    const { report } = convertTfjsFile(join(REAL, "antispoof.json"));
    expect(report.weights.storage["float32 as float16"]).toBeGreaterThan(0);
  });

  it("handtrack (while loops, TensorLists) is rejected in one error before its weights are read", () => {
    expect(() => convertTfjsFile(join(REAL, "handtrack.json"))).toThrow(/unsupported TensorFlow ops: .*TensorListReserve \[control flow\].*Enter \[control flow\].*Control flow .* cannot be converted/);
  });
});
