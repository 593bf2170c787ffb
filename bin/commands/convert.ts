/**
 * `detml convert model.onnx -o model.detml`: translate an ONNX model (the PyTorch route) into a
 * .detml fixed-point graph, print what the conversion did (nodes in/out, folded constants, fused
 * BatchNorms, parameters, the source hash), or `--json`. `--weight-bits 8|16` then rounds the
 * weights to narrow per-channel storage (converter/common/narrow-weights.ts). `--calibrate` or
 * `--calibrate-random N` gives each activation its own frac from the float model's ranges (ONNX
 * Runtime or TF.js runs it: converter/onnx/calibrate.ts, converter/tfjs/calibrate.ts). Large
 * models show a progress line on stderr when it is a terminal, and every stage that takes a
 * second or more (read, convert, write) a line of its own (bin/progress.ts; none with --json).
 */
import { dirname } from "node:path";
import type { CommandModule } from "yargs";
import { convertOnnxCalibrated } from "../../converter/onnx/calibrate.js";
import { convertOnnx } from "../../converter/onnx/index.js";
import { convertTfjsCalibrated } from "../../converter/tfjs/calibrate.js";
import { convertTfjs, isTfjsModelJson, shardsBeside } from "../../converter/tfjs/index.js";
import type { Calibrated } from "../../converter/common/calibrate.js";
import type { Graph } from "../../lib/graph/ir.js";
import type { FloatTensor } from "../../lib/verify/compare.js";
import { narrowSummary, narrowWeights, parseWeightBits } from "../../converter/common/narrow-weights.js";
import { encodeGraph, sourceHash } from "../../lib/graph/codec.js";
import { inferTypes } from "../../lib/graph/validate.js";
import { readFileOrFail } from "../../lib/model-files.js";
import { readNpyInputs, randomSamples, samplesFromArrays } from "../../lib/verify/inputs.js";
import { DEFAULT_FRAC } from "../../lib/tensor/fixed.js";
import { formatShape, humanBytes, humanCount, checkOutputFolder, parseNamedFiles, writeOutput } from "./options.js";
import { progressFor, sizeText } from "../progress.js";

interface Args {
  model: string;
  output?: string;
  shape?: string[];
  frac?: number;
  json: boolean;
  "max-folded-bytes"?: number;
  calibrate?: string[];
  "calibrate-random"?: number;
  seed: number;
  "weight-bits"?: number;
  "bias-correction"?: boolean;
  "activation-bits"?: number;
}

/** Models above either size get a progress line (on a terminal only). */
const PROGRESS_NODES = 1000;
const PROGRESS_BYTES = 20 << 20;
const PROGRESS_EVERY = 200;

/** Parse repeated `--shape NAME=D0,D1,...` options. */
export function parseShapes(values: string[] | undefined): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  for (const v of values ?? []) {
    const eq = v.lastIndexOf("=");
    const name = v.slice(0, eq);
    const dims = v.slice(eq + 1).split(",").map((d) => Number(d.trim()));
    if (eq <= 0 || dims.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new Error(`--shape ${v}: expected NAME=D0,D1,... with positive integer dimensions, e.g. --shape input=1,3,224,224`);
    }
    if (name in shapes) throw new Error(`--shape given twice for '${name}'`);
    shapes[name] = dims;
  }
  return shapes;
}

function progressPrinter(fileBytes: number): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (done, total) => {
    if (total <= PROGRESS_NODES && fileBytes <= PROGRESS_BYTES) return;
    if (done % PROGRESS_EVERY === 0 || done === total) {
      process.stderr.write(`\rdetml convert: node ${done}/${total}${done === total ? "\n" : ""}`);
    }
  };
}

