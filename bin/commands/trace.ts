/**
 * `detml trace model.wasm --input x.npy`: run a compiled model in the rollup VM (vm/) and report
 * the step count, speed, final state hash and the outputs (dequantized when the module carries
 * its manifest); `--ops` adds every segment's steps and boundary hash and checks them against the
 * JS engine's fast path. Also home of the loader shared with `detml prove` and `detml dispute`:
 * .npy files read as `detml run` reads them (lib/model-files.ts readInputs: quantized at each
 * input's frac, integers only for an integer input) and packed into the input byte stream by the
 * manifest (abi/), or raw bytes with --raw-input. A module with a weights image is loaded with
 * the image beside it (abi/ loadWeightsImage), which its model id covers.
 */
import type { CommandModule } from "yargs";
import { checkModelId, compileWasm, CUSTOM_SECTION, decodeManifest, loadWeightsImage, type Manifest } from "../../abi/manifest.js";
import { withWeights } from "../../vm/decode.js";
import { packInputs, unpackTensors } from "../../abi/tensors.js";
import { readFileOrFail, readInputs } from "../../lib/model-files.js";
import {
  DEFAULT_STEP_BUDGET, decodeModule, fastBoundaries, moduleIdOfBytes, statusText, Status, toHex, type DecodeOptions, type DecodedModule, type FastRun,
} from "../../vm/index.js";
import { traceModule, type TraceResult } from "../../vm/trace.js";
import { formatShape, humanCount, parseNamedFiles, table } from "./options.js";
import { progressFor, type Progress } from "../progress.js";

export interface VmInputArgs {
  model: string;
  input?: string[];
  "raw-input"?: string;
  sample: number;
  "step-budget"?: number;
}

export interface LoadedVmModel {
  bytes: Uint8Array;
  mod: DecodedModule;
  /** How the module was decoded (its step budget), for a Session over it. */
  decode: DecodeOptions;
  /** The module's one identity (vm/identity.ts). */
  id: string;
  manifest?: Manifest;
  input: Uint8Array;
}

/**
 * Load a module for the VM: decoded (a one-line error naming the file otherwise), its manifest,
 * its weights image beside it, and its model id checked against the manifest's. Shared by the
 * commands that run a module in the VM (trace, prove, dispute) and the chain agents.
 */
export function loadVmModule(path: string, stepBudget?: number, progress?: Progress): Omit<LoadedVmModel, "input"> {
  progress?.begin("load");
  const bytes = readFileOrFail(path, "WASM module");
  const decode: DecodeOptions = { stepBudget };
  let mod: DecodedModule;
  try {
    mod = decodeModule(bytes, decode);
  } catch (e) {
    if (!WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>)) compileWasm(bytes, path); // names the file
    throw e;
  }
  const section = mod.customSections.find((s) => s.name === CUSTOM_SECTION);
  const manifest = section ? decodeManifest(section.bytes, path) : undefined;
  const weights = manifest && loadWeightsImage(manifest, path);
  if (weights) {
    mod = withWeights(mod, weights);
    decode.weights = weights; // a Session over the module decodes it with its image
  }
  const id = (manifest && checkModelId(bytes, manifest, path, mod)) || toHex(moduleIdOfBytes(bytes, decode, mod));
  progress?.end(`${mod.program.length} instructions${weights ? `, weights image ${manifest!.weights!.file}` : ""}, model id checked`);
  return { bytes, mod, decode, id, manifest };
}

