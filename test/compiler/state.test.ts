/**
 * State tensors (docs/abi.md, "State"; compiler/state.ts): a module compiled with `past=present`
 * keeps the key/value cache of the tiny GPT (fixtures/models/small_gpt/tiny_gpt_kv.onnx) in its
 * memory. Its input stream carries the token and position only and its output stream the logits
 * only; the state buffer is zero at first and shares no bytes with any other region; two chained
 * runs in the JS engine, in the VM runner and in a ClaimChain give the reference executor's logits
 * of the same two runs with the cache fed back by hand. A hand-built accumulator checks a state
 * output that is also (through a view) a stream output, and the refusals name the pair at fault.
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeManifest, encodeManifest } from "../../abi/manifest.js";
import { packInputs, unpackOutputs } from "../../abi/tensors.js";
import { compileCached } from "../../compiler/cache.js";
import { compile } from "../../compiler/compile.js";
import { parseStatePairs } from "../../compiler/state.js";
import { convertOnnx } from "../../converter/onnx/index.js";
import { ClaimChain } from "../../dispute/chained.js";
import { run } from "../../lib/executor.js";
import { GraphBuilder } from "../../lib/graph/builder.js";
import { encodeGraph, sourceHash } from "../../lib/graph/codec.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { loadWasm, WasmRunner } from "../../runtime-wasm/index.js";
import { VmRunner } from "../../runtime-wasm/vm-runner.js";
import { decodeModule, initialMemory } from "../../vm/index.js";
import { expectSameTensor } from "./helpers.js";

const REPO = resolve(import.meta.dirname, "../..");
const graph = convertOnnx(new Uint8Array(readFileSync(join(REPO, "fixtures/models/small_gpt/tiny_gpt_kv.onnx"))), { source: "tiny_gpt_kv.onnx" }).graph;
const CACHE = [{ input: "past", output: "present" }];
const step = (token: number, position: number) => new Map([["token", Tensor.fromInts([token], [1, 1])], ["position", Tensor.fromInts([position], [1])]]);

/** The reference executor's logits of runs over `tokens`, the cache fed from each run's present to the next run's past. */
function referenceLogits(tokens: number[]): Tensor[] {
  const pastInfo = graph.inputs.find((i) => i.name === "past")!;
  let past = Tensor.zeros(pastInfo.shape, pastInfo.frac);
  return tokens.map((token, position) => {
    const out = run(graph, new Map([...step(token, position), ["past", past]])).outputs;
    past = out.get("present")!;
    return out.get("logits")!;
  });
}

describe("state tensors: the tiny GPT's cache in module memory", () => {
  const stateful = compile(graph, { state: CACHE });
  const plain = compile(graph);
  const TOKENS = [9, 30];
  const want = referenceLogits(TOKENS);

  it("takes the cache out of the I/O streams and gives it a zeroed buffer of its own", () => {
    const m = stateful.manifest;
    expect(m.abi).toBe(2);
    expect(m.inputs.map((s) => s.name)).toEqual(["token", "position"]);
    expect(m.outputs.map((s) => s.name)).toEqual(["logits"]);
    const pastShape = graph.inputs.find((i) => i.name === "past")!.shape;
    expect(m.state).toMatchObject([{ input: "past", output: "present", shape: pastShape, frac: 16, bytes: 4 * 2 * 2 * 2 * 8 * 8 }]);
    // Token and position: 8 bytes, one chunk; the plain module's stream also carries the 4 KiB cache.
    expect(packInputs(m.inputs, step(3, 0)).length).toBe(32);
    expect(plain.manifest.state).toBeUndefined();
    expect(plain.manifest.inputs.map((s) => s.name)).toEqual(["token", "position", "past"]);
    const { offset, bytes } = m.state![0];
    const ioEnd = Math.max(...[...m.inputs, ...m.outputs].map((s) => s.offset + s.bytes));
    expect(offset).toBeGreaterThanOrEqual(ioEnd);
    expect(offset + bytes).toBeLessThanOrEqual(Math.min(m.memory.weights, m.memory.arena));
    expect(initialMemory(decodeModule(stateful.wasm)).subarray(offset, offset + bytes).every((b) => b === 0)).toBe(true);
    // A manifest whose state pair lies about its buffer is refused by every loader.
    for (const bad of [{ offset: m.memory.pages * 65536 }, { bytes: 4 }, { shape: "past" }]) {
      const lying = encodeManifest({ ...m, state: [{ ...m.state![0], ...bad } as never] });
      expect(() => decodeManifest(lying, "m.wasm")).toThrow("m.wasm: the manifest's state pair");
    }
  });

  it("gives the reference's logits over two chained runs in the JS engine, the VM runner and a claim chain", () => {
    const wasm = new WasmRunner(loadWasm(stateful.wasm));
    const vm = new VmRunner(stateful.wasm);
    const chain = new ClaimChain(stateful.wasm);
    TOKENS.forEach((token, position) => {
      expectSameTensor(wasm.run(step(token, position)).get("logits")!, want[position], `JS engine, run ${position}`);
      expectSameTensor(vm.run(step(token, position)).get("logits")!, want[position], `VM runner, run ${position}`);
      const r = chain.append(packInputs(stateful.manifest.inputs, step(token, position)));
      expect(r.input.length).toBe(32);
      expectSameTensor(unpackOutputs(stateful.manifest.outputs, r.output).get("logits")!, want[position], `claim chain, run ${position}`);
    });
    // The second run read the first one's cache: from a zero cache the same token gives other logits.
    const fresh = new WasmRunner(loadWasm(stateful.wasm)).run(step(TOKENS[1], 1)).get("logits")!;
    expect(fresh.data).not.toEqual(want[1].data);
    wasm.resetState();
    expectSameTensor(wasm.run(step(TOKENS[0], 0)).get("logits")!, want[0], "JS engine after resetState");
  });

  it("keeps the state with the fast build and with the weights in a weights image", () => {
    const fast = compile(graph, { state: CACHE, build: "fast" });
    expect(fast.manifest.state).toEqual(stateful.manifest.state);
    const imaged = compile(graph, { state: CACHE, weightsImage: "always" });
    const { offset, bytes } = imaged.manifest.state![0];
    expect(offset + bytes).toBeLessThanOrEqual(imaged.manifest.memory.arena);
    const runners = [
      ["fast build", new WasmRunner(loadWasm(fast.wasm))],
      ["weights image", new WasmRunner(loadWasm(imaged.wasm, "m.wasm", { weights: imaged.weights!.bytes }))],
      ["weights image in the VM", new VmRunner(imaged.wasm, "m.wasm", { weights: imaged.weights!.bytes })],
    ] as const;
    for (const [name, runner] of runners) {
      TOKENS.forEach((token, position) => expectSameTensor(runner.run(step(token, position)).get("logits")!, want[position], `${name}, run ${position}`));
    }
  });

  it("is cached per state: a module with the cache pair and one without are two entries", () => {
    const dir = mkdtempSync(join(tmpdir(), "detml-state-cache-"));
    const bytes = encodeGraph(graph);
    const model = { graph, bytes, sourceHash: sourceHash(bytes), path: "tiny_gpt_kv.detml" };
    expect(compileCached(model, { cacheDir: dir, state: CACHE }).compiled).toBeDefined();
    const again = compileCached(model, { cacheDir: dir, state: CACHE });
    expect(again.compiled).toBeUndefined();
    expect(loadWasm(again.wasm, "cached").manifest.state?.map((s) => `${s.input}=${s.output}`)).toEqual(["past=present"]);
    const without = compileCached(model, { cacheDir: dir });
    expect(without.compiled).toBeDefined();
    expect(loadWasm(without.wasm, "cached").manifest.state).toBeUndefined();
    expect(readdirSync(dir)).toHaveLength(2);
  });
});