export const convertCommand: CommandModule<object, Args> = {
  command: "convert <model>",
  describe: "Convert an ONNX model (e.g. exported from PyTorch) or a TF.js model.json (graph or layers model) into a .detml fixed-point graph",
  builder: (y) =>
    y
      .positional("model", { type: "string", demandOption: true, describe: "Path to a .onnx file (external data files are read from its directory) or a TF.js model.json (weight shards beside it)" })
      .option("output", { alias: "o", type: "string", describe: "Output .detml path (default: the model path with .detml)" })
      .option("shape", { type: "string", array: true, describe: "Static input shape NAME=D0,D1,... (repeatable); needed for symbolic dimensions other than the batch, which defaults to 1" })
      .option("frac", { type: "number", describe: `Fractional bits of activations (default ${DEFAULT_FRAC}: Q16.16)` })
      .option("json", { type: "boolean", default: false, describe: "Print the conversion summary as JSON" })
      .option("max-folded-bytes", { type: "number", describe: "Largest tensor (bytes, 4 per element) that constant folding may create; default: 64 MiB or the model's largest weight if larger" })
      .option("calibrate", { type: "string", array: true, describe: "Give every activation tensor a frac from the float model's ranges on these inputs: FILE.npy (N samples along the batch axis) for a single-input model, or NAME=FILE (repeatable); the float model runs in ONNX Runtime (ONNX) or TF.js (model.json)" })
      .option("calibrate-random", { type: "number", describe: "Calibrate on N seeded random samples drawn like verify's --random (normal(0,1) reals)" })
      .option("seed", { type: "number", default: 0, describe: "Seed of --calibrate-random" })
      .option("activation-bits", { type: "number", describe: "With --calibrate: plan each activation's frac so that twice its observed range fits 16 bits (the fast build then multiplies with 16-bit dot products) or 32 (default)" })
      .option("bias-correction", { type: "boolean", default: true, describe: "With --weight-bits and --calibrate: move each Conv/Gemm bias by the mean shift the weight rounding causes on the calibration inputs; --no-bias-correction keeps the rounded weights alone" })
      .option("weight-bits", { type: "number", describe: "Store weights (Conv/ConvTranspose/MatMul/Gemm weights, Gather tables) at 8 or 16 bits with a power-of-two scale per output channel; 32 (default): i32" })
      .conflicts("calibrate", "calibrate-random")
      .example("$0 convert lenet.onnx -o lenet.detml", "Convert a PyTorch export")
      .example("$0 convert lenet.onnx --calibrate digits.npy", "Activation frac from the float model's ranges on real digits")
      .example("$0 convert gpt.onnx --weight-bits 8", "8-bit weights, a quarter of the weight bytes")
      .example("$0 convert resnet18.onnx --calibrate-random 32 --activation-bits 16 --weight-bits 8", "16-bit activation formats and 8-bit weights")
      .example("$0 convert gpt.onnx --shape tokens=1,64 --json", "Fix a symbolic sequence length, JSON summary")
      .example("$0 convert big.onnx --max-folded-bytes 1000000000", "Allow constant folding to create tensors of up to 1 GB"),
  handler: async (args) => {
    const weightBits = parseWeightBits(args["weight-bits"]);
    const frac = args.frac ?? DEFAULT_FRAC;
    if (!Number.isInteger(frac) || frac < 0 || frac > 30) throw new Error(`--frac ${frac}: must be an integer from 0 to 30`);
    const shapes = parseShapes(args.shape);
    const tfjs = isTfjsModelJson(args.model);
    const output = args.output ?? `${args.model.replace(tfjs ? /\.json$/i : /\.onnx$/i, "")}.detml`;
    checkOutputFolder(output);
    const progress = progressFor("convert", args);
    const bytes = progress.stage("read", () => readFileOrFail(args.model, tfjs ? "TF.js model.json" : "ONNX model"), (b) => sizeText(b.byteLength));
    const options = { shapes, frac, source: args.model, onProgress: args.json ? undefined : progressPrinter(bytes.byteLength), maxFoldedBytes: args["max-folded-bytes"] };
    const calibrating = args.calibrate !== undefined || args["calibrate-random"] !== undefined;
    const activationBits = args["activation-bits"];
    if (activationBits !== undefined && activationBits !== 16 && activationBits !== 32) throw new Error(`--activation-bits ${activationBits}: must be 16 or 32`);
    if (activationBits !== undefined && !calibrating) throw new Error("--activation-bits needs --calibrate or --calibrate-random: the formats come from the float model's observed ranges");
    if (calibrating && args.frac !== undefined) throw new Error("--frac and --calibrate both set the activation frac: give one");
    let calibrated: Awaited<ReturnType<typeof calibrate>> | undefined;
    if (calibrating) {
      progress.begin("calibrate (run the float model) and convert");
      calibrated = await calibrate(args, (draw, data) => tfjs
        ? convertTfjsCalibrated(new TextDecoder().decode(bytes), shardsBeside(args.model), draw, data, { ...options, weightBits, biasCorrection: args["bias-correction"] }, activationBits)
        : convertOnnxCalibrated(bytes, draw, data, { ...options, baseDir: dirname(args.model), weightBits, biasCorrection: args["bias-correction"] }, activationBits));
      progress.end(`Q${calibrated.calibration.fracRange.join("..Q")}, ${calibrated.report.nodesOut} nodes`);
    }
    const converted = calibrated ?? progress.stage("convert", () => tfjs
      ? convertTfjs(new TextDecoder().decode(bytes), shardsBeside(args.model), options)
      : convertOnnx(bytes, { ...options, baseDir: dirname(args.model), weightBits }), (r) => `${r.report.nodesOut} nodes, ${humanCount(r.report.params)} parameters`);
    const { report } = converted;
    // The ONNX converter and TF.js calibration narrow as they convert (so that calibration sees the narrow weights); uncalibrated TF.js here.
    const graph = tfjs && weightBits && !calibrated ? narrowWeights(converted.graph, weightBits) : converted.graph;
    const narrowed = weightBits === undefined ? undefined : narrowSummary(graph);
    const format = "opset" in report ? `ONNX opset ${report.opset}` : `TF.js ${report.format}`;
    const encoded = progress.stage("write", () => {
      const out = encodeGraph(graph);
      writeOutput(output, out);
      return out;
    }, (out) => `${sizeText(out.byteLength)} to ${output}`);
    const id = sourceHash(encoded);
    const types = inferTypes(graph);
    const outputs = graph.outputs.map((name) => ({ name, shape: types.get(name)!.shape, frac: types.get(name)!.frac }));
    if (args.json) {
      console.log(JSON.stringify({
        ...report, outputs, output, source_hash: id, file_bytes: encoded.byteLength, frac: graph.frac, ...(narrowed && { narrow_weights: narrowed }),
        ...(calibrated && { calibration: { activation_bits: calibrated.plan.activationBits, samples: calibrated.plan.samples, frac_range: calibrated.calibration.fracRange, own_formats: calibrated.calibration.formats, lowered: calibrated.calibration.lowered, bias_corrected_layers: Number(graph.metadata.bias_corrected_layers ?? 0) } }),
      }, null, 2));
      return;
    }
    const io = (v: { name: string; shape: number[]; frac: number }) => `${v.name} ${formatShape(v.shape)} Q${v.frac}`;
    console.log(`converted ${report.source} (${format}${report.producer ? `, ${report.producer}` : ""}) -> ${output}`);
    console.log(`nodes     ${report.nodesIn} ${tfjs ? "TF.js" : "ONNX"} -> ${report.nodesOut} detml (${report.folded} folded, ${"removed" in report ? report.removed : 0} removed, ${report.batchNormsFused} BatchNorm fused)`);
    console.log(`ops       ${Object.entries(report.opCounts).map(([k, v]) => `${k} ${v}`).join(", ")}`);
    console.log(`params    ${humanCount(report.params)} (${humanBytes(report.params * 4)}), file ${humanBytes(encoded.byteLength)}`);
    console.log(`inputs    ${report.inputs.map(io).join(", ")}`);
    console.log(`outputs   ${outputs.map(io).join(", ")}`);
    if (calibrated) {
      const { plan, calibration: c } = calibrated;
      console.log(`calibrated ${plan.activationBits}-bit formats from ${plan.samples} samples: Q${c.fracRange[0]}..Q${c.fracRange[1]}, ${c.formats} inputs and nodes with their own frac, Q${plan.frac} elsewhere` +
        `${plan.widest ? ` (widest: '${plan.widest.name}', max |x| ${plan.widest.maxAbs.toPrecision(4)})` : ""}${c.lowered.length > 0 ? `; lowered for the accumulators of ${c.lowered.map((n) => `'${n}'`).join(", ")}` : ""}`);
    }
    if (narrowed) {
      const corrected = graph.metadata.bias_corrected_layers;
      console.log(`weights   ${weightBits}-bit with per-channel shifts: ${narrowed.constants} constants, ${humanCount(narrowed.params)} parameters; ` +
        `weights ${humanBytes(narrowed.i32Bytes)} -> ${humanBytes(narrowed.storedBytes)}${corrected ? `; biases corrected for the rounding in ${corrected} layers` : ""}`);
    }
    console.log(`source    ${id} (SHA-256 of the .detml)`);
  },
};

type CalibratedConversion = Calibrated<ReturnType<typeof convertOnnx> | ReturnType<typeof convertTfjs>>;

/**
 * Convert with the formats calibrated on --calibrate files or --calibrate-random N samples:
 * `convert` is the front end's calibrated conversion, given the samples (drawn for the graph
 * converted at the default frac) and their description.
 */
async function calibrate(args: Args, convert: (draw: (graph: Graph) => Map<string, FloatTensor>[], data: string) => Promise<CalibratedConversion>): Promise<CalibratedConversion> {
  const count = args["calibrate-random"];
  if (count !== undefined) {
    if (!(Number.isInteger(count) && count > 0)) throw new Error(`--calibrate-random ${count}: expected a positive integer`);
    return convert((graph) => randomSamples(graph, count, args.seed).map((s) => s.float), `${count} random samples (seed ${args.seed})`);
  }
  const files = parseNamedFiles(args.calibrate, "--calibrate");
  return convert((graph) => {
    const arrays = readNpyInputs(graph.inputs.map((v) => v.name), files);
    return samplesFromArrays(graph, arrays).map((s) => s.float);
  }, [...files.values()].join(", "));
}
