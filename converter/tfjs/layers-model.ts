/**
 * The layers-model front end: walks a Keras model config (Sequential, or functional Model /
 * Functional with inbound_nodes, including nested models used as layers and layers called more
 * than once) and translates each layer call through the LAYERS registry. Inputs come from the
 * InputLayers (or the first layer's batch_input_shape in a Sequential, named `<layer>_input` as
 * TF.js names it); outputs are the output layers' tensors, named after their layers.
 */
import type { DraftBuilder } from "../common/draft.js";
import type { ValueClass } from "../common/values.js";
import { LayerCtx, type WeightTable } from "./layer-context.js";
import { isSupportedLayer, LAYERS } from "./layers.js";
import type { TfBuilder, TfValue } from "./layout.js";
import { resolveInputShape } from "./shapes.js";

type Json = Record<string, unknown>;

interface LayerSpec {
  className: string;
  name: string;
  config: Json;
  /** Functional models: one entry per call, each a list of [layer, node, tensor] references. */
  inbound: [string, number, number][][];
}

const MODEL_CLASSES = new Set(["Sequential", "Model", "Functional"]);
const INPUT_CLASS = "InputLayer";

function layerName(spec: Json, i: number): string {
  const config = (spec.config ?? {}) as Json;
  return String(config.name ?? spec.name ?? `layer_${i}`);
}

/** The layer list of a Sequential config (Keras 2 nests it under `layers`; old configs are a bare list). */
function sequentialLayers(config: unknown): Json[] {
  const list = Array.isArray(config) ? config : (config as Json | undefined)?.layers;
  if (!Array.isArray(list)) throw new Error("Sequential config has no list of layers");
  return list as Json[];
}

/** [layer, node, tensor] references of one inbound node (Keras 2 lists, or Keras 3 `args` objects). */
function inboundRefs(node: unknown, where: string): [string, number, number][] {
  if (!Array.isArray(node)) throw new Error(`${where}: inbound node must be a list, got ${JSON.stringify(node).slice(0, 80)}`);
  return node.map((ref) => {
    if (!Array.isArray(ref) || typeof ref[0] !== "string") throw new Error(`${where}: bad inbound reference ${JSON.stringify(ref).slice(0, 80)}`);
    return [ref[0], Number(ref[1] ?? 0), Number(ref[2] ?? 0)];
  });
}

function functionalLayers(config: Json): LayerSpec[] {
  const layers = config.layers;
  if (!Array.isArray(layers)) throw new Error("functional model config has no list of layers");
  return layers.map((l: Json, i) => {
    const name = layerName(l, i);
    const nodes = Array.isArray(l.inbound_nodes) ? l.inbound_nodes : [];
    return { className: String(l.class_name), name, config: (l.config ?? {}) as Json, inbound: nodes.map((n: unknown) => inboundRefs(n, `layer '${name}'`)) };
  });
}

/** Every layer class used, with nested models expanded, for the one-shot support check. */
export function layerClasses(topology: Json, out = new Map<string, string[]>()): Map<string, string[]> {
  const className = String(topology.class_name);
  const list = className === "Sequential" ? sequentialLayers(topology.config) : ((topology.config as Json)?.layers as Json[] | undefined) ?? [];
  list.forEach((l, i) => {
    const cls = String(l.class_name);
    if (MODEL_CLASSES.has(cls)) return void layerClasses(l, out);
    if (cls === INPUT_CLASS || isSupportedLayer(cls)) return;
    out.set(cls, [...(out.get(cls) ?? []), layerName(l, i)]);
  });
  return out;
}

/** Names of the top-level model's outputs (output layer names, suffixed when ambiguous). */
export function outputNames(topology: Json): string[] {
  if (String(topology.class_name) === "Sequential") {
    const layers = sequentialLayers(topology.config);
    return [layerName(layers[layers.length - 1], layers.length - 1)];
  }
  const refs = ((topology.config as Json).output_layers ?? []) as [string, number, number][];
  return refs.map(([layer, node, tensor]) => (node === 0 && tensor === 0 ? layer : `${layer}:${node}:${tensor}`));
}

/** A model input as the config declares it: dims with -1 for unknown, Keras dtype. */
export interface LayersInputSpec {
  name: string;
  dims?: number[];
  dtype: string;
}

function inputSpec(name: string, config: Json, consumer: string | undefined): LayersInputSpec {
  const shape = config.batch_input_shape ?? config.batch_shape ?? (Array.isArray(config.input_shape) ? [null, ...(config.input_shape as unknown[])] : undefined);
  const dims = Array.isArray(shape) ? shape.map((d) => (typeof d === "number" ? d : -1)) : undefined;
  // An input read by an Embedding holds token ids whatever its declared dtype (TF.js casts them).
  const dtype = consumer === "Embedding" ? "int32" : String(config.dtype ?? "float32");
  return { name, dims, dtype };
}

/**
 * The top-level model's inputs: the InputLayers (functional), or a Sequential's first layer,
 * named `<layer>_input` as TF.js names the input it creates when the first layer is not an InputLayer.
 */
export function layersInputs(topology: Json): LayersInputSpec[] {
  if (String(topology.class_name) === "Sequential") {
    const layers = sequentialLayers(topology.config);
    if (layers.length === 0) throw new Error("Sequential model has no layers");
    const first = layers[0];
    const config = (first.config ?? {}) as Json;
    if (String(first.class_name) === INPUT_CLASS) return [inputSpec(layerName(first, 0), config, layers[1] ? String(layers[1].class_name) : undefined)];
    return [inputSpec(`${layerName(first, 0)}_input`, config, String(first.class_name))];
  }
  const config = (topology.config ?? {}) as Json;
  const specs = functionalLayers(config);
  const consumer = (name: string) => specs.find((s) => s.inbound.some((n) => n.some(([l]) => l === name)))?.className;
  return ((config.input_layers ?? []) as [string, number, number][]).map(([name]) => {
    const spec = specs.find((s) => s.name === name);
    if (!spec) throw new Error(`input layer '${name}' is not in the model's layers`);
    return inputSpec(name, spec.config, consumer(name));
  });
}

