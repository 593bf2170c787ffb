/**
 * The trained fixture models of fixtures/tfjs/make-models.ts (MNIST CNN, MobileNet-style,
 * functional residual + concatenate, BatchNormalization), each as a layers model and as a graph
 * model, converted from disk and checked against TF.js on 50 real test digits through the verify
 * core: max error / output range <= 2e-3 (see layers.test.ts for the rule) and the same digit
 * predicted for every sample. The weight files cover several shards and uint8/uint16/float16
 * quantization, which TF.js decodes on its side.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { convertTfjsFile, tfjsOracleFile } from "../../../converter/tfjs/index.js";
import { samplesFromArrays } from "../../../lib/verify/inputs.js";
import { verifyGraph } from "../../../verify/verify.js";
import { readNpy } from "../../../lib/tensor/npy.js";
import { tfReady, worstRel } from "./helpers.js";

const ROOT = join(import.meta.dirname, "..", "..", "..", "fixtures", "tfjs");
const DIGITS = join(ROOT, "data", "mnist_test_100.npy");
const TOLERANCE = 2e-3;
const COUNT = 50;

/** Expected conversion facts per model and form: fused BatchNorms and physical transposes. */
const MODELS: Record<string, { layers: { fused: number; transposes: number }; graph: { fused: number; transposes: number } }> = {
  mnist_cnn: { layers: { fused: 0, transposes: 2 }, graph: { fused: 0, transposes: 2 } },
  mobilenet: { layers: { fused: 4, transposes: 1 }, graph: { fused: 0, transposes: 1 } },
  residual: { layers: { fused: 0, transposes: 1 }, graph: { fused: 0, transposes: 1 } },
  batchnorm: { layers: { fused: 2, transposes: 2 }, graph: { fused: 1, transposes: 2 } },
};

describe("TF.js fixture models (trained on MNIST)", () => {
  const npy = readNpy(readFileSync(DIGITS), DIGITS);
  const digits = { path: DIGITS, npy: { ...npy, shape: [COUNT, 28, 28, 1], data: (npy.data as Float32Array).slice(0, COUNT * 784) } };
  for (const [name, expected] of Object.entries(MODELS)) {
    for (const form of ["layers", "graph"] as const) {
      it(`${name} ${form} model matches TF.js on ${COUNT} digits`, async () => {
        await tfReady();
        const path = join(ROOT, "models", name, form, "model.json");
        const { graph, report } = convertTfjsFile(path);
        expect(report.format).toBe(`${form}-model`);
        expect(report.unusedWeights).toEqual([]);
        expect(report.batchNormsFused).toBe(expected[form].fused);
        expect(graph.nodes.filter((n) => n.op === "Transpose")).toHaveLength(expected[form].transposes);
        const oracle = await tfjsOracleFile(path);
        const samples = samplesFromArrays(graph, new Map([[graph.inputs[0].name, digits]]));
        const result = await verifyGraph(graph, oracle, samples);
        await oracle.dispose?.();
        const [out] = result.engines[0].outputs;
        expect(worstRel([out]), JSON.stringify(out)).toBeLessThanOrEqual(TOLERANCE);
        expect(out.argmax).toEqual({ agree: COUNT, total: COUNT, percent: 100, per: "row" });
      });
    }
  }
});
