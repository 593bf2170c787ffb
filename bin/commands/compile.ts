/**
 * `detml compile model.detml -o model.wasm`: compile a model to a detml WASM module (the
 * canonical provable build, or `--fast` for the SIMD build of the fast path) and print its size,
 * memory plan, segments and compile time (`--json`: one JSON object). With its weights outside
 * the code (`--weights-image`, docs/abi.md) it also writes `<output>.weights` beside the module
 * (its tree, hashed by the compiler, is in this machine's cache: loaders do not hash it again).
 * `--state INPUT=OUTPUT` (repeatable) keeps a state tensor in module memory, out of the I/O
 * streams (docs/abi.md "State": a key/value cache, past=present).
 * `--target evm -o out/`
 * writes `out/<model>.evm.json` instead: the model as EVM contracts (compiler/evm, docs/evm.md);
 * `--target evm-precompiles` writes `out/<model>.evm-precompiles.json`: one contract calling the
 * DNN-operator precompiles, which only the embedded chain (`--chain local`) has.
 * `detml lint file.wasm`:
 * check any .wasm against the provable subset the rollup VM executes.
 */
import type { CommandModule } from "yargs";
import { basename, dirname, join } from "node:path";
import { compile } from "../../compiler/compile.js";
import { parseStatePairs } from "../../compiler/state.js";
import { weightsFileFor, type WeightsImageMode } from "../../compiler/weights-image.js";
import { progressFor, sizeText } from "../progress.js";
import { lintWasm } from "../../compiler/lint.js";
import { loadModel, readFileOrFail } from "../../lib/model-files.js";
import { humanBytes, table, checkOutputFolder, writeOutput } from "./options.js";

interface CompileArgs {
  model: string;
  output?: string;
  fast: boolean;
  wat?: string;
  json: boolean;
  "step-budget"?: number;
  target?: "wasm" | "evm" | "evm-precompiles";
  "weights-image": WeightsImageMode;
  state?: string[];
}