/** Load a module and its input bytes (from .npy through the manifest, or raw). */
export function loadVmModel(args: VmInputArgs, progress?: Progress): LoadedVmModel {
  const loaded = loadVmModule(args.model, args["step-budget"], progress);
  const { manifest } = loaded;
  if (args["raw-input"] !== undefined) {
    if (args.input?.length) throw new Error("give either --input (.npy) or --raw-input (bytes), not both");
    return { ...loaded, input: readFileOrFail(args["raw-input"], "raw input") };
  }
  const files = parseNamedFiles(args.input, "--input");
  if (!manifest) {
    if (files.size > 0) throw new Error(`${args.model} has no '${CUSTOM_SECTION}' manifest, so .npy inputs cannot be laid out; use --raw-input`);
    return { ...loaded, input: new Uint8Array(0) };
  }
  if (files.size === 0 && manifest.inputs.length > 0) {
    throw new Error(`no --input given; the model takes ${manifest.inputs.map((s) => `${s.name} ${formatShape(s.shape)}`).join(", ")}`);
  }
  // The same input path as `detml run` (lib/model-files.ts readInputs): integer inputs take integers only.
  const samples = readInputs(manifest, files);
  const sample = samples[args.sample];
  if (!Number.isInteger(args.sample) || !sample) throw new Error(`--sample ${args.sample} is outside the batch of ${samples.length} (0..${samples.length - 1})`);
  return { ...loaded, input: packInputs(manifest.inputs, sample) };
}

/** The builder options shared by trace and prove. */
export function vmInputOptions<T>(y: import("yargs").Argv<T>) {
  return y
    .positional("model", { type: "string", demandOption: true, describe: "A compiled detml .wasm (canonical build)" })
    .option("input", { alias: "i", type: "string", array: true, describe: "Input .npy: FILE, or NAME=FILE per input (repeatable)" })
    .option("raw-input", { type: "string", describe: "Input byte stream file instead of .npy (for modules without a manifest)" })
    .option("sample", { type: "number", default: 0, describe: "Which sample of a batched .npy ([N,...] for a [1,...] input)" })
    .option("step-budget", {
      type: "number",
      describe: `Steps a segment may run before it traps, for a module that does not commit to one (default ${DEFAULT_STEP_BUDGET}; a module compiled by detml carries its own)`,
    });
}

interface TraceArgs extends VmInputArgs {
  json: boolean;
  ops: boolean;
}

export const traceCommand: CommandModule<object, TraceArgs> = {
  command: "trace <model>",
  describe: "Run a compiled model in the rollup VM: steps, speed, final state hash, outputs",
  builder: (y) =>
    vmInputOptions(y)
      .option("json", { type: "boolean", default: false, describe: "Print the result as JSON" })
      .option("ops", { type: "boolean", default: false, describe: "Per-segment step counts and boundary hashes (checked against the JS engine)" })
      .example("$0 trace mnist.wasm --input digits.npy --sample 3 --ops", "Trace one digit, op by op"),
  handler: (args) => {
    const progress = progressFor("trace", args);
    const { bytes, mod, manifest, input, id } = loadVmModel(args, progress);
    const t = progress.stage("run in the VM", () => traceModule(mod, input), (r) => `${humanCount(r.totalSteps)} steps, ${r.boundaries.length} boundaries`);
    // The engine cannot count steps: where the VM's budget ran out it might never return, so it runs the segments before.
    const budgetTrap = t.trap?.status === Status.STEP_LIMIT ? t.trap.segment : undefined;
    const engine = args.ops ? progress.stage("run in the JS engine", () => fastBoundaries(bytes, input, { mod, segments: budgetTrap })) : undefined;
    const agree = engine ? hostAgrees(engine, t) : undefined;
    const outputs = manifest && t.status === Status.HALTED ? unpackTensors(manifest.outputs, t.output) : [];
    const perSecond = t.ms > 0 ? t.totalSteps / (t.ms / 1000) : 0;
    if (args.json) {
      console.log(JSON.stringify({
        module: args.model, model_id: id, step_budget: mod.stepBudget, status: statusText(t.status), steps: t.totalSteps, ms: Number(t.ms.toFixed(3)), steps_per_second: Math.round(perSecond),
        final_state_hash: toHex(t.finalHash), final_boundary: t.finalBoundary && toHex(t.finalBoundary), output_bytes: toHex(t.output),
        outputs: Object.fromEntries(outputs.map((o, i) => [manifest!.outputs[i].name, { shape: o.shape, frac: o.frac, values: Array.from(o.toFloat()) }])),
        ...(args.ops ? {
          engine_boundaries_agree: agree?.agree, engine_note: agree?.note,
          segments: t.segments.map((s) => ({ segment: s.index, export: s.export, steps: s.steps, ms: Number(s.ms.toFixed(3)), boundary: toHex(s.boundary) })),
        } : {}),
      }));
      if (agree?.agree === false) process.exitCode = 1;
      return;
    }
    console.log(`${args.model}: model id ${id}`);
    console.log(`${mod.segments.length} segments, ${mod.program.length} instructions, ${mod.memoryBytes / 65536} pages, step budget ${mod.stepBudget} per segment`);
    console.log(`${statusText(t.status)} after ${t.totalSteps} steps in ${t.ms.toFixed(1)} ms (${humanCount(perSecond)} steps/s)`);
    if (t.status !== Status.HALTED) {
      const last = t.segments[t.segments.length - 1];
      console.log(`trap in segment ${last.index} (${last.export}) at step ${last.steps - 1}, pc ${t.finalState.pc}`);
    }
    console.log(`final state hash ${toHex(t.finalHash)}`);
    if (t.finalBoundary) console.log(`final boundary   ${toHex(t.finalBoundary)}`);
    if (args.ops) {
      console.log(table([["segment", "export", "steps", "ms", "boundary before"],
        ...t.segments.map((s) => [String(s.index), s.export, String(s.steps), s.ms.toFixed(2), toHex(s.boundary)])]));
      console.log(agree!.agree ? `the JS engine agrees with the VM: ${agree!.note}` : `WARNING: the JS engine differs from the VM: ${agree!.note}`);
      if (!agree!.agree) process.exitCode = 1;
    }
    if (outputs.length === 0) console.log(`output ${t.output.length} bytes: ${toHex(t.output.slice(0, 64))}${t.output.length > 64 ? "..." : ""}`);
    outputs.forEach((o, i) => {
      const values = o.toFloat();
      const shown = Array.from(values.slice(0, 10), (v) => Number(v.toFixed(5)));
      console.log(`${manifest!.outputs[i].name} ${formatShape(o.shape)} Q${o.frac}: [${shown.join(", ")}${values.length > 10 ? `, ... ${values.length - 10} more` : ""}]`);
    });
  },
};

