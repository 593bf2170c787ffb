/**
 * `detml generate model --prompt "..." --tokens N [--engine ref|wasm|vm] [--json]`: greedy text
 * generation with a language model (.onnx, .detml or compiled .wasm; verify/generate.ts), each
 * token printed as it comes, then tokens per second. Text goes through the GPT-2 BPE
 * (js-tiktoken's gpt2 encoding) and, when a vocab.json lies beside the model (or `--vocab`), the
 * model's remapped vocabulary (fixtures/text/tokenize_fortunes.mjs: id 0 stands for any token
 * outside it). On the vm engine every run is a chained claim (dispute/chained.ts): run t starts
 * from run t - 1's final memory and its claim names run t - 1's as parent; `--dispute K` then
 * plays a game over the run that produced token K (`--cheat`, `--cheat-side` as in `detml
 * dispute`), so any token can be disputed on its own; `detml dispute MODEL --prompt ... --token K`
 * plays the same game through `disputeGeneratedToken` here. A cache model is compiled with its
 * cache as a state tensor (`past=present`, docs/abi.md "State"): the module keeps the cache in its
 * memory, so on the wasm and vm engines a run's input is the token and its position only.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { CommandModule } from "yargs";
import { loadWasm, type Manifest } from "../../abi/manifest.js";
import { packInputs, unpackOutputs } from "../../abi/tensors.js";
import { compileCached } from "../../compiler/cache.js";
import { compile } from "../../compiler/compile.js";
import { convertOnnx } from "../../converter/onnx/index.js";
import { ClaimChain, disputeChainedRun, type ChainedDisputeResult } from "../../dispute/chained.js";
import { parseCheat, type Role } from "../../dispute/index.js";
import type { Graph } from "../../lib/graph/ir.js";
import { loadModel, readFileOrFail } from "../../lib/model-files.js";
import { toHex } from "../../vm/index.js";
import { referenceEngine } from "../../verify/engines.js";
import { cacheState, generateTokens, languageModelShape, type GeneratedToken, type Generation, type TokenRunner } from "../../verify/generate.js";
import { signatureGraph } from "../../verify/runnable.js";
import { WasmRunner } from "../../runtime-wasm/runtime.js";

type Engine = "ref" | "wasm" | "vm";

interface Args {
  model: string;
  prompt: string;
  tokens: number;
  engine: Engine;
  vocab?: string;
  json: boolean;
  dispute?: number;
  cheat?: string;
  "cheat-side": Role;
}

/** Text <-> model token ids: the GPT-2 BPE, through the model's remapped vocabulary if it has one. */
export interface Vocabulary {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

/** The vocabulary of `vocabPath` (vocab.json: {gpt2Ids: model id -> GPT-2 id}), or GPT-2's own. */
export async function loadVocabulary(vocabPath?: string): Promise<Vocabulary> {
  // Loaded here, not at the top: every CLI command would otherwise load the BPE ranks at start.
  const { getEncoding } = await import("js-tiktoken");
  const enc = getEncoding("gpt2");
  if (!vocabPath) return { encode: (t) => enc.encode(t), decode: (ids) => enc.decode([...ids]) };
  const { gpt2Ids } = JSON.parse(readFileSync(vocabPath, "utf8")) as { gpt2Ids: number[] };
  const toModel = new Map(gpt2Ids.map((g, i) => [g, i]));
  return {
    encode: (text) => enc.encode(text).map((g) => toModel.get(g) ?? 0),
    // Id 0 is "a token outside the vocabulary": shown as a placeholder.
    decode: (ids) => ids.map((i) => (gpt2Ids[i] === undefined || gpt2Ids[i] < 0 ? "\u00bf" : enc.decode([gpt2Ids[i]]))).join(""),
  };
}

/** The vocabulary of `--vocab`, else the vocab.json beside the model, else GPT-2's. */
export function vocabularyFor(model: string, vocab?: string): Promise<Vocabulary> {
  const besideModel = join(dirname(model), "vocab.json");
  return loadVocabulary(vocab ?? (existsSync(besideModel) ? besideModel : undefined));
}

/** A compiled language model and whether it keeps the cache in memory (a module with state past=present). */
export interface LanguageModule {
  wasm: Uint8Array;
  cacheInModule: boolean;
}

/** A language model opened for generation: its graph (or a module's signature) and the module the wasm and vm engines run, compiled on first use. */
export interface OpenedModel {
  graph: Graph;
  module(): LanguageModule;
}

/** A compiled module's signature with its state inputs and outputs, which are the model's too (only not in the I/O streams). */
function moduleSignature(manifest: Manifest): Graph {
  const g = signatureGraph(manifest);
  const state = manifest.state ?? [];
  return { ...g, inputs: [...g.inputs, ...state.map((s) => ({ name: s.input, shape: [...s.shape], frac: s.frac }))], outputs: [...g.outputs, ...state.map((s) => s.output)] };
}

export function openModel(path: string, engine: Engine): OpenedModel {
  const opened = openAnyModel(path, engine);
  languageModelShape(opened.graph, path); // refuses any other model before it is compiled
  return opened;
}

function openAnyModel(path: string, engine: Engine): OpenedModel {
  const bytes = readFileOrFail(path, "model");
  if (/\.wasm$/i.test(path)) {
    if (engine === "ref") throw new Error(`${path} is a compiled module: it runs on the wasm or vm engine only`);
    const { manifest } = loadWasm(bytes, path);
    const cacheInModule = (manifest.state ?? []).some((s) => s.input === "past");
    return { graph: moduleSignature(manifest), module: () => ({ wasm: bytes, cacheInModule }) };
  }
  const model = /\.onnx$/i.test(path) ? undefined : loadModel(path);
  const graph = model?.graph ?? convertOnnx(bytes, { source: path }).graph;
  const module = (): LanguageModule => {
    const state = cacheState(graph);
    // A .detml compiles once per machine (the cache keys on source, build and state); an .onnx converts and compiles here.
    const wasm = model ? compileCached(model, { state }).wasm : compile(graph, { source: path, state }).wasm;
    return { wasm, cacheInModule: state.length > 0 };
  };
  return { graph, module };
}

/** Runs on the rollup VM as a chain of claims: each run from the previous run's final memory. */
export function chainedVmRunner(wasm: Uint8Array, source = "module"): { chain: ClaimChain; run: TokenRunner } {
  const { manifest, weights } = loadWasm(wasm, source);
  const chain = new ClaimChain(wasm, { weights });
  return { chain, run: (inputs) => unpackOutputs(manifest.outputs, chain.append(packInputs(manifest.inputs, inputs)).output) };
}

/** Index of the run that produced generated token K (a kv model first runs once per prompt token). */
export function runOfToken(graph: Graph, promptTokens: number, k: number): number {
  return languageModelShape(graph).kind === "kv" ? promptTokens - 1 + k : k;
}

export interface TokenDisputeOptions {
  cheat?: string;
  cheatSide: Role;
  degree?: number;
}

/** The game over the run of `chain` that produced generated token K (`generate --dispute K`, `dispute --token K`). */
export function disputeGeneratedToken(chain: ClaimChain, graph: Graph, promptTokens: number, k: number, opts: TokenDisputeOptions): ChainedDisputeResult {
  const cheat = opts.cheat === undefined ? undefined : parseCheat(opts.cheat);
  return disputeChainedRun(chain, runOfToken(graph, promptTokens, k), { cheat, cheatSide: opts.cheatSide, params: opts.degree === undefined ? undefined : { degree: opts.degree } });
}

export const generateCommand: CommandModule<object, Args> = {
  command: "generate <model>",
  describe: "Generate text greedily with a language model (one chained claim per run on the vm engine)",
  builder: (y) =>
    y
      .positional("model", { type: "string", demandOption: true, describe: "A language model: .onnx, .detml or compiled .wasm (tokens [1, T], or token/position/past with a key/value cache)" })
      .option("prompt", { type: "string", demandOption: true, describe: "The text to continue" })
      .option("tokens", { type: "number", default: 8, describe: "Tokens to generate" })
      .option("engine", { type: "string", choices: ["ref", "wasm", "vm"] as const, default: "ref" as Engine, describe: "ref: reference executor; wasm: compiled module in the JS engine; vm: the rollup VM, one chained claim per run" })
      .option("vocab", { type: "string", describe: "The model's vocabulary (default: vocab.json beside the model, else GPT-2's)" })
      .option("json", { type: "boolean", default: false, describe: "Print the result as JSON" })
      .option("dispute", { type: "number", describe: "With --engine vm: play a dispute game over the run that produced token K (0 = the first generated)" })
      .option("cheat", { type: "string", describe: "The cheating party's lie in that game (output, op:K, step:N, round:R, random[:SEED], stall[:M])" })
      .option("cheat-side", { type: "string", choices: ["submitter", "challenger"] as const, default: "submitter" as Role, describe: "Which side cheats" })
      .example("$0 generate fixtures/models/small_gpt/small_gpt.onnx --prompt 'The meaning of life' --tokens 12", "Continue a prompt")
      .example("$0 generate small_gpt.wasm --prompt 'A fool' --tokens 4 --engine vm --dispute 2 --cheat output", "Dispute token 2's claim"),
  handler: async (args) => {
    if (!(Number.isInteger(args.tokens) && args.tokens > 0)) throw new Error(`--tokens must be a positive integer, got ${args.tokens}`);
    if (args.dispute !== undefined && args.engine !== "vm") throw new Error("--dispute needs --engine vm (claims are runs of the VM)");
    if (args.dispute !== undefined && !(Number.isInteger(args.dispute) && args.dispute >= 0 && args.dispute < args.tokens)) throw new Error(`--dispute ${args.dispute}: tokens 0..${args.tokens - 1} are generated`);
    const vocab = await vocabularyFor(args.model, args.vocab);
    const prompt = vocab.encode(args.prompt);
    const opened = openModel(args.model, args.engine);
    const { graph } = opened;
    const { wasm, cacheInModule } = args.engine === "ref" ? { wasm: undefined, cacheInModule: false } : opened.module();
    const chained = args.engine === "vm" ? chainedVmRunner(wasm!, args.model) : undefined;
    const run: TokenRunner = chained?.run ?? (args.engine === "ref" ? (await referenceEngine.load(graph)).run : wasmRunner(wasm!, args.model));
    if (!args.json) process.stdout.write(args.prompt);
    const onToken = args.json ? undefined : (t: GeneratedToken) => void process.stdout.write(vocab.decode([t.token]));
    const generation = await generateTokens(graph, run, prompt, args.tokens, { onToken, cacheInModule });
    const dispute = args.dispute === undefined ? undefined
      : disputeGeneratedToken(chained!.chain, graph, prompt.length, args.dispute, { cheat: args.cheat, cheatSide: args["cheat-side"] });
    report(args, generation, vocab, chained?.chain, dispute);
  },
};

function wasmRunner(wasm: Uint8Array, source: string): TokenRunner {
  const runner = new WasmRunner(loadWasm(wasm, source));
  return (inputs) => runner.run(inputs);
}

function report(args: Args, g: Generation, vocab: Vocabulary, chain: ClaimChain | undefined, dispute: ChainedDisputeResult | undefined): void {
  const claims = chain?.runs.map((r, i) => ({ run: i, parent: r.parent ?? null, input_bytes: r.input.length, steps: r.steps, final_boundary: toHex(r.claim.finalBoundary), final_memory_root: toHex(r.claim.finalMemoryRoot) }));
  if (args.json) {
    console.log(JSON.stringify({
      engine: args.engine, prompt: args.prompt, prompt_tokens: g.prompt, tokens: g.tokens, text: vocab.decode(g.tokens), runs: g.runs,
      ms: Number(g.ms.toFixed(1)), tokens_per_second: Number(g.tokensPerSecond.toFixed(3)), ...(claims && { model_id: toHex(chain!.runs[0].claim.modelId), claims }),
      ...(dispute && { dispute: { token: args.dispute, run: dispute.claimIds.length - 1, winner: dispute.winner, reason: dispute.reason, rounds: dispute.rounds, moves: dispute.moves, segment: dispute.segment, step: dispute.step } }),
    }));
    return;
  }
  console.log(`\n${g.tokens.length} tokens in ${(g.ms / 1000).toFixed(2)} s (${g.tokensPerSecond.toFixed(2)} tokens/s, ${g.runs} runs, engine ${args.engine})`);
  if (claims) console.log(`${claims.length} chained claims, model ${toHex(chain!.runs[0].claim.modelId)}; input ${inputSizes(chain!)} per run; last final boundary ${claims[claims.length - 1].final_boundary}`);
  if (dispute) console.log(`dispute over token ${args.dispute} (run ${dispute.claimIds.length - 1}, parent claim ${dispute.claimIds.length - 2}): the ${dispute.winner} wins after ${dispute.moves} moves (${dispute.reason})`);
}

/** The input bytes per run of a chain, as one figure when they are all the same size (a cache kept in memory: the token and its position). */
export function inputSizes(chain: ClaimChain): string {
  const sizes = [...new Set(chain.runs.map((r) => r.input.length))];
  return sizes.length === 1 ? `${sizes[0]} bytes` : `${Math.min(...sizes)}..${Math.max(...sizes)} bytes`;
}
