/**
 * Observing a TF.js model's activations in float for calibration (converter/common/calibrate.ts
 * turns the observations into fracs). The converter does not keep TF names on IR values: a TF
 * node becomes one or more IR nodes named after it (a fused conv's Conv, then its Relu as
 * `<node>/relu`), and its value is whichever IR value the last of them writes, under a fresh
 * name. So the names are matched through a second conversion of an "exposed" copy of the
 * model.json in which every tensor is also a model output: a graph model's signature lists
 * every node's output (and every `node:i` a node reads), a layers model's `output_layers` every
 * layer call's output (a Sequential is rewritten as the same chain in functional form). TF.js runs
 * that copy (the oracle of oracle.ts, which returns every output by name) and the converter names
 * each output's IR value after its TF tensor, as it names any model output; the walk itself is
 * the same as the real model's, so its IR nodes have the same names in both conversions. Each IR
 * node of the real conversion then takes the ranges of the same-named node of the exposed one,
 * output by output, when op, output count and output types agree; an exposed value that reaches a
 * TF name only through layout nodes (the Transpose back to NHWC, an Identity: max |x| unchanged)
 * takes that name's range. Tensors only a batch normalization reads are not exposed, so that the
 * converter still fuses it into the conv before it, as in the real conversion (a node that fused
 * in one and not the other is not matched). A value with no TF name that only a Relu or Clip
 * reads (a conv before its fused activation) takes that activation's range: its positive part
 * (and, for a Clip, its part inside the bounds) is what the activation's range saw, and what lies
 * beyond saturates to a value the activation maps to the same result. Integer and boolean
 * tensors are skipped (frac 0 whatever the data); other values with no TF name (inside a
 * decomposed op) follow the graph frac.
 */
import type { Graph } from "../../lib/graph/ir.js";
import { inferTypes } from "../../lib/graph/validate.js";
import type { NarrowBits } from "../../lib/tensor/narrow.js";
import type { FloatTensor } from "../../lib/verify/compare.js";
import { type ActivationBits, type Calibrated, convertCalibrated, observeSampleInputs, ValueRanges } from "../common/calibrate.js";
import { correctBiases, LayerInputMeans, observeInReference } from "../common/bias-correction.js";
import { narrowWeights } from "../common/narrow-weights.js";
import { convertTfjs, type ConvertTfjsOptions } from "./convert.js";
import { type NodeJson, tensorRef } from "./graph-context.js";
import { graphOutputs } from "./graph-model.js";
import { layersInputs } from "./layers-model.js";
import { parseModelJson } from "./model-json.js";
import { tfjsOracle } from "./oracle.js";
import type { ShardLoader } from "./weights.js";

type Json = Record<string, unknown>;

/** Graph-model nodes with no computed output of their own. */
const SOURCE_OPS = new Set(["Const", "Placeholder", "NoOp"]);
const BATCH_NORM_OPS = new Set(["FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"]);
const MODEL_CLASSES = new Set(["Sequential", "Model", "Functional"]);
/** IR ops that bound their output whatever their input's magnitude (see the file overview). */
const CLAMPS = new Set(["Relu", "Clip"]);
/** IR ops whose output holds the same values as their input (max |x| unchanged). */
const SAME_VALUES = new Set(["Transpose", "Identity", "Reshape"]);

/** Add `ref` to the exposed tensors unless every reader of it is a batch normalization. */
function exposeUnlessOnlyNormalized(exposed: Set<string>, ref: string, readers: ReadonlyMap<string, string[]>, isNorm: (reader: string) => boolean): void {
  const r = readers.get(ref) ?? [];
  if (r.length === 0 || !r.every(isNorm)) exposed.add(ref);
}

/** A graph model whose signature lists the real outputs, then every node output. */
function exposeGraphModel(json: Json, topology: Json, signature: Json | undefined): Json {
  const nodes = topology.node as NodeJson[];
  const readers = new Map<string, string[]>();
  const extra: string[] = [];
  const sources = new Set(nodes.filter((n) => SOURCE_OPS.has(n.op)).map((n) => n.name));
  for (const n of nodes) {
    for (const input of n.input ?? []) {
      if (input.startsWith("^")) continue;
      const { node, index, ref } = tensorRef(input);
      readers.set(ref, [...(readers.get(ref) ?? []), n.op]);
      if (index > 0 && !sources.has(node)) extra.push(ref);
    }
  }
  const refs = new Set(graphOutputs(topology, signature));
  for (const ref of [...nodes.filter((n) => !sources.has(n.name)).map((n) => n.name), ...extra]) {
    exposeUnlessOnlyNormalized(refs, ref, readers, (op) => BATCH_NORM_OPS.has(op));
  }
  const outputs = Object.fromEntries([...refs].map((ref, i) => [`calibration_${i}`, { name: ref.includes(":") ? ref : `${ref}:0` }]));
  return { ...json, signature: { inputs: {}, ...signature, outputs } };
}

