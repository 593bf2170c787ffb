/**
 * The float oracle for TF.js models: the same model.json and shards loaded by @tensorflow/tfjs
 * itself (pure-JS CPU backend, from memory: TF.js decodes the weights, not detml) and run on the
 * samples `detml verify` gives it. Graph models run with `execute` on the Placeholders by name;
 * layers models with `predict` on their inputs in order. Inputs and outputs carry the names the
 * converter gives them, so the comparison core pairs them by name. @tensorflow/tfjs is a
 * devDependency, loaded on first use.
 */
import type { FloatTensor } from "../../lib/verify/compare.js";
import type { FloatOracle, OracleValue } from "../../lib/verify/oracle.js";
import { graphInputs, graphOutputs } from "./graph-model.js";
import { layersInputs, outputNames } from "./layers-model.js";
import { parseModelJson } from "./model-json.js";
import { loadShards, type ShardLoader } from "./weights.js";

type Tfjs = typeof import("@tensorflow/tfjs");
type GraphModel = import("@tensorflow/tfjs").GraphModel;
type LayersModel = import("@tensorflow/tfjs").LayersModel;
type WeightsManifestEntry = import("@tensorflow/tfjs").io.WeightsManifestEntry;

async function loadTfjs(): Promise<Tfjs> {
  let tf: Tfjs;
  try {
    tf = await import("@tensorflow/tfjs");
  } catch (e) {
    throw new Error(`the float oracle for TF.js models needs @tensorflow/tfjs (npm install @tensorflow/tfjs): ${(e as Error).message}`);
  }
  tf.env().set("PROD", true); // no console banners or debug checks
  await tf.setBackend("cpu");
  return tf;
}

const TF_DTYPES: Record<string, OracleValue["dtype"]> = { DT_FLOAT: "float32", DT_INT32: "int32", DT_INT64: "int32", DT_BOOL: "bool" };

/** Input descriptions with unknown dimensions as names ("batch" for axis 0). */
function describe(name: string, dims: number[] | undefined, dtype: string): OracleValue {
  return { name, dtype, shape: (dims ?? []).map((d, axis) => (d >= 0 ? d : axis === 0 ? "batch" : `d${axis}`)) };
}

/** A TF.js oracle on a model.json (text or object) whose shards `loadShard` reads. */
export async function tfjsOracle(modelJson: string | object, loadShard: ShardLoader, source = "model.json"): Promise<FloatOracle> {
  const model = parseModelJson(modelJson, source);
  const json = (typeof modelJson === "string" ? JSON.parse(modelJson) : modelJson) as Record<string, unknown>;
  const shards = loadShards(model.weights, loadShard, source).flat();
  const weightData = new Uint8Array(shards.reduce((s, b) => s + b.byteLength, 0));
  let at = 0;
  for (const b of shards) {
    weightData.set(b, at);
    at += b.byteLength;
  }
  const tf = await loadTfjs();
  const artifacts = {
    modelTopology: json.modelTopology as object,
    format: json.format as string | undefined,
    signature: json.signature as object | undefined,
    weightSpecs: model.weights.flatMap((g) => g.weights) as WeightsManifestEntry[],
    weightData: weightData.buffer,
  };
  const graph = model.format === "graph-model";
  const inputs = graph
    ? graphInputs(model.topology, model.signature).map((s) => describe(s.name, s.dims, TF_DTYPES[s.dtype ?? ""] ?? String(s.dtype)))
    : layersInputs(model.topology).map((s) => describe(s.name, s.dims, s.dtype));
  const outputs: OracleValue[] = (graph ? graphOutputs(model.topology, model.signature) : outputNames(model.topology)).map((name) => ({ name, dtype: "float32", shape: [] }));
  const loaded = graph ? await tf.loadGraphModel(tf.io.fromMemory(artifacts)) : await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  const version = `tfjs ${tf.version.tfjs} (cpu backend)`;
  return {
    name: version,
    inputs,
    outputs,
    async run(values) {
      const feeds = inputs.map((info) => {
        const v = values.get(info.name);
        if (!v) throw new Error(`no value for the float model's input '${info.name}'`);
        const dtype = info.dtype === "float32" ? "float32" : info.dtype === "bool" ? "bool" : "int32";
        return tf.tensor(Array.from(v.data), v.shape, dtype);
      });
      try {
        const result = graph
          ? (loaded as GraphModel).execute(Object.fromEntries(inputs.map((info, i) => [info.name, feeds[i]])), outputs.map((o) => (o.name.includes(":") ? o.name : `${o.name}:0`)))
          : (loaded as LayersModel).predict(feeds.length === 1 ? feeds[0] : feeds);
        const list = Array.isArray(result) ? result : [result];
        const out = new Map(outputs.map((o, i): [string, FloatTensor] => [o.name, { shape: [...list[i].shape], data: Float64Array.from(list[i].dataSync()), dtype: list[i].dtype }]));
        tf.dispose(list);
        return out;
      } finally {
        tf.dispose(feeds);
      }
    },
    dispose: async () => {
      loaded.dispose();
    },
  };
}