export const compileCommand: CommandModule<object, CompileArgs> = {
  command: "compile <model>",
  describe: "Compile a .detml model to deterministic integer-only WASM (the provable canonical build by default)",
  builder: (y) =>
    y
      .positional("model", { type: "string", demandOption: true, describe: "Path to a .detml file" })
      .option("output", { alias: "o", type: "string", describe: "Output .wasm path (default: the model path with .wasm)" })
      .option("fast", { type: "boolean", default: false, describe: "Build the SIMD fast-path module instead (not provable; same memory at op boundaries)" })
      .option("wat", { type: "string", describe: "Also write the module as WebAssembly text to this path" })
      .option("step-budget", {
        type: "number",
        describe: "Steps one op (segment) may run in the VM before it traps; part of the model id (default: from the largest op's work, at least 2^32)",
      })
      .option("json", { type: "boolean", default: false, describe: "Print the result as JSON" })
      .option("state", { type: "string", array: true, describe: "INPUT=OUTPUT (repeatable): keep INPUT in module memory, replaced by OUTPUT at the end of every run, outside the I/O streams (a key/value cache: past=present; docs/abi.md \"State\")" })
      .option("weights-image", {
        type: "string", choices: ["auto", "always", "never"] as const, default: "auto" as const,
        describe: "Write the weights to <output>.weights instead of data segments: auto when they pass 16 MiB (docs/abi.md)",
      })
      .option("target", { type: "string", choices: ["wasm", "evm", "evm-precompiles"] as const, default: "wasm" as const, describe: "wasm: the detml WASM module; evm: EVM contracts (model + weight data), written as <output folder>/<model>.evm.json; evm-precompiles: a contract calling the DNN-operator precompiles (embedded chain only), written as <output folder>/<model>.evm-precompiles.json" })
      .example("$0 compile mnist.detml -o mnist.wasm", "Compile, lint and report")
      .example("$0 compile mnist.detml --target evm -o out/", "Compile to EVM contracts: out/mnist.evm.json"),
  handler: async (args) => {
    if (args.target === "evm") return compileToEvm(args);
    if (args.target === "evm-precompiles") return compileToEvmPrecompiles(args);
    const output = args.output ?? args.model.replace(/(\.detml)?$/, ".wasm");
    for (const path of [output, args.wat ?? output]) checkOutputFolder(path);
    const model = loadModel(args.model);
    const progress = progressFor("compile", args);
    const weightsFile = weightsFileFor(output);
    // The graph and its hash as loadModel made them: decoding and hashing 330 MiB again costs 24 s.
    const result = compile(model.graph, {
      build: args.fast ? "fast" : "canonical", source: args.model, text: args.wat !== undefined, stepBudget: args["step-budget"], sourceHash: model.sourceHash,
      weightsImage: args["weights-image"], weightsFile, state: parseStatePairs(args.state ?? []), onStage: (stage) => progress.begin(stage),
    });
    progress.end();
    writeOutput(output, result.wasm);
    const image = result.weights;
    if (image) {
      progress.stage("write weights image", () => writeOutput(join(dirname(output), image.file), image.bytes), () => `${sizeText(image.bytes.length)} to ${image.file}`);
    }
    if (args.wat !== undefined) writeOutput(args.wat, result.text!);
    const { stats, manifest } = result;
    if (args.json) {
      console.log(JSON.stringify({
        model_id: manifest.model_id, source_hash: manifest.source_hash, step_budget: manifest.step_budget, output, build: manifest.build, wasm_bytes: stats.wasmBytes, memory_bytes: stats.memoryBytes,
        peak_bytes: stats.peakBytes, pages: manifest.memory.pages, segments: stats.segments, nodes: stats.nodes, folded: stats.folded,
        lint: manifest.build === "canonical" ? "passed" : "not applicable", compile_ms: Number(stats.totalMs.toFixed(2)),
        stages: Object.fromEntries(stats.stages.map((s) => [s.stage, Number(s.ms.toFixed(2))])), memory: manifest.memory,
        ...(manifest.weights && { weights: manifest.weights }), ...(manifest.state && { state: manifest.state }),
      }));
      return;
    }
    if (manifest.model_id) console.log(`model id  ${manifest.model_id} (step budget ${manifest.step_budget} per op)`);
    console.log(`source    ${manifest.source_hash} (${args.model})`);
    console.log(`wrote     ${output} (${humanBytes(stats.wasmBytes)}, ${manifest.build} build${manifest.build === "canonical" ? ", lint passed" : ""})`);
    if (manifest.weights) console.log(`weights   ${dirname(output)}/${manifest.weights.file} (${humanBytes(manifest.weights.bytes)} at offset ${manifest.weights.offset}, root ${manifest.weights.root})`);
    for (const s of manifest.state ?? []) console.log(`state     ${s.input} <- ${s.output} (${humanBytes(s.bytes)} at offset ${s.offset}, kept in memory, not in the I/O streams)`);
    console.log(`ops       ${stats.nodes} nodes -> ${stats.segments} segments (${stats.folded} folded at compile time)`);
    console.log(`memory    ${humanBytes(stats.memoryBytes)} in ${manifest.memory.pages} pages; activation peak ${humanBytes(stats.peakBytes)}`);
    console.log(`compiled  in ${stats.totalMs.toFixed(1)} ms (${stats.stages.map((s) => `${s.stage} ${s.ms.toFixed(1)}`).join(", ")})`);
  },
};