/** A layer's name in a Keras config. */
const nameOf = (layer: Json): string => String((layer.config as Json | undefined)?.name ?? layer.name);

/** A Sequential config as the equivalent functional config: an input layer, then each layer reading the one before. */
function sequentialAsFunctional(topology: Json): Json {
  const config = topology.config;
  const list = (Array.isArray(config) ? config : (config as Json).layers) as Json[];
  const [input] = layersInputs(topology);
  const firstIsInput = String(list[0].class_name) === "InputLayer";
  // TF.js counts a nested model's first call as node 1 (see layers-model.ts).
  const nestedNode = String(topology.keras_version ?? "").startsWith("tfjs") ? 1 : 0;
  const layers: Json[] = [firstIsInput
    ? { ...list[0], name: input.name, inbound_nodes: [] }
    : { class_name: "InputLayer", name: input.name, config: { name: input.name, batch_input_shape: (input.dims ?? []).map((d) => (d < 0 ? null : d)), dtype: input.dtype, sparse: false }, inbound_nodes: [] }];
  for (const l of firstIsInput ? list.slice(1) : list) {
    const prev = layers[layers.length - 1];
    const node = MODEL_CLASSES.has(String(prev.class_name)) ? nestedNode : 0;
    layers.push({ ...l, name: nameOf(l), inbound_nodes: [[[nameOf(prev), node, 0, {}]]] });
  }
  const last = layers[layers.length - 1];
  const lastNode = MODEL_CLASSES.has(String(last.class_name)) ? nestedNode : 0;
  const name = Array.isArray(config) ? "sequential" : String((config as Json).name ?? "sequential");
  return { ...topology, class_name: "Model", config: { name, layers, input_layers: [[input.name, 0, 0]], output_layers: [[nameOf(last), lastNode, 0]] } };
}

/** A layers model whose output_layers are the real outputs, then every layer call's first output. */
function exposeLayersModel(json: Json, topology: Json): Json {
  const functional = String(topology.class_name) === "Sequential" ? sequentialAsFunctional(topology) : topology;
  const config = functional.config as Json;
  const layers = (config.layers ?? []) as Json[];
  const readers = new Map<string, string[]>();
  const key = (layer: string, node: number, tensor: number) => JSON.stringify([layer, node, tensor]);
  for (const l of layers) {
    for (const call of (l.inbound_nodes ?? []) as unknown[][]) {
      for (const ref of call as [string, number, number][]) {
        const k = key(ref[0], Number(ref[1] ?? 0), Number(ref[2] ?? 0));
        readers.set(k, [...(readers.get(k) ?? []), String(l.class_name)]);
      }
    }
  }
  const refs = new Set(((config.output_layers ?? []) as [string, number, number][]).map(([l, n, t]) => key(l, n, t)));
  // A nested model's inner layers are not outputs of this one: only the nested model's outputs are exposed.
  for (const l of layers) {
    const cls = String(l.class_name);
    if (cls === "InputLayer") continue;
    const calls = ((l.inbound_nodes ?? []) as unknown[]).length;
    const base = MODEL_CLASSES.has(cls) && String(topology.keras_version ?? "").startsWith("tfjs") ? 1 : 0;
    for (let n = 0; n < calls; n++) exposeUnlessOnlyNormalized(refs, key(nameOf(l), n + base, 0), readers, (c) => c === "BatchNormalization");
  }
  const exposed = { ...functional, config: { ...config, output_layers: [...refs].map((k) => JSON.parse(k) as [string, number, number]) } };
  const wrapper = json.modelTopology as Json;
  return { ...json, modelTopology: wrapper.model_config ? { ...wrapper, model_config: exposed } : exposed };
}

/** The model.json with every tensor it computes also a model output (see the file overview). */
function exposeTfjsTensors(modelJson: string | object, source = "model.json"): Json {
  const model = parseModelJson(modelJson, source);
  const json = (typeof modelJson === "string" ? JSON.parse(modelJson) : modelJson) as Json;
  return model.format === "graph-model" ? exposeGraphModel(json, model.topology, model.signature) : exposeLayersModel(json, model.topology);
}

/**
 * The exposed conversion's ranges under the probe's IR value names: graph inputs by name, node
 * outputs through the same-named nodes (see the file overview).
 */
