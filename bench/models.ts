/**
 * The models `npm run bench` measures and their float baselines. ONNX fixtures (fixtures/models)
 * run against onnxruntime-node (CPU, one thread, sequential); TF.js models against
 * @tensorflow/tfjs on its pure-JS CPU backend (the oracle `detml verify` uses: the timing
 * includes making the input tensor and reading the outputs back, as the ONNX Runtime timing
 * does). TF.js models are the committed fixtures (fixtures/tfjs/models, graph-model form) and
 * four real published models (Iris, FaceMesh, faceres, MoveNet), fetched into .cache
 * by scripts/fetch-tfjs-real-models.sh (`npm run bench` runs it). A model that does not convert is
 * reported as skipped with the reason, never silently left out.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { convertOnnxFile } from "../converter/onnx/index.js";
import { convertTfjsFile, tfjsOracleFile } from "../converter/tfjs/index.js";
import type { Graph } from "../lib/graph/ir.js";
import { readInputs } from "../lib/model-files.js";
import { type IntRange, randomSamples } from "../lib/verify/inputs.js";
import { readNpy } from "../lib/tensor/npy.js";
import type { Tensor } from "../lib/tensor/tensor.js";
import { adaptiveBudget, timeAsync, type Timing } from "./measure.js";

const ONNX_MODELS = "fixtures/models";
const ONNX_DATA = "fixtures/data";
const ONNX_INPUTS: Record<string, string> = { mnist_lenet: "mnist_test_1000.npy", transformer_block_op17: "transformer_block_input.npy" };
const TFJS_FIXTURES = "fixtures/tfjs/models";
const TFJS_REAL = ".cache/tfjs-real/models";
/** Real models, with the range of integer (pixel) inputs where there is one. */
const TFJS_REAL_MODELS: [string, Record<string, IntRange>?][] = [["iris"], ["facemesh"], ["faceres"], ["movenet-lightning", { input: { lo: 0, hi: 255 } }]];

/** A converted model, one input sample, and a way to time its float baseline on that sample. */
export interface BenchModel {
  name: string;
  graph: Graph;
  input: Map<string, Tensor>;
  /** Engine name of the float baseline, e.g. "onnxruntime-node". */
  baseline: string;
  timeBaseline(): Promise<Timing>;
}

/** The first sample of the fixture's input file, for detml (quantized) and ONNX Runtime (float/int64). */
function onnxSample(name: string, graph: Graph): { detml: Map<string, Tensor>; ort: Record<string, ort.Tensor> } {
  const file = join(ONNX_DATA, ONNX_INPUTS[name] ?? `${name}_input.npy`);
  const detml = readInputs(graph, new Map([["", file]]))[0];
  const npy = readNpy(new Uint8Array(readFileSync(file)), file);
  const shape = [...graph.inputs[0].shape];
  const data = npy.data.slice(0, shape.reduce((a, b) => a * b, 1));
  const tensor = npy.dtype.startsWith("float")
    ? new ort.Tensor("float32", Float32Array.from(data as ArrayLike<number>), shape)
    : new ort.Tensor("int64", BigInt64Array.from(data as ArrayLike<bigint | number>, (v) => BigInt(v)), shape);
  return { detml, ort: { [graph.inputs[0].name]: tensor } };
}

function onnxModel(name: string): BenchModel {
  const path = join(ONNX_MODELS, `${name}.onnx`);
  const { graph } = convertOnnxFile(path);
  const sample = onnxSample(name, graph);
  return {
    name, graph, input: sample.detml, baseline: "onnxruntime-node",
    async timeBaseline() {
      const session = await ort.InferenceSession.create(path, {
        executionProviders: ["cpu"], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", logSeverityLevel: 3,
      });
      try {
        const run = () => session.run(sample.ort);
        return await timeAsync(run, await adaptiveBudget(run));
      } finally {
        await session.release();
      }
    },
  };
}

function tfjsModel(name: string, path: string, intRanges?: Record<string, IntRange>): BenchModel {
  const { graph } = convertTfjsFile(path);
  const [sample] = randomSamples(graph, 1, 0, { intRanges });
  return {
    name, graph, input: sample.fixed, baseline: "tfjs-cpu",
    async timeBaseline() {
      const oracle = await tfjsOracleFile(path);
      try {
        const run = () => oracle.run(sample.float);
        return await timeAsync(run, await adaptiveBudget(run));
      } finally {
        await oracle.dispose?.();
      }
    },
  };
}

/** Every bench model by name (`only` limits them), each loaded lazily: a conversion error becomes a skip reason. */
export function benchModels(only: readonly string[]): { name: string; load: () => BenchModel }[] {
  const onnx = readdirSync(ONNX_MODELS).filter((f) => f.endsWith(".onnx")).map((f) => f.slice(0, -5)).sort()
    .map((name) => ({ name, load: () => onnxModel(name) }));
  const fixtures = readdirSync(TFJS_FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()
    .map((name) => ({ name: `tfjs_${name}`, load: () => tfjsModel(`tfjs_${name}`, join(TFJS_FIXTURES, name, "graph", "model.json")) }));
  const real = TFJS_REAL_MODELS.filter(([name]) => existsSync(join(TFJS_REAL, `${name}.bin`)))
    .map(([name, ranges]) => ({ name: `tfjs_${name}`, load: () => tfjsModel(`tfjs_${name}`, join(TFJS_REAL, `${name}.json`), ranges) }));
  return [...onnx, ...fixtures, ...real].filter((m) => only.length === 0 || only.includes(m.name));
}
