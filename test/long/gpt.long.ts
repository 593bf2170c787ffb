/**
 * The small GPT trained on Debian's fortunes (fixtures/pytorch/train_small_gpt.py) end to end:
 * converted from ONNX, its next-token logits at every position of held-out windows compared with
 * onnxruntime-node (top-1 agreement >= 99%, perplexity of both on the same text); greedy
 * generation from one prompt giving the same tokens without and with the key/value cache on the
 * reference executor, on the compiled module in WebAssembly and on the rollup VM (one chained
 * claim per run), the cache model compiled with its cache as a state tensor (past=present: each
 * run's input is the token and position, 32 bytes, where the cache in the stream took 98 KB); and
 * a game over one generated token's run won by the honest side, in the library and through
 * `detml generate --dispute` and `detml dispute --token`.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { disputeCommand } from "../../bin/commands/dispute.js";
import { chainedVmRunner, generateCommand, loadVocabulary, runOfToken } from "../../bin/commands/generate.js";
import { packInputs } from "../../abi/tensors.js";
import { compile } from "../../compiler/compile.js";
import { convertOnnx } from "../../converter/onnx/index.js";
import { disputeChainedRun } from "../../dispute/chained.js";
import { parseCheat } from "../../dispute/index.js";
import { onnxRuntimeOracle } from "../../lib/verify/oracle.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { loadWasm, WasmRunner } from "../../runtime-wasm/index.js";
import { referenceEngine, wasmEngine } from "../../verify/engines.js";
import { argmaxAt, cacheState, generateTokens } from "../../verify/generate.js";
import { runHandler } from "../helpers/cli.js";

const DIR = resolve(import.meta.dirname, "../../fixtures/models/small_gpt");
const onnx = (name: string) => new Uint8Array(readFileSync(join(DIR, name)));
const info = JSON.parse(readFileSync(join(DIR, "small_gpt.json"), "utf8")) as { heldout_windows: number[][]; heldout_perplexity_torch: number; config: { vocab: number; context: number } };
const PROMPT = "The meaning of life is";
const COUNT = 12;

function floatArgmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/** exp(mean cross-entropy) of next-token logits rows [T, V] against the window's next tokens (id 0, outside the vocabulary, skipped as in training). */
function perplexity(rows: Float64Array[], windows: number[][], vocab: number): number {
  let loss = 0;
  let n = 0;
  rows.forEach((logits, w) => {
    for (let i = 0; i + 1 < windows[w].length; i++) {
      if (windows[w][i + 1] === 0) continue;
      const row = logits.subarray(i * vocab, (i + 1) * vocab);
      const max = Math.max(...row);
      const sum = row.reduce((s, v) => s + Math.exp(v - max), 0);
      loss += Math.log(sum) + max - row[windows[w][i + 1]];
      n++;
    }
  });
  return Math.exp(loss / n);
}

