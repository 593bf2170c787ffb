/**
 * TF.js -> detml. The steps, in order:
 *  1. parse model.json and tell a graph model from a layers model;
 *  2. list every unsupported op or layer in ONE error, before reading any weight;
 *  3. read and decode the weight shards (TF.js rules: float32/int32/bool, uint8/uint16/float16
 *     quantization), failing on a missing or short shard;
 *  4. walk the GraphDef nodes or the Keras layers into a draft graph (converter/common), tracking
 *     NHWC/NCHW layouts (layout.ts) so that convolutions run channels-first with few transposes;
 *  5. name the outputs as TF.js does, fuse BatchNormalization into the Conv/Gemm before it, drop
 *     dead nodes and emit the quantized detml Graph (converter/common).
 */
import { basename } from "node:path";
import type { Graph, ValueInfo } from "../../lib/graph/ir.js";
import { DEFAULT_FRAC } from "../../lib/tensor/fixed.js";
import { DraftBuilder, type DraftGraph } from "../common/draft.js";
import { emitGraph } from "../common/emit.js";
import { fuseBatchNorm, prune } from "../common/passes.js";
import type { NodeJson } from "./graph-context.js";
import { checkGraphOps, readGraphModel } from "./graph-model.js";
import { WeightTable } from "./layer-context.js";
import { layerClasses, LayersModelReader, outputNames } from "./layers-model.js";
import { TfBuilder, type TfValue } from "./layout.js";
import { parseModelJson, type TfjsFormat } from "./model-json.js";
import { readWeights, type ShardLoader } from "./weights.js";

export interface ConvertTfjsOptions {
  /** Static shapes for inputs by name (required for unknown non-batch dimensions). */
  shapes?: Record<string, number[]>;
  /** Fractional bits of activations (default 16). */
  frac?: number;
  /** Name of the source for messages and metadata (e.g. the model.json path). */
  source?: string;
  /**
   * Largest tensor, in bytes of the emitted constant (4 per element), that constant folding or a
   * composition may create. Default: the larger of 64 MiB and the model's largest weight.
   */
  maxFoldedBytes?: number;
  /** Called after each source node or layer call: (done, total). */
  onProgress?: (done: number, total: number) => void;
}

export interface ConvertTfjsReport {
  source: string;
  format: TfjsFormat;
  /** generatedBy / convertedBy of the model.json. */
  producer: string;
  /** GraphDef nodes, or layer calls of a layers model. */
  nodesIn: number;
  /** detml nodes written. */
  nodesOut: number;
  /** Source ops computed at conversion time (constant subgraphs, shape arithmetic, weight layouts). */
  folded: number;
  batchNormsFused: number;
  /** Values in the graph's constants. */
  params: number;
  /** Weights in the manifest and how they were stored (e.g. {float32: 10, uint8: 4}). */
  weights: { count: number; storage: Record<string, number> };
  /** Layers model weights no layer read (normally none). */
  unusedWeights: string[];
  inputs: ValueInfo[];
  outputs: string[];
  opCounts: Record<string, number>;
}

const LAYERS_NOTE = "(recurrent layers, attention and 3-D convolutions are not supported)";

function checkLayers(topology: Record<string, unknown>): void {
  const missing = layerClasses(topology);
  if (missing.size === 0) return;
  const list = [...missing].map(([cls, names]) => `${cls} (layer${names.length > 1 ? "s" : ""} ${names.map((n) => `'${n}'`).join(", ")})`);
  throw new Error(`unsupported Keras layers: ${list.join(", ")} ${LAYERS_NOTE}`);
}

/** Give each output value its TF.js name: rename the producing node's output, or add an Identity. */
function nameOutputs(db: DraftBuilder, b: TfBuilder, outputs: { name: string; value: TfValue }[]): [string, string][] {
  const renames: [string, string][] = [];
  const inputs = new Set(db.finish().inputs.map((v) => v.name));
  for (const { name, value } of outputs) {
    const draft = b.tf(value);
    const constant = db.constOf(draft);
    if (draft === name) {
      db.output(name);
      continue;
    }
    if (constant) db.constant(name, constant);
    else if (inputs.has(draft) || renames.some(([from]) => from === draft)) db.op("Identity", [draft], {}, { name: `${name}/identity`, outputs: [name] });
    else renames.push([draft, name]);
    db.output(name);
  }
  return renames;
}