/**
 * Whether the JS engine's run matches the VM's: the same boundary hashes, and a trap in the same
 * segment on both sides or on neither. The engine failing by itself (its own stack) is no verdict:
 * it is reported, and the VM's run stands.
 */
export function hostAgrees(engine: FastRun, vm: TraceResult): { agree: boolean; note: string } {
  if (vm.trap?.status === Status.STEP_LIMIT) {
    const k = vm.trap.segment;
    const same = engine.boundaries.length === k + 1 && engine.boundaries.every((b, j) => toHex(b.hash) === toHex(vm.boundaries[j].hash));
    return { agree: same, note: `${same ? "the same" : "different"} boundary hashes up to segment ${k}, where the VM's step budget runs out (the engine cannot count steps)` };
  }
  if (engine.hostFailure) return { agree: true, note: `the engine failed by itself in segment ${engine.hostFailure.segment} (${engine.hostFailure.message}); the VM decides` };
  const same = engine.boundaries.length === vm.boundaries.length && engine.boundaries.every((b, k) => toHex(b.hash) === toHex(vm.boundaries[k].hash));
  if (!same) return { agree: false, note: `${engine.boundaries.length} engine boundaries vs ${vm.boundaries.length} in the VM, first difference at boundary ${engine.boundaries.findIndex((b, k) => toHex(b.hash) !== toHex(vm.boundaries[k]?.hash ?? new Uint8Array(32)))}` };
  if ((engine.trap?.segment ?? -1) !== (vm.trap?.segment ?? -1)) {
    const side = (t?: { segment: number; message: string }) => (t ? `traps in segment ${t.segment} (${t.message})` : "completes");
    return { agree: false, note: `the engine ${side(engine.trap)}, the VM ${side(vm.trap)}` };
  }
  return { agree: true, note: `${engine.boundaries.length} boundary hashes${vm.trap ? `, both trap in segment ${vm.trap.segment}` : ""}` };
}
