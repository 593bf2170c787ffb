/**
 * Hostile models for the converter's safety tests, built in the test (no committed binaries):
 * ONNX graphs of a few hundred bytes whose constant folding would create huge tensors (Range,
 * ConstantOfShape, Expand, Tile), ONNX initializers stored as external data at any location, and
 * a TF.js graph model (x * k) whose weight shard paths are whatever the test says. Shared by the
 * library tests and the CLI tests.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GraphDefWriter } from "../../../fixtures/tfjs/tfjs-files.js";
import { buildModel, DT, tensor, type NodeSpec } from "../onnx/onnx-builder.js";

/** A model whose only node `node` reads int64 initializers and gives the graph output y. */
export function foldModel(node: NodeSpec, initializers: Record<string, number[] | number>, float?: Record<string, number[]>): Uint8Array {
  return buildModel({
    nodes: [node],
    inputs: [],
    outputs: [{ name: node.outputs[0], type: DT.INT64 }],
    initializers: [
      ...Object.entries(initializers).map(([name, v]) => (Array.isArray(v) ? tensor(name, [v.length], v, DT.INT64) : tensor(name, [], [v], DT.INT64))),
      ...Object.entries(float ?? {}).map(([name, v]) => tensor(name, [v.length], v)),
    ],
  });
}

/** Range(0, limit, 1) named range_1: folds to `limit` int64 values. */
export const rangeModel = (limit: number): Uint8Array =>
  foldModel({ op: "Range", name: "range_1", inputs: ["start", "limit", "delta"], outputs: ["y"] }, { start: 0, limit, delta: 1 });

/** y = x * w with w [dims] float32 stored as external data (`entries`: location, offset, length). */
export function externalModel(entries: Record<string, string>, dims = [2]): Uint8Array {
  return buildModel({
    nodes: [{ op: "Mul", inputs: ["x", "w"], outputs: ["y"] }],
    inputs: [{ name: "x", shape: dims }],
    outputs: [{ name: "y" }],
    initializers: [{ name: "w", dims, dataType: DT.FLOAT, dataLocation: 1, externalData: Object.entries(entries).map(([key, value]) => ({ key, value })) }],
  });
}

export const floatBytes = (values: number[]): Uint8Array => new Uint8Array(new Float32Array(values).buffer);

/** A TF.js graph model y = x * k (k: float32 [2], 8 bytes) as a model.json object, shard paths given. */
export function tfjsModel(paths: string[]): { json: Record<string, unknown>; shard: Uint8Array } {
  const w = new GraphDefWriter();
  const x = w.placeholder("x", [2]);
  const k = w.constant("k", [0.5, -2], [2]);
  const { json, shards } = w.toModel(["x"], [w.node("Mul", "mul", [x, k])]);
  (json.weightsManifest as { paths: string[] }[])[0].paths = paths;
  return { json, shard: [...shards.values()][0] };
}

/**
 * A temporary tree: `<root>/model` (the model's folder) and `<root>/outside/secret.bin`, a file
 * a model must not reach, plus `<root>/model-evil/secret.bin`, whose path has the model folder's
 * path as a string prefix.
 */
export function hostileTree(): { root: string; model: string; secret: string; evil: string } {
  const root = mkdtempSync(join(tmpdir(), "detml-hostile-"));
  const model = join(root, "model");
  mkdirSync(model);
  mkdirSync(join(root, "outside"));
  mkdirSync(join(root, "model-evil"));
  const secret = join(root, "outside", "secret.bin");
  const evil = join(root, "model-evil", "secret.bin");
  writeFileSync(secret, floatBytes([1234, 5678]));
  writeFileSync(evil, floatBytes([1234, 5678]));
  return { root, model, secret, evil };
}