function renameValues(draft: DraftGraph, renames: [string, string][]): void {
  const to = new Map(renames);
  for (const n of draft.nodes) {
    n.inputs = n.inputs.map((v) => to.get(v) ?? v);
    n.outputs = n.outputs.map((v) => to.get(v) ?? v);
  }
}

/**
 * Convert a TF.js model: `modelJson` is the model.json text or object, `loadShard` reads a weight
 * shard by its manifest path (relative to model.json).
 */
export function convertTfjs(modelJson: string | object, loadShard: ShardLoader, options: ConvertTfjsOptions = {}): { graph: Graph; report: ConvertTfjsReport } {
  const source = options.source ?? "model.json";
  const model = parseModelJson(modelJson, source);
  if (model.format === "layers-model") checkLayers(model.topology);
  else checkGraphOps(model.topology.node as NodeJson[]);
  const weights = readWeights(model.weights, loadShard, source);

  const db = new DraftBuilder({
    frac: options.frac ?? DEFAULT_FRAC,
    metadata: { producer: "detml convert", source: basename(source), source_format: `tfjs-${model.format}`, ...(model.producer ? { tfjs_producer: model.producer } : {}) },
    maxFoldedBytes: options.maxFoldedBytes,
  });
  for (const w of weights.values()) if ("value" in w) db.guard.admitSource(w.value.data.length);
  const shapes = options.shapes ?? {};
  if (Object.keys(shapes).length) db.meta("shapes", JSON.stringify(shapes));
  const b = new TfBuilder(db);
  let walk: { inputs: { name: string }[]; outputs: { name: string; value: TfValue }[]; nodesIn: number };
  let unusedWeights: string[] = [];
  if (model.format === "graph-model") {
    walk = readGraphModel(b, db, model.topology, weights, { shapes, signature: model.signature, onProgress: options.onProgress });
  } else {
    db.reserve(outputNames(model.topology));
    const table = new WeightTable(weights, b);
    const layers = new LayersModelReader(b, db, table, shapes).read(model.topology);
    for (const name of Object.keys(shapes)) {
      if (!layers.inputs.some((v) => v.name === name)) throw new Error(`--shape ${name}: the model has no input '${name}' (inputs: ${layers.inputs.map((v) => v.name).join(", ")})`);
    }
    walk = { ...layers, nodesIn: layers.layerCalls };
    unusedWeights = table.unused();
  }

  const renames = nameOutputs(db, b, walk.outputs);
  const draft = db.finish();
  renameValues(draft, renames);
  const batchNormsFused = fuseBatchNorm(draft, (base) => db.fresh(base));
  prune(draft);
  const graph = emitGraph(draft);

  const opCounts: Record<string, number> = {};
  for (const n of graph.nodes) opCounts[n.op] = (opCounts[n.op] ?? 0) + 1;
  const storage: Record<string, number> = {};
  for (const w of model.weights.flatMap((g) => g.weights)) {
    const kind = w.quantization ? `${w.dtype} as ${w.quantization.dtype}` : w.dtype;
    storage[kind] = (storage[kind] ?? 0) + 1;
  }
  const report: ConvertTfjsReport = {
    source,
    format: model.format,
    producer: model.producer,
    nodesIn: walk.nodesIn,
    nodesOut: graph.nodes.length,
    folded: db.folds,
    batchNormsFused,
    params: [...graph.constants.values()].reduce((s, t) => s + t.size, 0),
    weights: { count: weights.size, storage },
    unusedWeights,
    inputs: graph.inputs.map((v) => ({ ...v, shape: [...v.shape] })),
    outputs: [...graph.outputs],
    opCounts,
  };
  return { graph, report };
}
