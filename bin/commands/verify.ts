/**
 * `detml verify model.onnx`: convert the model in memory, run the float model in ONNX Runtime
 * (CPU, one thread) and the converted model in detml's engines on the same inputs (.npy files,
 * or seeded random samples), and report per output the max absolute error, the max error
 * relative to the float output's range, the mean absolute error and the argmax agreement of
 * classifier outputs (per row) and sequence outputs [1, T, V] (per position). The wasm engine
 * runs the FAST build unless `--build canonical`; the canonical build is then also run and
 * checked bit for bit against the first engine ("canonical == ref: yes"). `--detml FILE` checks
 * a model converted before (with --calibrate, --weight-bits...) instead of converting here. It
 * reports, it does not judge: exit 0 unless `--tolerance` is exceeded.
 */
import { basename, dirname } from "node:path";
import type { CommandModule } from "yargs";
import type { Build } from "../../compiler/compile.js";
import { convertOnnx } from "../../converter/onnx/index.js";
import { convertTfjsFile, isTfjsModelJson, tfjsOracleFile } from "../../converter/tfjs/index.js";
import type { Graph } from "../../lib/graph/ir.js";
import { InputError } from "../../lib/inputs.js";
import { loadModel, readFileOrFail } from "../../lib/model-files.js";
import { fidelityNotes, type OutputComparison } from "../../lib/verify/compare.js";
import { engineByName, ENGINES } from "../../verify/engines.js";
import { randomSamples, readNpyInputs, samplesFromArrays, shapesFromArrays, type IntRange, type NpyInput } from "../../lib/verify/inputs.js";
import { onnxRuntimeOracle, type OracleValue } from "../../lib/verify/oracle.js";
import { progressFor, sizeText } from "../progress.js";
import { verifyGraph, type VerifyReport } from "../../verify/verify.js";
import { parseShapes } from "./convert.js";
import { formatShape, parseNamedFiles, table } from "./options.js";

interface Args {
  model: string;
  input?: string[];
  random?: number;
  /** seed and engine are optional in the type only (yargs fills the defaults) so bin/detml.ts's commands array type-checks. */
  seed?: number;
  shape?: string[];
  frac?: number;
  detml?: string;
  "int-range"?: string[];
  engine?: string[];
  build?: Build;
  tolerance?: number;
  json: boolean;
}

/** The graph of `--detml FILE`, refused when an input is not one of the float model's `inputs` or has another shape. */
function convertedBefore(path: string, inputs: readonly OracleValue[]): { graph: Graph } {
  const { graph } = loadModel(path);
  for (const v of graph.inputs) {
    const float = inputs.find((i) => i.name === v.name);
    const fits = float && float.shape.length === v.shape.length && float.shape.every((d, i) => typeof d !== "number" || d === v.shape[i]);
    if (!fits) {
      throw new InputError(`--detml ${path}: input '${v.name}' ${formatShape(v.shape)} is not an input of the float model (${inputs.map((i) => `${i.name} [${i.shape.join(",")}]`).join(", ")}): was it converted from this model?`);
    }
  }
  return { graph };
}

/** Parse `--int-range NAME=LO:HI` (one input) and `LO:HI` (every other integer input). */
function parseIntRanges(values: string[] | undefined, names: readonly string[]): Record<string, IntRange> {
  const bare: IntRange[] = [];
  const named: Record<string, IntRange> = {};
  for (const v of values ?? []) {
    const m = /^(?:(.+)=)?(-?\d+):(-?\d+)$/.exec(v);
    if (!m || Number(m[2]) > Number(m[3])) throw new Error(`--int-range ${v}: expected NAME=LO:HI or LO:HI with integers LO <= HI`);
    const range = { lo: Number(m[2]), hi: Number(m[3]) };
    if (m[1] === undefined) bare.push(range);
    else if (!names.includes(m[1])) throw new Error(`--int-range ${v}: the model has no input '${m[1]}' (inputs: ${names.join(", ")})`);
    else named[m[1]] = range;
  }
  if (bare.length > 1) throw new Error("--int-range LO:HI given twice (name the inputs: NAME=LO:HI)");
  return { ...Object.fromEntries(bare.length ? names.map((n) => [n, bare[0]]) : []), ...named };
}

const fmt = (v: number) => (v === 0 ? "0" : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toPrecision(4) : v.toExponential(2));

