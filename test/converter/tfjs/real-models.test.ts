/**
 * Real-world TF.js graph models published by others (the npm package @vladmandic/human 3.3.6,
 * fetched into .cache by scripts/fetch-tfjs-real-models.sh): converted from disk and compared with TF.js on seeded random inputs
 * through the verify core; tolerance max error / output range <= 2e-3 as in the op tests (these
 * deeper nets measure 1e-5..6e-4). A detector with while loops is rejected as control flow.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { convertTfjsFile, tfjsOracleFile } from "../../../converter/tfjs/index.js";
import { randomSamples } from "../../../lib/verify/inputs.js";
import { verifyGraph } from "../../../lib/verify/verify.js";
import { realModelsDir, tfReady, worstRel } from "./helpers.js";

const REAL = realModelsDir();
const TOLERANCE = 2e-3;

describe("real-world TF.js graph models", () => {
  const cases: [string, number, string[]][] = [
    ["blazeface", 1, ["Identity", "Identity_2", "Identity_3", "Identity_1"]],
    ["emotion", 1, ["Identity"]],
    ["antispoof", 2, ["Identity"]],
    ["liveness", 3, ["Identity"]],
  ];
  for (const [name, samples, outputs] of cases) {
    it(`${name} matches TF.js`, async () => {
      await tfReady();
      const path = join(REAL, `${name}.json`);
      const { graph, report } = convertTfjsFile(path);
      expect(report.format).toBe("graph-model");
      expect(graph.outputs).toEqual(outputs);
      const oracle = await tfjsOracleFile(path);
      const result = await verifyGraph(graph, oracle, randomSamples(graph, samples, 7));
      await oracle.dispose?.();
      const measured = result.engines[0].outputs;
      expect(worstRel(measured), JSON.stringify(measured.map((o) => [o.name, o.maxRelError]))).toBeLessThanOrEqual(TOLERANCE);
      expect(measured.every((o) => o.saturated === 0)).toBe(true);
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