export interface LayersWalk {
  inputs: { name: string; value: TfValue }[];
  outputs: { name: string; value: TfValue }[];
  layerCalls: number;
}

export class LayersModelReader {
  private calls = 0;

  /**
   * Node index of the first call of a nested model in inbound references: TF.js counts the node a
   * model gets when it is built (so its first call is node 1), Keras serializes kept nodes from 0.
   */
  private nestedNodeBase = 0;

  constructor(private readonly b: TfBuilder, private readonly db: DraftBuilder, private readonly weights: WeightTable, private readonly shapes: Record<string, number[]>) {}

  /** Translate the top-level model: declares its inputs and returns its output tensors. */
  read(topology: Json): LayersWalk {
    this.nestedNodeBase = String(topology.keras_version ?? "").startsWith("tfjs") ? 1 : 0;
    const inputs = layersInputs(topology).map((spec) => {
      const cls: ValueClass = spec.dtype.startsWith("int") ? "int" : spec.dtype === "bool" ? "bool" : "float";
      if (!spec.dims) throw new Error(`input layer '${spec.name}' has no batch_input_shape`);
      const value = this.b.value(this.db.input(spec.name, resolveInputShape(spec.name, spec.dims, this.shapes[spec.name]), cls));
      return { name: spec.name, value };
    });
    const outputs = this.model(topology, inputs.map((v) => v.value));
    const names = outputNames(topology);
    return { inputs, outputs: outputs.map((value, i) => ({ name: names[i] ?? `output_${i}`, value })), layerCalls: this.calls };
  }

  /** Run a (possibly nested) model on `given` inputs. */
  private model(topology: Json, given: TfValue[]): TfValue[] {
    const className = String(topology.class_name);
    if (className === "Sequential") return this.sequential(topology.config, given);
    if (!MODEL_CLASSES.has(className)) throw new Error(`model class '${className}' is not Sequential, Model or Functional`);
    return this.functional((topology.config ?? {}) as Json, given);
  }

  private sequential(config: unknown, given: TfValue[]): TfValue[] {
    const layers = sequentialLayers(config);
    if (layers.length === 0) throw new Error("Sequential model has no layers");
    let x = given[0];
    const rest = String(layers[0].class_name) === INPUT_CLASS ? layers.slice(1) : layers;
    rest.forEach((l, i) => {
      x = this.call({ className: String(l.class_name), name: layerName(l, i), config: (l.config ?? {}) as Json, inbound: [] }, l, [x])[0];
    });
    return [x];
  }

  private functional(config: Json, given: TfValue[]): TfValue[] {
    const specs = functionalLayers(config);
    const raw = config.layers as Json[];
    const tensors = new Map<string, TfValue>();
    const key = (layer: string, node: number, tensor: number) => `${layer}\u0000${node}\u0000${tensor}`;
    const inputRefs = (config.input_layers ?? []) as [string, number, number][];
    if (given.length !== inputRefs.length) throw new Error(`model '${String(config.name)}' needs ${inputRefs.length} inputs, got ${given.length}`);
    inputRefs.forEach(([name, node, tensor], i) => tensors.set(key(name, node, tensor), given[i]));
    // Calls in dependency order: repeat passes until every call whose inputs exist is done.
    const pending = specs.flatMap((spec, i) => (spec.className === INPUT_CLASS ? [] : spec.inbound.map((refs, node) => ({ spec, raw: raw[i], refs, node }))));
    while (pending.length > 0) {
      const ready = pending.findIndex((c) => c.refs.every(([l, n, t]) => tensors.has(key(l, n, t))));
      if (ready < 0) {
        const c = pending[0];
        const missing = c.refs.filter(([l, n, t]) => !tensors.has(key(l, n, t))).map(([l, n, t]) => `${l}[${n}][${t}]`);
        throw new Error(`layer '${c.spec.name}' reads ${missing.join(", ")}, which no layer produces`);
      }
      const [c] = pending.splice(ready, 1);
      const outs = this.call(c.spec, c.raw, c.refs.map(([l, n, t]) => tensors.get(key(l, n, t))!));
      const node = c.node + (MODEL_CLASSES.has(c.spec.className) ? this.nestedNodeBase : 0);
      outs.forEach((v, t) => tensors.set(key(c.spec.name, node, t), v));
    }
    const outputRefs = (config.output_layers ?? []) as [string, number, number][];
    return outputRefs.map(([l, n, t]) => {
      const v = tensors.get(key(l, n, t));
      if (!v) throw new Error(`output ${l}[${n}][${t}] is not produced by any layer`);
      return v;
    });
  }

  private call(spec: LayerSpec, raw: Json, args: TfValue[]): TfValue[] {
    this.calls++;
    try {
      if (MODEL_CLASSES.has(spec.className)) return this.model(raw, args);
      const handler = LAYERS[spec.className];
      if (!handler) throw new Error("unsupported layer");
      return [handler(new LayerCtx(this.b, spec.className, spec.name, spec.config, args, this.weights))];
    } catch (e) {
      const msg = (e as Error).message;
      throw new Error(msg.startsWith("layer '") ? msg : `layer '${spec.name}' (${spec.className}): ${msg}`);
    }
  }
}
