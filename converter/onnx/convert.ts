/**
 * ONNX -> detml. The steps, in order:
 *  1. decode the protobuf and read the default-domain opset;
 *  2. list every node whose op has no handler (or is from another domain) in ONE error;
 *  3. fix the input shapes (--shape, batch-like symbolic dims default to 1, any other symbolic
 *     dim is an error that says which --shape to pass);
 *  4. walk the nodes in order through their handlers (converter/onnx/ops.ts) into a draft graph,
 *     where ops with only constant inputs fold away and Identity/Dropout become aliases;
 *  5. fuse BatchNormalization into the Conv/ConvTranspose/Gemm before it, drop dead nodes, and
 *     emit the quantized detml Graph (converter/common).
 */
import { basename } from "node:path";
import type { Graph, ValueInfo } from "../../lib/graph/ir.js";
import { DEFAULT_FRAC } from "../../lib/tensor/fixed.js";
import { DraftBuilder, type DraftGraph } from "../common/draft.js";
import { emitGraph } from "../common/emit.js";
import { narrowWeights } from "../common/narrow-weights.js";
import { fuseBatchNorm, prune } from "../common/passes.js";
import type { NarrowBits } from "../../lib/tensor/narrow.js";
import { NodeCtx } from "./context.js";
import { ONNX_OPS, isSupported } from "./ops.js";
import { dataTypeName, defaultOpset, ExternalData, num, readModel, tensorValue, valueClassOf, type ModelProto, type NodeProto, type ValueInfoProto } from "./proto.js";

export interface ConvertOptions {
  /** Static shapes for inputs by name (required for non-batch symbolic dimensions). */
  shapes?: Record<string, number[]>;
  /** Fractional bits of activations (default 16). */
  frac?: number;
  /** Directory that external tensor data paths are relative to (the model's directory). */
  baseDir?: string;
  /** Name of the source for messages and metadata (e.g. the file path). */
  source?: string;
  /**
   * Largest tensor, in bytes of the emitted constant (4 per element), that constant folding or a
   * composition may create. Default: the larger of 64 MiB and the model's largest initializer.
   */
  maxFoldedBytes?: number;
  /** Called after each source node: (nodes done, node count). */
  onProgress?: (done: number, total: number) => void;
  /** Extra .detml metadata (e.g. how the frac was calibrated). */
  metadata?: Record<string, string>;
  /** Store the weights at 8 or 16 bits with per-channel shifts (converter/common/narrow-weights.ts). */
  weightBits?: NarrowBits;
}

export interface ConvertReport {
  source: string;
  opset: number;
  producer: string;
  /** ONNX nodes read. */
  nodesIn: number;
  /** detml nodes written. */
  nodesOut: number;
  /** ONNX nodes computed at conversion time (Constant, shape arithmetic, constant subgraphs). */
  folded: number;
  /** Identity, Dropout and value-preserving Cast nodes dropped. */
  removed: number;
  batchNormsFused: number;
  /** Values in the graph's constants. */
  params: number;
  inputs: ValueInfo[];
  outputs: string[];
  opCounts: Record<string, number>;
}

/** Dimension names that mean "batch": these default to 1 when no --shape is given. */
const BATCH_DIM = /^(n|batch|batch_?size|unk__\d+)$/i;

function nodeName(node: NodeProto, index: number): string {
  return node.name || `${node.opType}_${index}`;
}

/**
 * The element type of every value whose type the model states (initializers, graph inputs and
 * outputs, value_info, Constant outputs): quantized ops need to tell uint8 from int8.
 */
function statedElemTypes(g: NonNullable<ModelProto["graph"]>): Map<string, number> {
  const types = new Map<string, number>();
  for (const t of g.initializer ?? []) types.set(t.name ?? "", t.dataType ?? 0);
  for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])]) {
    const elem = v.type?.tensorType?.elemType;
    if (elem) types.set(v.name ?? "", elem);
  }
  for (const node of g.node ?? []) {
    const value = node.opType === "Constant" ? node.attribute?.find((a) => a.name === "value")?.t : undefined;
    if (value && node.output?.[0]) types.set(node.output[0], value.dataType ?? 0);
  }
  return types;
}

/**
 * Why an op cannot be represented at all (detml graphs hold fixed-shape integer tensors and
 * compute deterministically); the error names the reason beside the op.
 */