function printReport(report: VerifyReport, header: string[]): void {
  for (const line of header) console.log(line);
  for (const e of report.engines) {
    const same = e.identicalTo ? `, ${e.identicalTo.identical ? "bit-identical to" : "DIFFERS from"} ${e.identicalTo.engine}` : "";
    console.log(`\nengine ${e.engine}${e.build ? ` (${e.build} build)` : ""}: ${report.samples} sample${report.samples === 1 ? "" : "s"} in ${e.ms.toFixed(1)} ms${same}`);
    const rows = [["output", "shape", "max abs err", "max rel err", "mean abs err", "float range", "argmax agree", "notes"]];
    for (const o of e.outputs) rows.push(outputRow(o));
    console.log(table(rows));
  }
  const c = report.canonical;
  if (c) console.log(`\ncanonical == ${c.against}: ${c.identical === c.samples ? "yes" : "NO"} (${c.identical}/${c.samples} samples bit-identical, canonical build in ${c.ms.toFixed(1)} ms)`);
}

/** The canonical check's failure for --tolerance, if it found a sample that differs. */
function canonicalMismatch(report: VerifyReport): string {
  const c = report.canonical;
  return c && c.identical < c.samples ? `canonical build not bit-identical to ${c.against} on ${c.samples - c.identical}/${c.samples} samples` : "";
}

function outputRow(o: OutputComparison): string[] {
  const notes = [
    o.integer ? `integer: ${o.mismatches} mismatches` : "",
    ...fidelityNotes(o),
    o.nonFinite ? `${o.nonFinite} non-finite float values skipped` : "",
  ].filter(Boolean).join(", ");
  const argmax = o.argmax ? `${o.argmax.agree}/${o.argmax.total}${o.argmax.per === "position" ? " positions" : ""} (${o.argmax.percent.toFixed(2)}%)` : "-";
  return [o.name, formatShape(o.shape), fmt(o.maxAbsError), fmt(o.maxRelError), fmt(o.meanAbsError), fmt(o.range), argmax, notes];
}

