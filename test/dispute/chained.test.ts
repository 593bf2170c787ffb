/**
 * Chained claims over the tiny GPT's key/value-cache model (fixtures/models/small_gpt), compiled
 * with its cache as a state tensor (past=present, as `detml generate` compiles it): the tokens
 * generated on the rollup VM, one chained claim per run whose input is the token and position
 * only (one 32-byte chunk; the cache stays in memory), equal the reference executor's;
 * each run starts from the previous run's final memory (claim t's boundary 0 holds claim t - 1's
 * final memory root, which the referee takes from the parent); and a game over one run in the
 * middle of the chain is won by the honest side whichever side cheats.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { chainedVmRunner } from "../../bin/commands/generate.js";
import { compile } from "../../compiler/compile.js";
import { convertOnnx } from "../../converter/onnx/index.js";
import { disputeChainedRun, type ClaimChain } from "../../dispute/chained.js";
import { parseCheat, sameHash } from "../../dispute/index.js";
import type { Graph } from "../../lib/graph/ir.js";
import { referenceEngine } from "../../verify/engines.js";
import { cacheState, generateTokens } from "../../verify/generate.js";

const REPO = resolve(import.meta.dirname, "../..");
const PROMPT = [9, 30];
const COUNT = 4;

describe("chained claims (tiny GPT with a key/value cache)", () => {
  let graph: Graph;
  let chain: ClaimChain;
  let vmTokens: number[];

  beforeAll(async () => {
    const onnx = new Uint8Array(readFileSync(join(REPO, "fixtures/models/small_gpt/tiny_gpt_kv.onnx")));
    graph = convertOnnx(onnx, { source: "tiny_gpt_kv.onnx" }).graph;
    const vm = chainedVmRunner(compile(graph, { state: cacheState(graph) }).wasm);
    chain = vm.chain;
    vmTokens = (await generateTokens(graph, vm.run, PROMPT, COUNT, { cacheInModule: true })).tokens;
  });

  it("generates on the VM what the reference executor generates, one chained claim per run", async () => {
    const ref = await generateTokens(graph, (await referenceEngine.load(graph)).run, PROMPT, COUNT);
    expect(vmTokens).toEqual(ref.tokens);
    expect(chain.runs.length).toBe(PROMPT.length + COUNT - 1);
    chain.runs.forEach((r, t) => expect(r.parent).toBe(t === 0 ? undefined : t - 1));
    chain.runs.forEach((r) => expect(r.input.length).toBe(32));
  });

  it("starts each run from its parent's final memory", () => {
    const view = chain.view(2);
    expect(sameHash(view.boundary(0).memoryRoot, chain.runs[1].claim.finalMemoryRoot)).toBe(true);
    expect(sameHash(view.boundaryHash(view.segments), chain.runs[2].claim.finalBoundary)).toBe(true);
    // The same input from the module's initial memory is another run: the cache it reads is empty.
    expect(sameHash(chain.view(0).boundary(0).memoryRoot, chain.model.initialMemoryRoot)).toBe(true);
    expect(sameHash(chain.runs[1].claim.finalMemoryRoot, chain.runs[2].claim.finalMemoryRoot)).toBe(false);
  });

  it("an honest claim in the chain survives a challenge", () => {
    const result = disputeChainedRun(chain, 3);
    expect(result.winner).toBe("submitter");
    expect(result.claimIds).toEqual([0, 1, 2, 3]);
    expect(result.conserved).toBe(true);
  });

  for (const side of ["submitter", "challenger"] as const) {
    it(`the honest side wins a game over a chained run when the ${side} cheats`, () => {
      const result = disputeChainedRun(chain, 3, { cheat: parseCheat("op:3"), cheatSide: side });
      expect(result.winner).toBe(side === "submitter" ? "challenger" : "submitter");
      expect(result.segment).toBe(3);
      expect(result.step).toBeGreaterThanOrEqual(0);
      expect(result.conserved).toBe(true);
    });
  }
});