function refusal(op: string): string | undefined {
  if (/^(Sequence|SplitToSequence|ConcatFromSequence|Optional)/.test(op)) return "sequences and optionals are not tensors";
  if (/^(String|TfIdf|RegexFull|LabelEncoder)/.test(op)) return "strings are not numbers";
  if (/^(Random|Bernoulli|Multinomial|Dropout.*training)/.test(op)) return "a random generator is not deterministic";
  if (/^ai\.onnx\.preview\.training\./.test(op) || /^(Gradient|Adagrad|Adam|Momentum)$/.test(op)) return "training ops are not inference";
  if (op === "NonMaxSuppression" || op === "NonZero" || op === "Unique") return "its output shape depends on the data";
  return undefined;
}

function checkSupported(nodes: NodeProto[]): void {
  const missing = new Map<string, string[]>();
  nodes.forEach((node, i) => {
    const foreign = node.domain && node.domain !== "ai.onnx";
    if (!foreign && isSupported(node.opType ?? "")) return;
    const op = foreign ? `${node.domain}.${node.opType}` : node.opType ?? "";
    missing.set(op, [...(missing.get(op) ?? []), nodeName(node, i)]);
  });
  if (missing.size === 0) return;
  const list = [...missing].map(([op, names]) => {
    const why = refusal(op);
    return `${op} (node${names.length > 1 ? "s" : ""} ${names.map((n) => `'${n}'`).join(", ")}${why ? `: ${why}` : ""})`;
  });
  throw new Error(`unsupported ONNX ops: ${list.join(", ")}`);
}

/** The static shape of a graph input from the model and the --shape option. */
function inputShape(v: ValueInfoProto, given: number[] | undefined): number[] {
  const name = v.name ?? "";
  const shape = v.type?.tensorType?.shape;
  const dims = shape?.dim ?? [];
  if (given) {
    if (shape && dims.length !== given.length) throw new Error(`--shape ${name}=${given.join(",")} has rank ${given.length}, the model's input '${name}' has rank ${dims.length}`);
    dims.forEach((d, axis) => {
      const fixed = num(d.dimValue);
      if (fixed > 0 && fixed !== given[axis]) {
        throw new Error(`--shape ${name}=${given.join(",")} gives ${given[axis]} at axis ${axis}, where the model fixes ${fixed}`);
      }
    });
    return [...given];
  }
  if (!shape) throw new Error(`input '${name}' has no shape in the model: pass --shape ${name}=D0,D1,...`);
  const hint = dims.map((d) => (num(d.dimValue) > 0 ? String(num(d.dimValue)) : BATCH_DIM.test(d.dimParam ?? "") ? "1" : `<${d.dimParam || "?"}>`)).join(",");
  return dims.map((d, axis) => {
    if (num(d.dimValue) > 0) return num(d.dimValue);
    const param = d.dimParam ?? "";
    if (BATCH_DIM.test(param) || (param === "" && axis === 0)) return 1;
    const what = param ? `symbolic dimension '${param}'` : "an unknown dimension";
    throw new Error(`input '${name}' has ${what} (axis ${axis}): pass --shape ${name}=${hint}`);
  });
}

/**
 * Declare the graph outputs under their ONNX names. An output that became an alias (of an
 * Identity's input, say) takes over the name of the value it aliases when a node produces it;
 * aliases of inputs or of other outputs get an Identity node, aliases of constants a copy.
 */
function bindOutputs(db: DraftBuilder, outputs: ValueInfoProto[], aliases: Map<string, string>, inputs: Set<string>): DraftGraph {
  const renames = new Map<string, string>();
  const names = new Set(outputs.map((o) => o.name ?? ""));
  for (const out of outputs) {
    const name = out.name ?? "";
    const value = aliases.get(name) ?? name;
    if (!db.has(value)) throw new Error(`graph output '${name}' is not computed by any node`);
    if (value !== name) {
      const c = db.constOf(value);
      if (c) db.constant(name, c);
      else if (inputs.has(value) || renames.has(value) || names.has(value)) db.op("Identity", [value], {}, { name: `${name}/identity`, outputs: [name] });
      else renames.set(value, name);
    }
    db.output(name);
  }
  const draft = db.finish();
  for (const n of draft.nodes) {
    n.inputs = n.inputs.map((v) => renames.get(v) ?? v);
    n.outputs = n.outputs.map((v) => renames.get(v) ?? v);
  }
  return draft;
}