export const verifyCommand: CommandModule<object, Args> = {
  command: "verify <model>",
  describe: "Compare a converted model against the float model (ONNX Runtime, or TF.js for a model.json) on the same inputs",
  builder: (y) =>
    y
      .positional("model", { type: "string", demandOption: true, describe: "Path to an .onnx model or a TF.js model.json (graph or layers model)" })
      .option("input", { alias: "i", type: "string", array: true, describe: "Input .npy: FILE for a single-input model, or NAME=FILE (repeatable); a leading batch N against a model input [1,...] runs N samples" })
      .option("random", { type: "number", describe: "Use N seeded random samples: normal(0,1) reals, uniform integers in the valid range (default: 1 sample when no --input)" })
      .option("seed", { type: "number", default: 0, describe: "Seed of --random" })
      .option("shape", { type: "string", array: true, describe: "Static input shape NAME=D0,D1,... (repeatable; default: from the .npy files with batch 1, else as detml convert)" })
      .option("frac", { type: "number", describe: "Activation fractional bits of the converted model (default 16)" })
      .option("detml", { type: "string", describe: "Check this .detml, converted from <model> before (e.g. with --calibrate, --activation-bits or --weight-bits), instead of converting <model> here; its inputs must be the float model's" })
      .conflicts("detml", ["frac", "shape"])
      .option("int-range", { type: "string", array: true, describe: "Range of random integer inputs: NAME=LO:HI or LO:HI (inclusive; default: read off Gather, 0:1 for bool)" })
      .option("engine", { type: "string", array: true, default: ["ref", "wasm"], choices: ENGINES.map((e) => e.name), describe: "detml engines to run: ref (reference executor), wasm (compiled, JS engine), vm (compiled, rollup VM), evm (EVM contracts on an in-process chain); the first is the one the others must match bit for bit" })
      .option("build", { type: "string", choices: ["fast", "canonical"] as const, describe: "Build the wasm engine runs: fast (SIMD, the same bytes sooner; the canonical build is then also run and checked against the first engine) or canonical (the provable module; the vm engine always runs it) (default: fast)" })
      .option("tolerance", { type: "number", describe: "Exit 1 when an output's max error relative to its range exceeds this" })
      .option("json", { type: "boolean", default: false, describe: "Print the report as JSON" })
      .conflicts("input", "random")
      .example("$0 verify mnist.onnx --input digits.npy", "Compare on real inputs (N digits, one by one)")
      .example("$0 verify gpt.onnx --random 10 --int-range tokens=0:50256 --json", "10 random samples, JSON report")
      .example("$0 verify model.onnx --random 5 --tolerance 0.01", "Exit 1 if any relative error exceeds 1%")
      .example("$0 verify resnet18.onnx --detml r18-a16w8.detml --random 20", "Check a calibrated 8-bit conversion against the float model"),
  handler: async (args) => {
    if (args.random !== undefined && !(Number.isInteger(args.random) && args.random > 0)) throw new Error(`--random ${args.random}: expected a positive integer`);
    const tfjs = isTfjsModelJson(args.model);
    const progress = progressFor("verify", args);
    progress.begin("load the float model");
    const bytes = tfjs ? new Uint8Array() : readFileOrFail(args.model, "ONNX model");
    const oracle = tfjs ? await tfjsOracleFile(args.model) : await onnxRuntimeOracle(bytes, args.model);
    progress.end(tfjs ? undefined : sizeText(bytes.byteLength));
    try {
      const inputNames = oracle.inputs.map((v) => v.name);
      const shapes = parseShapes(args.shape);
      const files = parseNamedFiles(args.input, "--input");
      const arrays: Map<string, NpyInput> | undefined = files.size > 0 ? readNpyInputs(inputNames, files) : undefined;
      if (arrays) Object.assign(shapes, shapesFromArrays(oracle.inputs, arrays, shapes));
      const { graph } = args.detml !== undefined ? convertedBefore(args.detml, oracle.inputs) : progress.stage("convert", () => tfjs
        ? convertTfjsFile(args.model, { shapes, frac: args.frac })
        : convertOnnx(bytes, { shapes, frac: args.frac, baseDir: dirname(args.model), source: args.model }), (r) => `${r.graph.nodes.length} detml nodes`);
      const count = args.random ?? 1;
      const seed = args.seed ?? 0;
      const samples = arrays
        ? samplesFromArrays(graph, arrays)
        : randomSamples(graph, count, seed, {
          intRanges: parseIntRanges(args["int-range"], inputNames),
          dtypes: Object.fromEntries(oracle.inputs.map((v) => [v.name, v.dtype])),
        });
      const engines = (args.engine ?? ["ref", "wasm"]).map((name) => engineByName(name, args.build));
      progress.begin("run the float model and the engines");
      const report = await verifyGraph(graph, oracle, samples, { engines });
      progress.end(`${samples.length} sample${samples.length === 1 ? "" : "s"}; ${report.engines.map((e) => `${e.engine} ${(e.ms / 1000).toFixed(1)} s`).join(", ")}${report.canonical ? `, canonical check ${(report.canonical.ms / 1000).toFixed(1)} s` : ""}`);
      const source = arrays ? [...arrays].map(([name, a]) => `${name}=${a.path}`).join(", ") : `${count} random sample${count === 1 ? "" : "s"} (seed ${seed})`;
      if (args.json) {
        console.log(JSON.stringify({ model: args.model, inputs: source, ...report }, null, 2));
      } else {
        printReport(report, [
          `model   ${basename(args.model)}: ${graph.nodes.length} detml nodes, inputs ${graph.inputs.map((v) => `${v.name} ${formatShape(v.shape)} Q${v.frac}`).join(", ")}`,
          `oracle  ${report.oracle}: ${report.oracleMs.toFixed(1)} ms`,
          `inputs  ${source}`,
        ]);
      }
      if (args.tolerance !== undefined) {
        const over = report.engines.flatMap((e) => e.outputs.filter((o) => o.maxRelError > args.tolerance!).map((o) => `${e.engine}/${o.name} ${fmt(o.maxRelError)}`));
        const differs = report.engines.filter((e) => e.identicalTo && !e.identicalTo.identical).map((e) => e.engine);
        const weak = report.engines.flatMap((e) => e.outputs.flatMap((o) => fidelityNotes(o).map((note) => `${e.engine}/${o.name}: ${note}`)));
        const canonical = canonicalMismatch(report);
        if (over.length > 0 || differs.length > 0 || weak.length > 0 || canonical) {
          throw new Error([
            over.length ? `relative error above --tolerance ${args.tolerance}: ${over.join(", ")}` : "",
            differs.length ? `engines not bit-identical to ${report.engines[0].engine}: ${differs.join(", ")}` : "",
            canonical,
            weak.length ? `fidelity: ${weak.join("; ")}` : "",
          ].filter(Boolean).join("; "));
        }
      }
    } finally {
      await oracle.dispose?.();
    }
  },
};