describe("small GPT trained on fortunes", () => {
  const full = convertOnnx(onnx("small_gpt.onnx"), { source: "small_gpt.onnx" }).graph;
  const kv = convertOnnx(onnx("small_gpt_kv.onnx"), { source: "small_gpt_kv.onnx" }).graph;
  const vocabulary = loadVocabulary(join(DIR, "vocab.json"));
  const { vocab: V, context: T } = info.config;

  it("agrees with onnxruntime on the next token at >= 99% of held-out positions", async () => {
    const oracle = await onnxRuntimeOracle(onnx("small_gpt.onnx"), "small_gpt.onnx");
    const ref = await referenceEngine.load(full);
    const windows = info.heldout_windows;
    const ours: Float64Array[] = [];
    const theirs: Float64Array[] = [];
    let agree = 0;
    let maxErr = 0;
    for (const w of windows) {
      const floatOut = (await oracle.run(new Map([["tokens", { shape: [1, T], data: Float64Array.from(w) }]]))).get("logits")!;
      const fixed = (await ref.run(new Map([["tokens", Tensor.fromInts(w, [1, T])]]))).get("logits")!;
      const f = fixed.toFloat();
      for (let i = 0; i < T; i++) {
        if (argmaxAt(fixed.data, i * V, V) === floatArgmax(floatOut.data.subarray(i * V, (i + 1) * V))) agree++;
      }
      f.forEach((v, i) => (maxErr = Math.max(maxErr, Math.abs(v - floatOut.data[i]))));
      ours.push(f);
      theirs.push(Float64Array.from(floatOut.data));
    }
    await oracle.dispose?.();
    const positions = windows.length * T;
    const pplOurs = perplexity(ours, windows, V);
    const pplFloat = perplexity(theirs, windows, V);
    console.log(`small GPT, ${positions} held-out positions: top-1 agreement ${(100 * agree / positions).toFixed(2)}%, max |logit err| ${maxErr.toExponential(2)}; ` +
      `perplexity detml ${pplOurs.toFixed(2)}, onnxruntime ${pplFloat.toFixed(2)} (PyTorch on the whole held-out text: ${info.heldout_perplexity_torch})`);
    expect(agree / positions).toBeGreaterThanOrEqual(0.99);
    expect(Math.abs(pplOurs - pplFloat) / pplFloat).toBeLessThan(0.02);
  });

  it("generates the same sentence without and with the cache, on ref, wasm and the VM", async () => {
    const vocab = await vocabulary;
    const prompt = vocab.encode(PROMPT);
    const timed = async (name: string, run: () => Promise<{ tokens: number[]; tokensPerSecond: number }>) => {
      const g = await run();
      console.log(`${name}: ${JSON.stringify(PROMPT + vocab.decode(g.tokens))} (${g.tokensPerSecond.toFixed(2)} tokens/s)`);
      return g.tokens;
    };
    const refFull = await timed("ref, no cache", async () => generateTokens(full, (await referenceEngine.load(full)).run, prompt, COUNT));
    const refKv = await timed("ref, cache", async () => generateTokens(kv, (await referenceEngine.load(kv)).run, prompt, COUNT));
    const wasmFull = await timed("wasm, no cache", async () => generateTokens(full, (await wasmEngine.load(full)).run, prompt, COUNT));
    const stateful = compile(kv, { state: cacheState(kv) });
    const wasmRunner = new WasmRunner(loadWasm(stateful.wasm));
    const wasmKv = await timed("wasm, cache in module memory", () => generateTokens(kv, (inputs) => wasmRunner.run(inputs), prompt, COUNT, { cacheInModule: true }));
    const vm = chainedVmRunner(stateful.wasm);
    const vmKv = await timed("vm, cache in module memory, chained claims", () => generateTokens(kv, vm.run, prompt, COUNT, { cacheInModule: true }));
    expect(refKv).toEqual(refFull);
    expect(wasmFull).toEqual(refFull);
    expect(wasmKv).toEqual(refFull);
    expect(vmKv).toEqual(refFull);
    expect(vm.chain.runs.length).toBe(prompt.length + COUNT - 1);
    // The same run's input with the cache in the stream (a module compiled without the state pair).
    const past = kv.inputs.find((i) => i.name === "past")!;
    const streamed = packInputs(compile(kv).manifest.inputs, { token: Tensor.fromInts([1], [1, 1]), position: Tensor.fromInts([0], [1]), past: Tensor.zeros(past.shape, past.frac) }).length;
    console.log(`input per run: ${vm.chain.runs[0].input.length} bytes with the cache in module memory (${streamed} bytes with it in the stream); ${vm.chain.runs[0].steps} VM steps per run`);
    expect(vm.chain.runs.every((r) => r.input.length === 32)).toBe(true);
    expect(streamed).toBeGreaterThan(98_000);

    const started = performance.now();
    const run = runOfToken(kv, prompt.length, 5);
    const result = disputeChainedRun(vm.chain, run, { cheat: parseCheat("output") });
    console.log(`dispute over token 5 (run ${run}, ${vm.chain.runs[run].steps} VM steps): ${result.winner} wins in ${result.moves} moves, ${((performance.now() - started) / 1000).toFixed(1)} s`);
    expect(result.winner).toBe("challenger");
    expect(result.conserved).toBe(true);
  });

  it("detml generate --engine vm --dispute K: the honest challenger wins over token K's run", async () => {
    const out = JSON.parse(await runHandler(generateCommand, {
      model: join(DIR, "small_gpt_kv.onnx"), prompt: PROMPT, tokens: 3, engine: "vm", json: true, dispute: 2, cheat: "op:7", "cheat-side": "submitter",
    }));
    console.log(`detml generate --engine vm: ${JSON.stringify(out.text)}, ${out.tokens_per_second} tokens/s, ${out.claims.length} chained claims; dispute ${JSON.stringify(out.dispute)}`);
    expect(out.claims.map((c: { parent: number | null }) => c.parent)).toEqual(out.claims.map((_: unknown, i: number) => (i === 0 ? null : i - 1)));
    expect(out.dispute.winner).toBe("challenger");
    expect(out.dispute.segment).toBe(7);
    expect(out.claims.every((c: { input_bytes: number }) => c.input_bytes === 32)).toBe(true);
  });

  it("detml dispute --token K: the honest submitter wins when the challenger lies about token K's run", async () => {
    const started = performance.now();
    const out = JSON.parse(await runHandler(disputeCommand, {
      model: join(DIR, "small_gpt_kv.onnx"), prompt: PROMPT, token: 1, cheat: "output", "cheat-side": "challenger", degree: 4, json: true,
    }));
    console.log(`detml dispute --token 1: run ${out.run} (${out.steps} VM steps, input ${out.input_bytes} bytes), ${out.winner} wins in ${out.moves} moves, ${((performance.now() - started) / 1000).toFixed(1)} s`);
    expect(out.winner).toBe("submitter");
    expect(out.input_bytes).toBe(32);
    expect(out.conserved).toBe(true);
  });
});
