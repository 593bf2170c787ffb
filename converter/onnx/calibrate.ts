/**
 * Observing an ONNX model's activations in float for calibration (converter/common/calibrate.ts
 * turns the observations into fracs). ONNX Runtime only returns graph outputs, so an in-memory
 * copy of the model declares every node output as an extra graph output (ONNX Runtime infers
 * their types); one session then runs each calibration sample and the largest |value| of every
 * floating-point value is kept under its ONNX name, the name the converter gives the IR tensor
 * computed from it. Integer and boolean values (shapes, indices, masks) are skipped: they are
 * frac 0 whatever the data. `convertOnnxCalibrated` runs the shared sequence of
 * converter/common/calibrate.ts (`convertCalibrated`) with this observation.
 */
import pkg from "onnx-proto";
import type { Graph } from "../../lib/graph/ir.js";
import { onnxRuntimeOracle } from "../../lib/verify/oracle.js";
import type { FloatTensor } from "../../lib/verify/compare.js";
import { type ActivationBits, type Calibrated, convertCalibrated, observeSampleInputs, ValueRanges } from "../common/calibrate.js";
import { correctBiases, LayerInputMeans } from "../common/bias-correction.js";
import { narrowWeights } from "../common/narrow-weights.js";
import { convertOnnx, type ConvertOptions } from "./convert.js";
import { readModel } from "./proto.js";

const proto = pkg.onnx;

/** Element types whose values get a calibrated frac. */
const FLOAT_TYPES = new Set(["float32", "float64"]);

/** The model's bytes with every node output (not already one) declared as a graph output. */
export function exposeIntermediates(bytes: Uint8Array, source: string): Uint8Array {
  const model = readModel(bytes, source);
  const g = model.graph!;
  const declared = new Set((g.output ?? []).map((o) => o.name ?? ""));
  for (const node of g.node ?? []) {
    for (const name of node.output ?? []) {
      if (name === "" || declared.has(name)) continue;
      declared.add(name);
      g.output!.push(proto.ValueInfoProto.create({ name }));
    }
  }
  return proto.ModelProto.encode(model).finish();
}

/**
 * Run the float model on every sample and record the largest |value| of each floating-point
 * input and node output. The inputs are real values by input name, as `detml verify` feeds them.
 */
export async function observeOnnxRanges(bytes: Uint8Array, samples: readonly Map<string, FloatTensor>[], source = "model.onnx", means?: LayerInputMeans): Promise<ValueRanges> {
  const oracle = await onnxRuntimeOracle(exposeIntermediates(bytes, source), source);
  const ranges = new ValueRanges();
  try {
    for (const sample of samples) {
      observeSampleInputs(ranges, sample, oracle.inputs.filter((info) => FLOAT_TYPES.has(info.dtype)).map((info) => info.name));
      const results = await oracle.run(sample);
      for (const info of oracle.outputs) {
        if (FLOAT_TYPES.has(info.dtype)) ranges.observe(info.name, results.get(info.name)!.data);
      }
      means?.observe(new Map([...sample, ...results]));
      ranges.samples++;
    }
  } finally {
    await oracle.dispose?.();
  }
  return ranges;
}

/**
 * Convert with calibrated activation formats. `drawSamples` gives the real input values by name
 * (from a .npy file or drawn like verify's --random) for the graph converted at the default frac,
 * whose static input shapes they must have; `data` names them for the metadata. The probe
 * conversion shows no progress.
 */
export async function convertOnnxCalibrated(
  bytes: Uint8Array,
  drawSamples: (graph: Graph) => readonly Map<string, FloatTensor>[],
  data: string,
  options: ConvertOptions & { biasCorrection?: boolean } = {},
  activationBits: ActivationBits = 32,
): Promise<Calibrated<ReturnType<typeof convertOnnx>>> {
  const { biasCorrection = true, ...convertOptions } = options;
  const bits = convertOptions.weightBits;
  // With narrow weights the float run also averages each layer's input (bias-correction.ts); the
  // final conversion then rounds the weights itself and corrects the biases.
  let means: LayerInputMeans | undefined;
  return convertCalibrated(
    (frac) => {
      const progress = frac === undefined ? undefined : convertOptions.onProgress;
      if (frac === undefined || !means || !bits) return convertOnnx(bytes, { ...convertOptions, frac, onProgress: progress });
      const plain = convertOnnx(bytes, { ...convertOptions, frac, onProgress: progress, weightBits: undefined });
      return { ...plain, graph: correctBiases(plain.graph, narrowWeights(plain.graph, bits), means).graph };
    },
    (probe) => {
      means = bits && biasCorrection ? new LayerInputMeans(probe) : undefined;
      return observeOnnxRanges(bytes, drawSamples(probe), convertOptions.source, means);
    },
    data,
    activationBits,
  );
}
