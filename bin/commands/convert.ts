/**
 * `detml convert model.onnx -o model.detml`: translate an ONNX model (the PyTorch route) into a
 * .detml fixed-point graph, print what the conversion did (nodes in/out, folded constants, fused
 * BatchNorms, parameters, the source hash), or `--json`. Large models show a progress line on
 * stderr when it is a terminal.
 */
import { dirname } from "node:path";
import type { CommandModule } from "yargs";
import { convertOnnx } from "../../converter/onnx/index.js";
import { convertTfjs, isTfjsModelJson, shardsBeside } from "../../converter/tfjs/index.js";
import { encodeGraph, sourceHash } from "../../lib/graph/codec.js";
import { inferTypes } from "../../lib/graph/validate.js";
import { readFileOrFail } from "../../lib/model-files.js";
import { DEFAULT_FRAC } from "../../lib/tensor/fixed.js";
import { formatShape, humanBytes, humanCount, checkOutputFolder, writeOutput } from "./options.js";

interface Args {
  model: string;
  output?: string;
  shape?: string[];
  frac: number;
  json: boolean;
  "max-folded-bytes"?: number;
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
      .option("frac", { type: "number", default: DEFAULT_FRAC, describe: "Fractional bits of activations (Q16.16 by default)" })
      .option("json", { type: "boolean", default: false, describe: "Print the conversion summary as JSON" })
      .option("max-folded-bytes", { type: "number", describe: "Largest tensor (bytes, 4 per element) that constant folding may create; default: 64 MiB or the model's largest weight if larger" })
      .example("$0 convert lenet.onnx -o lenet.detml", "Convert a PyTorch export")
      .example("$0 convert gpt.onnx --shape tokens=1,64 --json", "Fix a symbolic sequence length, JSON summary")
      .example("$0 convert big.onnx --max-folded-bytes 1000000000", "Allow constant folding to create tensors of up to 1 GB"),
  handler: (args) => {
    const { frac } = args;
    if (!Number.isInteger(frac) || frac < 0 || frac > 30) throw new Error(`--frac ${frac}: must be an integer from 0 to 30`);
    const shapes = parseShapes(args.shape);
    const tfjs = isTfjsModelJson(args.model);
    const output = args.output ?? `${args.model.replace(tfjs ? /\.json$/i : /\.onnx$/i, "")}.detml`;
    checkOutputFolder(output);
    const bytes = readFileOrFail(args.model, tfjs ? "TF.js model.json" : "ONNX model");
    const options = { shapes, frac, source: args.model, onProgress: progressPrinter(bytes.byteLength), maxFoldedBytes: args["max-folded-bytes"] };
    const { graph, report } = tfjs
      ? convertTfjs(new TextDecoder().decode(bytes), shardsBeside(args.model), options)
      : convertOnnx(bytes, { ...options, baseDir: dirname(args.model) });
    const format = "opset" in report ? `ONNX opset ${report.opset}` : `TF.js ${report.format}`;
    const encoded = encodeGraph(graph);
    writeOutput(output, encoded);
    const id = sourceHash(encoded);
    const types = inferTypes(graph);
    const outputs = graph.outputs.map((name) => ({ name, shape: types.get(name)!.shape, frac: types.get(name)!.frac }));
    if (args.json) {
      console.log(JSON.stringify({ ...report, outputs, output, source_hash: id, file_bytes: encoded.byteLength, frac: graph.frac }, null, 2));
      return;
    }
    const io = (v: { name: string; shape: number[]; frac: number }) => `${v.name} ${formatShape(v.shape)} Q${v.frac}`;
    console.log(`converted ${report.source} (${format}${report.producer ? `, ${report.producer}` : ""}) -> ${output}`);
    console.log(`nodes     ${report.nodesIn} ${tfjs ? "TF.js" : "ONNX"} -> ${report.nodesOut} detml (${report.folded} folded, ${"removed" in report ? report.removed : 0} removed, ${report.batchNormsFused} BatchNorm fused)`);
    console.log(`ops       ${Object.entries(report.opCounts).map(([k, v]) => `${k} ${v}`).join(", ")}`);
    console.log(`params    ${humanCount(report.params)} (${humanBytes(report.params * 4)}), file ${humanBytes(encoded.byteLength)}`);
    console.log(`inputs    ${report.inputs.map(io).join(", ")}`);
    console.log(`outputs   ${outputs.map(io).join(", ")}`);
    console.log(`source    ${id} (keccak256 of the .detml)`);
  },
};