export function convertOnnx(bytes: Uint8Array, options: ConvertOptions = {}): { graph: Graph; report: ConvertReport } {
  const source = options.source ?? "model.onnx";
  const model = readModel(bytes, source);
  const g = model.graph!;
  const nodes = g.node ?? [];
  checkSupported(nodes);
  const opset = defaultOpset(model, source);

  const producer = `${model.producerName ?? ""} ${model.producerVersion ?? ""}`.trim();
  const db = new DraftBuilder({
    frac: options.frac ?? DEFAULT_FRAC,
    metadata: { producer: "detml convert", source: basename(source), source_format: "onnx", onnx_opset: String(opset), ...(producer ? { onnx_producer: producer } : {}), ...options.metadata },
    maxFoldedBytes: options.maxFoldedBytes,
  });
  const initializers = g.initializer ?? [];
  db.reserve([...initializers.map((t) => t.name ?? ""), ...(g.input ?? []).map((v) => v.name ?? ""), ...nodes.flatMap((n) => n.output ?? [])]);

  const external = new ExternalData(options.baseDir, source);
  for (const t of initializers) {
    const value = tensorValue(t, external, `initializer '${t.name}'`);
    db.guard.admitSource(value.data.length);
    db.constant(t.name ?? "", value);
  }

  const shapes = options.shapes ?? {};
  const runtimeInputs = (g.input ?? []).filter((v) => !db.has(v.name ?? ""));
  for (const name of Object.keys(shapes)) {
    if (!runtimeInputs.some((v) => v.name === name)) throw new Error(`--shape ${name}: the model has no input '${name}' (inputs: ${runtimeInputs.map((v) => v.name).join(", ")})`);
  }
  if (Object.keys(shapes).length) db.meta("shapes", JSON.stringify(shapes));
  for (const v of runtimeInputs) {
    const elemType = v.type?.tensorType?.elemType ?? 0;
    const dtype = valueClassOf(elemType);
    if (!dtype) throw new Error(`input '${v.name}' has type ${dataTypeName(elemType)}, which detml does not support`);
    db.input(v.name ?? "", inputShape(v, shapes[v.name ?? ""]), dtype);
  }

  const used = new Set<string>([...nodes.flatMap((n) => n.input ?? []), ...(g.output ?? []).map((o) => o.name ?? "")]);
  const aliases = new Map<string, string>();
  const elemTypes = statedElemTypes(g);
  let folded = 0;
  let removed = 0;
  nodes.forEach((node, i) => {
    const name = nodeName(node, i);
    const op = node.opType ?? "";
    try {
      for (const x of node.input ?? []) {
        if (x !== "" && !db.has(aliases.get(x) ?? x)) throw new Error(`input '${x}' is not defined before this node (missing value or unsorted graph)`);
      }
      ONNX_OPS[op](new NodeCtx(node, name, opset, db, aliases, used, external, elemTypes));
    } catch (e) {
      throw new Error(`node '${name}' (${op}): ${(e as Error).message}`);
    }
    const outs = (node.output ?? []).filter((o) => o !== "");
    if (outs.length && outs.every((o) => aliases.has(o))) removed++;
    else if (outs.length && outs.every((o) => db.constOf(o))) folded++;
    options.onProgress?.(i + 1, nodes.length);
  });

  const draft = bindOutputs(db, g.output ?? [], aliases, new Set(runtimeInputs.map((v) => v.name ?? "")));
  const batchNormsFused = fuseBatchNorm(draft, (base) => db.fresh(base));
  prune(draft);
  const emitted = emitGraph(draft);
  const graph = options.weightBits ? narrowWeights(emitted, options.weightBits) : emitted;

  const opCounts: Record<string, number> = {};
  for (const n of graph.nodes) opCounts[n.op] = (opCounts[n.op] ?? 0) + 1;
  const report: ConvertReport = {
    source,
    opset,
    producer,
    nodesIn: nodes.length,
    nodesOut: graph.nodes.length,
    folded,
    removed,
    batchNormsFused,
    params: [...graph.constants.values()].reduce((s, t) => s + t.size, 0),
    inputs: graph.inputs.map((v) => ({ ...v, shape: [...v.shape] })),
    outputs: [...graph.outputs],
    opCounts,
  };
  return { graph, report };
}
