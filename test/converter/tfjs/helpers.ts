import { execFileSync } from "node:child_process";
import { join } from "node:path";
/**
 * Test helpers for the TF.js front end: models held in memory (model.json object + shards),
 * layers models built with @tensorflow/tfjs and given seeded weights, and `checkAgainstTfjs`,
 * which converts a model, runs it in detml's reference executor and in TF.js (the oracle of
 * `detml verify`) on the same seeded samples, and returns verify's per-output comparison.
 */
import * as tf from "@tensorflow/tfjs";
import { convertTfjs, type ConvertTfjsOptions } from "../../../converter/tfjs/convert.js";
import { tfjsOracle } from "../../../converter/tfjs/oracle.js";
import { encodeWeights, type NamedWeight, type Quantization } from "../../../fixtures/tfjs/tfjs-files.js";
import type { Graph } from "../../../lib/graph/ir.js";
import { randomSamples, type Sample } from "../../../lib/verify/inputs.js";
import { verifyGraph } from "../../../verify/verify.js";
import type { OutputComparison } from "../../../lib/verify/compare.js";
import { Rng } from "../../helpers/random.js";

export interface MemoryModel {
  json: Record<string, unknown>;
  shards: Map<string, Uint8Array>;
}

export function loader(model: MemoryModel): (path: string) => Uint8Array {
  return (path) => {
    const bytes = model.shards.get(path);
    if (!bytes) throw new Error(`no such file: ${path}`);
    return bytes;
  };
}

let ready: Promise<void> | undefined;
export function tfReady(): Promise<void> {
  ready ??= (async () => {
    tf.env().set("PROD", true);
    await tf.setBackend("cpu");
  })();
  return ready;
}

/** Give every weight seeded values in [-scale, scale] (variances in [0.5, 1.5]), so tests do not depend on Math.random. */
export function seedWeights(model: tf.LayersModel, seed: number, scale = 0.5): void {
  const rng = new Rng(seed);
  model.setWeights(model.weights.map((w) => {
    const shape = w.shape as number[];
    const size = shape.reduce((a, b) => a * b, 1);
    const positive = /variance/.test(w.name);
    const values = Float32Array.from({ length: size }, () => (positive ? rng.uniform(0.5, 1.5) : rng.uniform(-scale, scale)));
    return tf.tensor(values, shape);
  }));
}

/** A layers model as model.save writes it, optionally quantized/sharded. */
export async function layersModelFiles(model: tf.LayersModel, options: { quantize?: Quantization; shardBytes?: number } = {}): Promise<MemoryModel> {
  let out: MemoryModel | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    const parts = Array.isArray(a.weightData) ? a.weightData : [a.weightData!];
    const bytes = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
    let at = 0;
    for (const p of parts) {
      bytes.set(new Uint8Array(p), at);
      at += p.byteLength;
    }
    let offset = 0;
    const weights: NamedWeight[] = a.weightSpecs!.map((spec) => {
      const size = spec.shape.reduce((x, y) => x * y, 1);
      const data = spec.dtype === "int32" ? new Int32Array(bytes.buffer.slice(offset, offset + 4 * size)) : new Float32Array(bytes.buffer.slice(offset, offset + 4 * size));
      offset += 4 * size;
      return { name: spec.name, shape: spec.shape, data };
    });
    const files = encodeWeights(weights, options);
    out = { json: { format: "layers-model", generatedBy: "test", convertedBy: null, modelTopology: a.modelTopology, weightsManifest: files.manifest }, shards: files.shards };
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  }));
  return out!;
}

export interface Checked {
  graph: Graph;
  outputs: OutputComparison[];
  report: ReturnType<typeof convertTfjs>["report"];
}

/** Convert, then compare detml's reference executor with TF.js on `samples` (default: 2 seeded random ones). */
export async function checkAgainstTfjs(model: MemoryModel, options: ConvertTfjsOptions & { samples?: Sample[]; count?: number; seed?: number; intRanges?: Record<string, { lo: number; hi: number }> } = {}): Promise<Checked> {
  await tfReady();
  const { graph, report } = convertTfjs(model.json, loader(model), options);
  const oracle = await tfjsOracle(model.json, loader(model));
  try {
    const samples = options.samples ?? randomSamples(graph, options.count ?? 2, options.seed ?? 1, { intRanges: options.intRanges });
    const result = await verifyGraph(graph, oracle, samples);
    return { graph, outputs: result.engines[0].outputs, report };
  } finally {
    await oracle.dispose?.();
  }
}

/** Largest relative error (error / output range) over all outputs. */
export function worstRel(outputs: OutputComparison[]): number {
  return Math.max(...outputs.map((o) => o.maxRelError));
}

/**
 * The folder of real-world TF.js graph models (from the npm package @vladmandic/human), fetched
 * into .cache by scripts/fetch-tfjs-real-models.sh on first use: published models are not
 * committed to this repository.
 */
export function realModelsDir(): string {
  const root = join(import.meta.dirname, "..", "..", "..");
  execFileSync("bash", [join(root, "scripts", "fetch-tfjs-real-models.sh")], { stdio: "inherit" });
  return join(root, ".cache", "tfjs-real", "models");
}
