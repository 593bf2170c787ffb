/**
 * Reading a TF.js model.json: which of the two formats it is (a graph model, whose topology is a
 * TensorFlow GraphDef, or a layers model, whose topology is a Keras model config), and the
 * weights manifest. `isTfjsModelJson` lets `detml convert`/`verify` pick the front end by content,
 * not by file name. Files written by tensorflowjs_converter and by TF.js's own `model.save` are
 * both accepted, including the older layers layout that nests the Keras config in `model_config`.
 */
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { checkManifest, type WeightGroup } from "./weights.js";

export type TfjsFormat = "graph-model" | "layers-model";

export interface TfjsModelJson {
  format: TfjsFormat;
  /** GraphDef ({node, library, versions}) or Keras model config ({class_name, config}). */
  topology: Record<string, unknown>;
  weights: WeightGroup[];
  /** Who made it, from generatedBy/convertedBy, for metadata. */
  producer: string;
  /** The graph model's signature (inputs/outputs with their TF names), when present. */
  signature?: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The format of a parsed model.json, or undefined when it is not a TF.js model. */
function formatOf(json: unknown): TfjsFormat | undefined {
  if (!isObject(json) || !isObject(json.modelTopology)) return undefined;
  if (json.format === "graph-model" || json.format === "layers-model") return json.format;
  const topology = json.modelTopology;
  if (Array.isArray(topology.node)) return "graph-model";
  if (typeof topology.class_name === "string" || isObject(topology.model_config)) return "layers-model";
  return undefined;
}

/**
 * Whether a file is a TF.js model.json (JSON with a modelTopology of either format); never throws.
 * Only a file that starts like a JSON object is read whole: reading a 470 MB ONNX file as UTF-8
 * just to see that it is not JSON took 8 s.
 */
export function isTfjsModelJson(path: string): boolean {
  try {
    const head = Buffer.alloc(256);
    const fd = openSync(path, "r");
    let n: number;
    try {
      n = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
    const start = head.subarray(0, n).toString("latin1").trimStart();
    const allWhitespace = start === "" && n === head.length;
    if (!allWhitespace && !start.startsWith("{")) return false;
    return formatOf(JSON.parse(readFileSync(path, "utf8"))) !== undefined;
  } catch {
    return false;
  }
}

/** Parse and check a model.json (text or already parsed); `source` names it in errors. */
export function parseModelJson(json: string | unknown, source: string): TfjsModelJson {
  let parsed: unknown = json;
  if (typeof json === "string") {
    try {
      parsed = JSON.parse(json);
    } catch (e) {
      throw new Error(`${source}: not valid JSON: ${(e as Error).message}`);
    }
  }
  if (!isObject(parsed)) throw new Error(`${source}: a TF.js model.json must be a JSON object`);
  if (parsed.modelTopology === undefined || parsed.modelTopology === null) {
    throw new Error(`${source}: no modelTopology: this is not a TF.js model.json (a weights-only manifest needs the model's code to be used)`);
  }
  const format = formatOf(parsed);
  if (!format) {
    const declared = typeof parsed.format === "string" ? ` (format '${parsed.format}')` : "";
    throw new Error(`${source}: unknown TF.js model format${declared}: expected a graph-model (GraphDef with a node list) or a layers-model (Keras config)`);
  }
  let topology = parsed.modelTopology as Record<string, unknown>;
  if (format === "layers-model" && isObject(topology.model_config)) topology = topology.model_config;
  if (format === "graph-model" && !Array.isArray(topology.node)) throw new Error(`${source}: graph-model topology has no node list`);
  if (format === "layers-model" && typeof topology.class_name !== "string") throw new Error(`${source}: layers-model topology has no class_name`);
  const producer = [parsed.generatedBy, parsed.convertedBy].filter((v) => typeof v === "string" && v).join(", ");
  return {
    format,
    topology,
    weights: checkManifest(parsed.weightsManifest, source),
    producer,
    signature: isObject(parsed.signature) ? parsed.signature : undefined,
  };
}
