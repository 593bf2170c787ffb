/**
 * `detml run model.detml --input x.npy`: run a model on .npy inputs with the reference executor
 * (`--engine wasm`: compiled on the fly, cached, in the FAST build unless `--build canonical`;
 * `--engine vm`: the canonical build in the rollup VM), or a compiled model.wasm in the JS engine,
 * print the outputs (or `--json`), and write them as float32 .npy with `--output`. A leading
 * batch dimension N on inputs runs N samples one by one and stacks the outputs; an empty batch
 * (N = 0) is refused when the inputs are read (lib/model-files.ts batchSize), for every engine.
 * `--engine evm` compiles the .detml to EVM contracts, deploys them on the embedded chain and
 * prints the gas of each sample's inference transaction (`"gas"` in --json, one per sample);
 * `--engine evm-precompiles` does the same with the contract that calls the DNN-operator
 * precompiles, on the embedded chain that has them (docs/evm.md, "The extended EVM").
 */
import { writeFileSync } from "node:fs";
import type { CommandModule } from "yargs";
import type { Build } from "../../compiler/compile.js";
import { runBatch, argmaxRows } from "../../lib/batch.js";
import { evmEngine, evmPrecompilesEngine, type EngineName } from "../../verify/engines.js";
import { openRunnable, type RunnableModel } from "../../verify/runnable.js";
import { loadModel, readInputs, stackSamples } from "../../lib/model-files.js";
import type { Tensor } from "../../lib/tensor/tensor.js";
import { writeNpy } from "../../lib/tensor/npy.js";
import { formatShape, parseNamedFiles } from "./options.js";

interface Args {
  model: string;
  input?: string[];
  output?: string[];
  json: boolean;
  engine?: EngineName | EvmEngineName;
  build?: Build;
}

/** The engines that run on the embedded chain, through runBatchOnEvm. */
type EvmEngineName = "evm" | "evm-precompiles";
const isEvmEngine = (engine: string | undefined): engine is EvmEngineName => engine === "evm" || engine === "evm-precompiles";

