/**
 * Generation end to end on the tiny GPT of fixtures/models/small_gpt (tiny_gpt.onnx and its
 * key/value-cache twin tiny_gpt_kv.onnx, same weights, made by train_small_gpt.py --tiny):
 * greedy decoding gives the same tokens with the cache as without it, and the same tokens on the
 * reference executor and, through `detml generate`, the compiled module in the JS engine's
 * WebAssembly, the cache model's with its cache kept in module memory (a state tensor; the rollup
 * VM with chained claims: test/dispute/chained.test.ts).
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { convertOnnx } from "../../converter/onnx/index.js";
import { generateCommand, loadVocabulary } from "../../bin/commands/generate.js";
import { referenceEngine } from "../../verify/engines.js";
import { runHandler } from "../helpers/cli.js";
import { generateTokens, languageModelShape } from "../../verify/generate.js";

const REPO = resolve(import.meta.dirname, "../..");
const tiny = (name: string) => convertOnnx(new Uint8Array(readFileSync(join(REPO, "fixtures/models/small_gpt", name))), { source: name }).graph;
const PROMPT = [5, 17, 3];
const COUNT = 5;

describe("generate (tiny GPT)", () => {
  const full = tiny("tiny_gpt.onnx");
  const kv = tiny("tiny_gpt_kv.onnx");

  it("recognises both model shapes", () => {
    expect(languageModelShape(full)).toMatchObject({ kind: "full", context: 8 });
    expect(languageModelShape(kv)).toMatchObject({ kind: "kv", context: 8 });
  });

  it("generates the same tokens with the key/value cache as without it (reference executor)", async () => {
    const withCache = await generateTokens(kv, (await referenceEngine.load(kv)).run, PROMPT, COUNT);
    const without = await generateTokens(full, (await referenceEngine.load(full)).run, PROMPT, COUNT);
    console.log(`tiny GPT: ${without.tokens.join(" ")} (no cache, ${without.runs} runs) / ${withCache.tokens.join(" ")} (cache, ${withCache.runs} runs)`);
    expect(withCache.tokens).toEqual(without.tokens);
    expect(withCache.runs).toBe(PROMPT.length + COUNT - 1);
    expect(new Set(without.tokens).size).toBeGreaterThan(1);
  });

  it("detml generate --engine wasm prints the tokens the reference executor generates", async () => {
    const model = join(REPO, "fixtures/models/small_gpt/tiny_gpt.onnx");
    const vocab = await loadVocabulary(join(REPO, "fixtures/models/small_gpt/vocab.json"));
    const prompt = "The one is"; // ids 26, 48, 13: inside the tiny model's 64-token vocabulary
    const out = JSON.parse(await runHandler(generateCommand, { model, prompt, tokens: COUNT, engine: "wasm", json: true, "cheat-side": "submitter" }));
    const ref = await generateTokens(full, (await referenceEngine.load(full)).run, vocab.encode(prompt), COUNT);
    expect(out.engine).toBe("wasm");
    expect(out.prompt_tokens).toEqual(vocab.encode(prompt));
    expect(out.tokens).toEqual(ref.tokens);
    expect(out.text).toBe(vocab.decode(ref.tokens));
    expect(out.tokens_per_second).toBeGreaterThan(0);
  });

  it("detml generate --engine wasm on the cache model keeps the cache in module memory and generates the reference's tokens", async () => {
    const model = join(REPO, "fixtures/models/small_gpt/tiny_gpt_kv.onnx");
    const out = JSON.parse(await runHandler(generateCommand, { model, prompt: "The one is", tokens: COUNT, engine: "wasm", json: true, "cheat-side": "submitter" }));
    const ref = await generateTokens(kv, (await referenceEngine.load(kv)).run, out.prompt_tokens, COUNT);
    expect(out.tokens).toEqual(ref.tokens);
    expect(out.runs).toBe(out.prompt_tokens.length + COUNT - 1);
  });
});
