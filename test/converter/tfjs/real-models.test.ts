/**
 * Real-world TF.js graph models published by others (the npm package @vladmandic/human 3.3.6,
 * fetched into .cache by scripts/fetch-tfjs-real-models.sh): converted from disk and compared with
 * TF.js on seeded random inputs through the verify core, on the reference executor and on the
 * compiled WASM module, which must be bit-identical to it. Tolerance per output: max error /
 * output range <= 2e-3 as in the op tests (these deeper nets measure 1e-7..8e-4), or, for an
 * output whose values are within a few units of Q16's resolution (a one-element output of about
 * 5e-5, whose "range" is its own magnitude), a max absolute error of at most 4 units (6.1e-5).
 * CenterNet takes float pixels in 0..255 and ranks 100 detections out of 1.3M heatmap cells with
 * TopK: its heatmap and box sizes meet the tolerance, its detections are checked as a ranked list
 * that may differ only at near-ties of the fixed-point heatmap (expectSameDetections).
 * A detector with while loops is rejected as control flow. The three heaviest (faceres, CenterNet,
 * MoveNet) run in the long suite (test/long/tfjs-real-heavy.long.ts).
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { convertTfjsFile, tfjsOracleFile } from "../../../converter/tfjs/index.js";
import { randomSamples, type IntRange } from "../../../lib/verify/inputs.js";
import { tfReady } from "./helpers.js";
import { expectMatchesTfjs, REAL } from "./real-checks.js";

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

  it("antispoof's weights are float16-quantized", () => {
    const { report } = convertTfjsFile(join(REAL, "antispoof.json"));
    expect(report.weights.storage["float32 as float16"]).toBeGreaterThan(0);
  });

  it("handtrack (while loops, TensorLists) is rejected in one error before its weights are read", () => {
    expect(() => convertTfjsFile(join(REAL, "handtrack.json"))).toThrow(/unsupported TensorFlow ops: .*TensorListReserve \[control flow\].*Enter \[control flow\].*Control flow .* cannot be converted/);
  });
});
