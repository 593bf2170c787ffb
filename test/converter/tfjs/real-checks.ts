/**
 * The checks of the real-world TF.js model tests (real-models.test.ts in npm test, the heavier
 * models in test/long/tfjs-real-heavy.long.ts): TF.js against the reference and the WASM build
 * within a tolerance, seeded pixel images, and CenterNet's ranked detections up to near-ties.
 */
import { expect } from "vitest";
import type { Graph } from "../../../lib/graph/ir.js";
import { sizeOf } from "../../../lib/tensor/shape.js";
import { Tensor } from "../../../lib/tensor/tensor.js";
import type { FloatTensor } from "../../../lib/verify/compare.js";
import { type Engine, referenceEngine, wasmEngine } from "../../../verify/engines.js";
import { SeededRandom, type Sample } from "../../../lib/verify/inputs.js";
import type { FloatOracle } from "../../../lib/verify/oracle.js";
import { verifyGraph } from "../../../verify/verify.js";
import { realModelsDir } from "./helpers.js";

export const REAL = realModelsDir();
export const TOLERANCE = 2e-3;
export const ABS_TOLERANCE = 4 / 2 ** 16;

/**
 * Run TF.js, the reference and the WASM build on `samples`; expect the outputs named `checked`
 * within the tolerance and unsaturated, and every output of the WASM build bit-identical.
 */
export async function expectMatchesTfjs(graph: Graph, oracle: FloatOracle, samples: Sample[], checked = graph.outputs, reference = referenceEngine) {
  const result = await verifyGraph(graph, oracle, samples, { engines: [reference, wasmEngine] });
  const measured = result.engines[0].outputs.filter((o) => checked.includes(o.name));
  const outside = measured.filter((o) => o.maxRelError > TOLERANCE && o.maxAbsError > ABS_TOLERANCE);
  expect(outside.map((o) => [o.name, o.maxRelError, o.maxAbsError])).toEqual([]);
  expect(measured.every((o) => o.saturated === 0)).toBe(true);
  expect(result.engines[1].identicalTo).toEqual({ engine: "ref", identical: true });
  return measured;
}

/** `count` seeded images of uniform integer pixel values 0..255 for a float image input. */
export function pixelSamples(graph: Graph, count: number, seed: number): Sample[] {
  const rng = new SeededRandom(seed);
  const [info] = graph.inputs;
  return Array.from({ length: count }, () => {
    const data = Float64Array.from({ length: sizeOf(info.shape) }, () => rng.int(0, 255));
    const fixed = Tensor.fromFloat(data, info.shape, info.frac);
    return { float: new Map([[info.name, { shape: [...info.shape], data }]]), fixed: new Map([[info.name, fixed]]) };
  });
}

/** `oracle` and the reference engine, also keeping the raw outputs of the last sample in `t` and `d`. */
export function recording(oracle: FloatOracle, t: Map<string, FloatTensor>, d: Map<string, Tensor>): { oracle: FloatOracle; reference: Engine } {
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
export function expectSameDetections(t: Map<string, FloatTensor>, d: Map<string, Tensor>, e: number, boxError: number) {
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