export const runCommand: CommandModule<object, Args> = {
  command: "run <model>",
  describe: "Run a .detml model (or a compiled .wasm) on .npy inputs and print or save the outputs",
  builder: (y) =>
    y
      .positional("model", { type: "string", demandOption: true, describe: "Path to a .detml file or a compiled .wasm" })
      .option("engine", { type: "string", choices: ["ref", "wasm", "vm", "evm", "evm-precompiles"] as const, describe: "ref: reference executor; wasm: compiled module in the JS engine; vm: compiled module in the rollup VM; evm: compiled to EVM contracts on the embedded chain, with the gas; evm-precompiles: compiled to a contract calling the DNN-operator precompiles of the embedded chain, with the gas (default: ref for .detml, wasm for .wasm)" })
      .option("build", { type: "string", choices: ["fast", "canonical"] as const, describe: "The compiled build of a .detml: fast (SIMD, the same bytes as canonical, sooner) or canonical (the provable module the VM runs) (default: fast on --engine wasm; --engine vm runs canonical only)" })
      .option("input", { alias: "i", type: "string", array: true, describe: "Input .npy: FILE for a single-input model, or NAME=FILE (repeatable)" })
      .option("output", { alias: "o", type: "string", array: true, describe: "Write outputs as float32 .npy: FILE (first output) or NAME=FILE (repeatable)" })
      .option("json", { type: "boolean", default: false, describe: "Print the result as JSON" })
      .example("$0 run mnist.detml --input digit.npy", "Classify one digit")
      .example("$0 run gpt.detml -i tokens=t.npy -o logits=y.npy --json", "Named input/output, JSON result")
      .example("$0 run mnist.detml --engine wasm --build canonical -i digit.npy", "Compile the canonical build (cached) and run it in the JS engine")
      .example("$0 run mnist.wasm --input digit.npy", "Run the compiled module"),
  handler: async (args) => {
    if (isEvmEngine(args.engine) && args.build) throw new Error(`--build ${args.build}: the ${args.engine} engine compiles the .detml to EVM contracts, not WASM builds`);
    const model: EvmOrRunnable = isEvmEngine(args.engine) ? evmRunnable(args.model, args.engine) : openRunnable(args.model, args.engine, { build: args.build });
    const inputFiles = parseNamedFiles(args.input, "--input");
    if (inputFiles.size === 0) throw new Error(`no --input given; the model takes ${model.graph.inputs.map((v) => `${v.name} ${formatShape(v.shape)}`).join(", ")}`);
    const outputFiles = parseNamedFiles(args.output, "--output");
    for (const name of outputFiles.keys()) {
      if (name !== "" && !model.graph.outputs.includes(name)) throw new Error(`the model has no output '${name}' (outputs: ${model.graph.outputs.join(", ")})`);
    }
    const samples = readInputs(model.graph, inputFiles);
    const started = performance.now();
    const onEvm = isEvmEngine(model.engine) ? await runBatchOnEvm(model, samples) : undefined;
    const outputs = onEvm?.outputs ?? runBatch(model.graph, samples, model.runSample);
    const ms = performance.now() - started;
    for (const [name, file] of outputFiles) {
      const t = outputs.get(name === "" ? model.graph.outputs[0] : name)!;
      writeFileSync(file, writeNpy(t.shape, Float32Array.from(t.toFloat())));
    }
    if (args.json) {
      const out = Object.fromEntries([...outputs].map(([name, t]) => [name, { shape: t.shape, frac: t.frac, argmax: argmaxRows(t), values: Array.from(t.toFloat()) }]));
      console.log(JSON.stringify({ model_id: model.modelId, source_hash: model.sourceHash, engine: model.engine, ...(model.build && { build: model.build }), samples: samples.length, ms: Number(ms.toFixed(3)), ...(onEvm && { gas: onEvm.gas.map(Number) }), outputs: out }));
      return;
    }
    console.log(`${model.modelId ? `model ${model.modelId}  ` : ""}source ${model.sourceHash}  engine ${model.engine}${model.build ? ` (${model.build} build)` : ""}  ${samples.length} sample${samples.length === 1 ? "" : "s"} in ${ms.toFixed(1)} ms`);
    if (onEvm) console.log(`gas ${onEvm.gas.join(", ")} per inference transaction`);
    for (const [name, t] of outputs) {
      const values = t.toFloat();
      const shown = Array.from(values.slice(0, 10), (v) => Number(v.toFixed(5)));
      console.log(`${name} ${formatShape(t.shape)} Q${t.frac}: [${shown.join(", ")}${values.length > 10 ? `, ... ${values.length - 10} more` : ""}]`);
      const am = argmaxRows(t);
      if (am) console.log(`${name} argmax: ${am.join(", ")}`);
    }
    for (const [name, file] of outputFiles) console.log(`wrote ${name || model.graph.outputs[0]} to ${file}`);
  },
};

/** A model opened for `run`: on the evm engine it runs through runBatchOnEvm, not runSample. */
type EvmOrRunnable = Omit<RunnableModel, "engine"> & { engine: EngineName | EvmEngineName };

/** A .detml for the evm engine (a compiled .wasm cannot run there). */
function evmRunnable(path: string, engine: EvmEngineName): EvmOrRunnable {
  if (/\.wasm$/i.test(path)) throw new Error(`${path} is a compiled WASM module: --engine ${engine} compiles the .detml (run it on the .detml)`);
  const model = loadModel(path);
  return { graph: model.graph, modelId: null, sourceHash: model.sourceHash, engine };
}

/** Every sample through the model's EVM contracts on the embedded chain; outputs stacked, gas per sample. */
async function runBatchOnEvm(model: EvmOrRunnable, samples: Map<string, Tensor>[]): Promise<{ outputs: Map<string, Tensor>; gas: bigint[] }> {
  const loaded = await (model.engine === "evm-precompiles" ? evmPrecompilesEngine : evmEngine).load(model.graph);
  const results: Map<string, Tensor>[] = [];
  const gas: bigint[] = [];
  try {
    for (const sample of samples) {
      results.push(await loaded.run(sample));
      gas.push(loaded.lastGas?.() ?? 0n);
    }
  } finally {
    await loaded.dispose?.();
  }
  return { outputs: new Map(model.graph.outputs.map((name) => [name, stackSamples(results.map((r) => r.get(name)!))])), gas };
}