function rangesByProbeNames(probe: Graph, exposed: Graph, observed: ValueRanges): ValueRanges {
  const byName = new Map(observed.maxAbs);
  for (const n of [...exposed.nodes].reverse()) {
    const m = byName.get(n.outputs[0]);
    if (SAME_VALUES.has(n.op) && m !== undefined && !byName.has(n.inputs[0])) byName.set(n.inputs[0], m);
  }
  const probeNodes = new Map(probe.nodes.map((n) => [n.name, n]));
  const producer = new Map(exposed.nodes.flatMap((n) => n.outputs.map((o) => [o, n.name] as const)));
  const fusedInProbe = new Set(exposed.nodes.filter((n) => n.op === "BatchNormalization" && !probeNodes.has(n.name)).map((n) => producer.get(n.inputs[0])));
  const [probeTypes, exposedTypes] = [inferTypes(probe), inferTypes(exposed)];
  const ranges = new ValueRanges();
  ranges.samples = observed.samples;
  for (const v of probe.inputs) {
    const m = observed.maxAbs.get(v.name);
    if (m !== undefined) ranges.maxAbs.set(v.name, m);
  }
  for (const n of exposed.nodes) {
    const p = probeNodes.get(n.name);
    if (!p || fusedInProbe.has(n.name) || p.op !== n.op || p.outputs.length !== n.outputs.length) continue;
    n.outputs.forEach((o, i) => {
      const m = byName.get(o);
      const [pt, et] = [probeTypes.get(p.outputs[i]), exposedTypes.get(o)];
      if (m !== undefined && pt && et && String(pt.shape) === String(et.shape)) ranges.maxAbs.set(p.outputs[i], m);
    });
  }
  const readers = new Map<string, number>();
  for (const v of [...probe.nodes.flatMap((n) => n.inputs), ...probe.outputs]) readers.set(v, (readers.get(v) ?? 0) + 1);
  for (const n of [...probe.nodes].reverse()) {
    const m = ranges.maxAbs.get(n.outputs[0]);
    if (CLAMPS.has(n.op) && m !== undefined && !ranges.maxAbs.has(n.inputs[0]) && readers.get(n.inputs[0]) === 1) ranges.maxAbs.set(n.inputs[0], m);
  }
  return ranges;
}

/**
 * Run the float model (TF.js, CPU backend) on every sample and record the largest |value| of each
 * float input and of each IR value of `probe` (the model converted with `options`) that a TF.js
 * tensor computes, under the IR names. The inputs are real values by input name, as `detml
 * verify` feeds them.
 */
export async function observeTfjsRanges(
  modelJson: string | object,
  loadShard: ShardLoader,
  probe: Graph,
  samples: readonly Map<string, FloatTensor>[],
  options: ConvertTfjsOptions = {},
): Promise<ValueRanges> {
  const source = options.source ?? "model.json";
  const exposedJson = exposeTfjsTensors(modelJson, source);
  let exposed: Graph;
  try {
    exposed = convertTfjs(exposedJson, loadShard, { ...options, frac: undefined, onProgress: undefined }).graph;
  } catch (e) {
    throw new Error(`calibration: converting ${source} with every tensor as an output failed: ${(e as Error).message}`);
  }
  const oracle = await tfjsOracle(exposedJson, loadShard, source);
  const observed = new ValueRanges();
  try {
    for (const sample of samples) {
      observeSampleInputs(observed, sample, oracle.inputs.filter((info) => info.dtype === "float32").map((info) => info.name));
      for (const [name, value] of await oracle.run(sample)) {
        if (value.dtype === "float32") observed.observe(name, value.data);
      }
      observed.samples++;
    }
  } finally {
    await oracle.dispose?.();
  }
  return rangesByProbeNames(probe, exposed, observed);
}

/**
 * Convert a TF.js model with calibrated activation formats (the shared sequence,
 * converter/common/calibrate.ts `convertCalibrated`). `drawSamples` gives the real input values
 * by name for the graph converted at the default frac; `data` names them for the metadata.
 * `weightBits` narrows the weights of every conversion, so that the accumulator bound is checked
 * on the rounded values.
 */
export async function convertTfjsCalibrated(
  modelJson: string | object,
  loadShard: ShardLoader,
  drawSamples: (graph: Graph) => readonly Map<string, FloatTensor>[],
  data: string,
  options: ConvertTfjsOptions & { weightBits?: NarrowBits; biasCorrection?: boolean } = {},
  activationBits: ActivationBits = 32,
): Promise<Calibrated<ReturnType<typeof convertTfjs>>> {
  const { weightBits, biasCorrection = true, ...convertOptions } = options;
  // Bias correction (bias-correction.ts) takes each layer's mean input from the reference
  // executor on the probe before its weights are rounded: TF.js's own values are NHWC.
  let unroundedProbe: Graph | undefined;
  let means: LayerInputMeans | undefined;
  return convertCalibrated(
    (frac) => {
      const converted = convertTfjs(modelJson, loadShard, { ...convertOptions, frac, onProgress: frac === undefined ? undefined : options.onProgress });
      if (!weightBits) return converted;
      if (frac === undefined) unroundedProbe = converted.graph;
      const narrowed = narrowWeights(converted.graph, weightBits);
      return { ...converted, graph: frac !== undefined && means ? correctBiases(converted.graph, narrowed, means).graph : narrowed };
    },
    async (probe) => {
      const samples = drawSamples(probe);
      const ranges = await observeTfjsRanges(modelJson, loadShard, probe, samples, convertOptions);
      if (unroundedProbe && biasCorrection) {
        means = new LayerInputMeans(unroundedProbe);
        for (const sample of samples) observeInReference(means, unroundedProbe, sample);
      }
      return ranges;
    },
    data,
    activationBits,
  );
}
