/**
 * The TensorFlow.js front end of detml: `convertTfjs(modelJson, loadShard, options)` turns a TF.js
 * graph model or layers model (model.json plus weight shards) into a validated detml Graph and a
 * report; `convertTfjsFile(path)` reads model.json and its shards beside it; `isTfjsModelJson`
 * tells `detml convert`/`verify` which front end a file needs. See docs/tfjs.md.
 */
import { dirname } from "node:path";
import { readModelFile } from "../common/model-files.js";
import { readFileOrFail } from "../../lib/model-files.js";
import type { FloatOracle } from "../../lib/verify/oracle.js";
import { convertTfjs, type ConvertTfjsOptions } from "./convert.js";
import { tfjsOracle } from "./oracle.js";
import type { ShardLoader } from "./weights.js";

export { convertTfjs, type ConvertTfjsOptions, type ConvertTfjsReport } from "./convert.js";
export { isTfjsModelJson, parseModelJson, type TfjsFormat } from "./model-json.js";
export { TF_OPS, isSupportedTfOp } from "./graph-ops.js";
export { LAYERS, isSupportedLayer } from "./layers.js";
export type { ShardLoader, ShardRequest } from "./weights.js";
export { tfjsOracle } from "./oracle.js";

/**
 * Reads weight shards from the directory of a model.json, confined to it and sized before
 * reading (readModelFile).
 */
export function shardsBeside(modelPath: string): ShardLoader {
  const dir = dirname(modelPath);
  return (path, request) => readModelFile(dir, path, { maxBytes: request.maxBytes }, request.where);
}

export function convertTfjsFile(path: string, options: Omit<ConvertTfjsOptions, "source"> = {}): ReturnType<typeof convertTfjs> & { bytes: number } {
  const bytes = readFileOrFail(path, "TF.js model.json");
  const text = new TextDecoder().decode(bytes);
  return { ...convertTfjs(text, shardsBeside(path), { ...options, source: path }), bytes: bytes.byteLength };
}

/** The TF.js float oracle for a model.json on disk (see oracle.ts). */
export async function tfjsOracleFile(path: string): Promise<FloatOracle> {
  const text = new TextDecoder().decode(readFileOrFail(path, "TF.js model.json"));
  return tfjsOracle(text, shardsBeside(path), path);
}
