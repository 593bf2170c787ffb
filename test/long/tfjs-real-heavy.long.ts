/**
 * The heaviest real-world TF.js graph models of test/converter/tfjs/real-models.test.ts (published
 * by others, fetched into .cache by scripts/fetch-tfjs-real-models.sh): faceres (age, gender),
 * CenterNet (100 detections ranked out of 1.3M heatmap cells) and MoveNet Lightning (its decoder:
 * ArgMax, FloorDiv, GatherNd on the heatmaps, on int32 pixels in 0..255), each against TF.js and
 * with its WASM build bit-identical to the reference. Long: about 45 s on 2 cores.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { convertTfjs, convertTfjsFile, shardsBeside, tfjsOracle, tfjsOracleFile } from "../../converter/tfjs/index.js";
import type { Tensor } from "../../lib/tensor/tensor.js";
import type { FloatTensor } from "../../lib/verify/compare.js";
import { randomSamples } from "../../lib/verify/inputs.js";
import { tfReady } from "../converter/tfjs/helpers.js";
import { expectMatchesTfjs, expectSameDetections, pixelSamples, REAL, recording, TOLERANCE } from "../converter/tfjs/real-checks.js";

describe("real-world TF.js graph models, the heavy ones", () => {
  it("faceres matches TF.js, and its WASM build the reference bit for bit", async () => {
    await tfReady();
    const path = join(REAL, "faceres.json");
    const { graph } = convertTfjsFile(path);
    expect(graph.outputs).toEqual(["gender_pred/Sigmoid", "global_pooling/Mean", "age_pred/Softmax"]);
    const oracle = await tfjsOracleFile(path);
    await expectMatchesTfjs(graph, oracle, randomSamples(graph, 1, 7));
    await oracle.dispose?.();
  });

  it("movenet-lightning matches TF.js, and its WASM build the reference bit for bit", async () => {
    await tfReady();
    const path = join(REAL, "movenet-lightning.json");
    const { graph } = convertTfjsFile(path);
    expect(graph.outputs).toEqual(["Identity"]);
    const oracle = await tfjsOracleFile(path);
    await expectMatchesTfjs(graph, oracle, randomSamples(graph, 2, 7, { intRanges: { input: { lo: 0, hi: 255 } } }));
    await oracle.dispose?.();
  });

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

});