/** `--target evm`: the artifact in the output folder (default: the model's folder), and a summary. */
async function compileToEvm(args: CompileArgs): Promise<void> {
  const { compileEvm, overGasCap, writeEvmArtifact } = await import("../../compiler/evm/index.js");
  const model = loadModel(args.model);
  const started = performance.now();
  const artifact = compileEvm(model.graph);
  const ms = performance.now() - started;
  const path = writeEvmArtifact(args.output ?? dirname(args.model), basename(args.model).replace(/\.detml$/, ""), artifact);
  const summary = {
    output: path, model_bytes: artifact.model.runtimeBytes, data_contracts: artifact.data.length, weight_bytes: artifact.weightBytes,
    macs: artifact.macs, memory_bytes: artifact.memoryBytes, compile_ms: Number(ms.toFixed(2)), over_gas_cap: overGasCap(artifact) ?? null,
  };
  if (args.json) {
    console.log(JSON.stringify(summary));
    return;
  }
  console.log(`wrote     ${path}`);
  console.log(`contracts model ${humanBytes(summary.model_bytes)} + ${summary.data_contracts} data contract${summary.data_contracts === 1 ? "" : "s"} (${humanBytes(summary.weight_bytes)} of packed weights)`);
  console.log(`work      ${summary.macs} multiply-accumulates per inference; ${humanBytes(summary.memory_bytes)} of EVM memory`);
  console.log(`compiled  in ${ms.toFixed(1)} ms`);
  if (summary.over_gas_cap) console.log(`warning   ${summary.over_gas_cap}: it deploys, but no single transaction can run it`);
}

/** `--target evm-precompiles`: the artifact in the output folder (default: the model's folder), and a summary. */
async function compileToEvmPrecompiles(args: CompileArgs): Promise<void> {
  const { compileEvmPrecompiles, writeEvmPrecompilesArtifact } = await import("../../compiler/evm/precompiles.js");
  const model = loadModel(args.model);
  const artifact = compileEvmPrecompiles(model.graph);
  const path = writeEvmPrecompilesArtifact(args.output ?? dirname(args.model), basename(args.model).replace(/\.detml$/, ""), artifact);
  const summary = {
    output: path, model_bytes: artifact.model.runtimeBytes, data_contracts: artifact.data.length, weight_bytes: artifact.weightBytes,
    precompile_calls: artifact.calls, macs: artifact.macs, memory_bytes: artifact.memoryBytes,
  };
  if (args.json) {
    console.log(JSON.stringify(summary));
    return;
  }
  console.log(`wrote     ${path}`);
  console.log(`contracts model ${humanBytes(summary.model_bytes)} + ${summary.data_contracts} data contract${summary.data_contracts === 1 ? "" : "s"} (${humanBytes(summary.weight_bytes)} of weights and call headers)`);
  console.log(`work      ${summary.precompile_calls} precompile calls, ${summary.macs} multiply-accumulates per inference; ${humanBytes(summary.memory_bytes)} of EVM memory`);
  console.log("note      the DNN-operator precompiles exist only on the embedded chain (--chain local)");
}

interface LintArgs {
  wasm: string;
  json: boolean;
}

export const lintCommand: CommandModule<object, LintArgs> = {
  command: "lint <wasm>",
  describe: "Check a .wasm file against the provable WASM subset of the rollup VM",
  builder: (y) =>
    y
      .positional("wasm", { type: "string", demandOption: true, describe: "Path to a .wasm file" })
      .option("json", { type: "boolean", default: false, describe: "Print the result as JSON" })
      .example("$0 lint model.wasm", "Exit 0 when the module is provable, 1 with every violation otherwise"),
  handler: (args) => {
    const violations = lintWasm(readFileOrFail(args.wasm, ".wasm module"), args.wasm);
    if (args.json) console.log(JSON.stringify({ file: args.wasm, provable: violations.length === 0, violations }));
    else if (violations.length === 0) console.log(`${args.wasm}: provable (inside the VM's WASM subset)`);
    else {
      console.log(`${args.wasm}: ${violations.length} violation${violations.length === 1 ? "" : "s"} of the provable subset`);
      console.log(table([["function", "instruction", "problem"], ...violations.map((v) => [v.function ?? "-", v.instruction ?? "-", v.message])]));
    }
    if (violations.length > 0) process.exitCode = 1;
  },
};