describe("state tensors: an accumulator, and the refusals", () => {
  // next = state + x; `total` (a view of next) is the stream output; next goes back to state.
  const g = new GraphBuilder();
  g.input("x", [4]);
  g.input("acc", [4]);
  const [next] = g.op("Add", ["acc", "x"], {}, { outputs: ["next"] });
  g.op("Identity", [next], {}, { outputs: ["total"] });
  g.output("total", "next");
  const accumulator = g.build();

  it("copies a state output that is also a stream output's value, and keeps the sums", () => {
    const { wasm, manifest } = compile(accumulator, { state: parseStatePairs(["acc=next"]) });
    expect(manifest.outputs.map((s) => s.name)).toEqual(["total"]);
    const runner = new WasmRunner(loadWasm(wasm));
    const x = Tensor.fromFloat([1, -2, 0.5, 3], [4], 16);
    const totals = [1, 2, 3].map(() => Array.from(runner.run({ x }).get("total")!.toFloat()));
    expect(totals).toEqual([[1, -2, 0.5, 3], [2, -4, 1, 6], [3, -6, 1.5, 9]]);
  });

  it("refuses pairs it cannot keep, naming them", () => {
    expect(() => compile(graph, { state: [{ input: "past", output: "logits" }], source: "tiny.detml" }))
      .toThrow("tiny.detml: state past=logits: input 'past' is [2, 2, 2, 8, 8] at frac 16 but output 'logits' is [1, 1, 64] at frac 16; a state pair needs the same shape and frac");
    expect(() => compile(graph, { state: [{ input: "cache", output: "present" }] })).toThrow("state cache=present: the model has no input 'cache' (inputs: token, position, past)");
    expect(() => compile(graph, { state: [{ input: "past", output: "next" }] })).toThrow("the model has no output 'next' (outputs: logits, present)");
    expect(() => compile(graph, { state: [...CACHE, ...CACHE] })).toThrow("input 'past' is in two state pairs");
    expect(() => parseStatePairs(["past"])).toThrow('--state "past": expected INPUT=OUTPUT');
    // Two states swapped through views: whichever copy ends the run first overwrites the other's source.
    const s = new GraphBuilder();
    s.input("a", [2]);
    s.input("b", [2]);
    s.op("Identity", ["a"], {}, { outputs: ["a2"] });
    s.op("Identity", ["b"], {}, { outputs: ["b2"] });
    s.output("a2", "b2");
    expect(() => compile(s.build(), { state: parseStatePairs(["a=b2", "b=a2"]) })).toThrow("state a=b2: output 'b2' is the state input 'b' of another pair");
  });
});
