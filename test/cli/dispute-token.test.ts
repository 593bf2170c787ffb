/**
 * `detml dispute MODEL --prompt "..." --token K` on the tiny GPT with a key/value cache
 * (fixtures/models/small_gpt/tiny_gpt_kv.onnx): it generates on the VM what the reference
 * executor generates, one chained claim per run whose input is one 32-byte chunk (token and
 * position; the cache stays in module memory), and plays the game over the run that produced
 * token K, which the honest challenger wins against a lying submitter. A K outside the context,
 * flags that do not go with --token and a model that is no language model are one-line errors
 * naming the flag or the file.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { disputeCommand } from "../../bin/commands/dispute.js";
import { loadVocabulary } from "../../bin/commands/generate.js";
import { convertOnnx } from "../../converter/onnx/index.js";
import { referenceEngine } from "../../verify/engines.js";
import { generateTokens } from "../../verify/generate.js";
import { runHandler } from "../helpers/cli.js";

const DIR = resolve(import.meta.dirname, "../../fixtures/models/small_gpt");
const MODEL = join(DIR, "tiny_gpt_kv.onnx");
const PROMPT = "The one is"; // ids 26, 48, 13 in vocab.json: inside the tiny model's 64-token vocabulary
const DEFAULTS = { model: MODEL, prompt: PROMPT, "cheat-side": "submitter", degree: 4, json: true };

describe("detml dispute --token", () => {
  it("plays the game over the run that produced token K, and the honest challenger wins", async () => {
    const out = JSON.parse(await runHandler(disputeCommand, { ...DEFAULTS, token: 2, cheat: "op:3" }));
    const graph = convertOnnx(new Uint8Array(readFileSync(MODEL)), { source: MODEL }).graph;
    const prompt = (await loadVocabulary(join(DIR, "vocab.json"))).encode(PROMPT);
    const ref = await generateTokens(graph, (await referenceEngine.load(graph)).run, prompt, 3);
    expect(out.prompt_tokens).toEqual(prompt);
    expect(out.tokens).toEqual(ref.tokens);
    expect(out.token_id).toBe(ref.tokens[2]);
    // The prompt's 3 tokens take runs 0..2, the first generated token comes out of run 2: token 2 out of run 4.
    expect(out.run).toBe(4);
    expect(out.parent_run).toBe(3);
    expect(out.runs).toBe(5);
    expect(out.input_bytes).toBe(32);
    expect(out.winner).toBe("challenger");
    expect(out.disputed.op).toBe(3);
    expect(out.conserved).toBe(true);
  });

  it.each([
    [{ token: 5 }, "--token 5: tokens 0..4 fit in the model's context of 8 after the 3-token prompt"],
    [{ token: -1 }, "--token -1: tokens 0..4 fit"],
    [{ token: 1.5 }, "--token 1.5: tokens 0..4 fit"],
    [{ token: 0, prompt: "The one is the one is the one" }, "--token 0: no token fits in the model's context of 8 after the 8-token prompt"],
    [{ token: undefined }, "--prompt and --token go together"],
    [{ token: 1, input: ["x.npy"] }, "--input does not go with --token"],
    [{ token: 1, chain: "local" }, "--chain does not go with --token"],
    [{ token: 1, "step-budget": 1000 }, "--step-budget does not go with --token"],
    [{ token: 1, model: join(DIR, "../mlp.onnx") }, "mlp.onnx: not a language model detml can generate with: its inputs are input [1, 16]"],
    [{ token: 1, cheat: "sometimes" }, "sometimes"],
  ])("refuses %o", async (args, message) => {
    await expect(runHandler(disputeCommand, { ...DEFAULTS, ...args })).rejects.toThrow(message);
  });
});
