/**
 * The WASM fast path as a library: loading checks (not WASM, not a detml module, missing ABI
 * exports), input checks (shape, names, frac conversion as the reference executor does it), the
 * op-boundary callback, run-to-run independence on one instance, and the compile cache of the
 * wasm engine.
 */
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile, COMPILER_VERSION } from "../../compiler/compile.js";
import { compileCached } from "../../compiler/cache.js";
import { wasmEngine } from "../../verify/engines.js";
import { openRunnable, signatureGraph } from "../../verify/runnable.js";
import { encodeGraph, sourceHash } from "../../lib/graph/codec.js";
import { run } from "../../lib/executor.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { InputError } from "../../lib/inputs.js";
import { AbiError, loadWasm, WasmRunner } from "../../runtime-wasm/index.js";
import { decodeModule, moduleId, toHex } from "../../vm/index.js";
import { buildCnn } from "../helpers/models.js";
import { Rng } from "../helpers/random.js";
import { expectSameTensor } from "../compiler/helpers.js";

const cnn = buildCnn(11).graph;
const compiled = compile(cnn);
const x = new Rng(5).tensor([1, 1, 8, 8]);

/** A valid module with no detml section: one exported function. */
const FOREIGN_WASM = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 7, 7, 1, 3, 114, 117, 110, 0, 0,
  10, 4, 1, 2, 0, 0x0b]);

describe("loading a module", () => {
  it("rejects bytes that are not WebAssembly", () => {
    expect(() => loadWasm(new Uint8Array([1, 2, 3]), "x.wasm")).toThrow(/x\.wasm: malformed WebAssembly module/);
  });

  it("rejects a module that is not a detml module", () => {
    expect(() => loadWasm(FOREIGN_WASM, "other.wasm")).toThrow(AbiError);
    expect(() => loadWasm(FOREIGN_WASM, "other.wasm")).toThrow(/not a detml module/);
  });

  it("reads the manifest: model id, I/O slots, one op per segment", () => {
    const { manifest } = loadWasm(compiled.wasm);
    expect(manifest.source_hash).toBe(sourceHash(encodeGraph(cnn)));
    expect(manifest.model_id).toBe(toHex(moduleId(decodeModule(compiled.wasm))));
    expect(manifest.inputs).toEqual([{ name: "x", shape: [1, 1, 8, 8], frac: 16, offset: 32, bytes: 256 }]);
    expect(manifest.outputs.map((s) => s.name)).toEqual(["y"]);
    // conv+relu fused, pool, then flatten (a view, listed with the next segment) and fc.
    expect(manifest.ops.map((o) => o.kinds)).toEqual([["Conv", "Relu"], ["MaxPool"], ["Flatten", "Gemm"]]);
    expect(signatureGraph(manifest).inputs[0].shape).toEqual([1, 1, 8, 8]);
  });
});

describe("running", () => {
  const runner = new WasmRunner(loadWasm(compiled.wasm));

  it("matches the reference, run after run on one instance", () => {
    const want = run(cnn, { x }).outputs.get("y")!;
    for (let i = 0; i < 3; i++) expectSameTensor(runner.run({ x }).get("y")!, want, "y");
    const other = new Rng(6).tensor([1, 1, 8, 8]);
    expectSameTensor(runner.run({ x: other }).get("y")!, run(cnn, { x: other }).outputs.get("y")!, "y");
  });

  it("rejects a wrong input shape, a missing input and an unknown one", () => {
    expect(() => runner.run({ x: new Rng(1).tensor([1, 8, 8]) })).toThrow(InputError);
    expect(() => runner.run({ x: new Rng(1).tensor([1, 8, 8]) })).toThrow("input 'x' has shape [1,8,8] but the model expects [1,1,8,8]");
    expect(() => runner.run({})).toThrow("missing input 'x'");
    expect(() => runner.run({ x, z: x })).toThrow("the model has no input 'z'");
  });

  it("converts an input at another frac exactly as the reference executor does", () => {
    const at12 = new Tensor(x.shape, x.data.map((v) => v >> 4), 12);
    expectSameTensor(runner.run({ x: at12 }).get("y")!, run(cnn, { x: at12 }).outputs.get("y")!, "y");
  });

  it("the direct input copy leaves the same memory and outputs as the load_inputs host calls", () => {
    const a = new WasmRunner(loadWasm(compiled.wasm));
    const b = new WasmRunner(loadWasm(compiled.wasm));
    const direct = a.run({ x });
    const viaAbi = b.run({ x }, () => {});
    expectSameTensor(direct.get("y")!, viaAbi.get("y")!, "y");
    expect(a.memory).toEqual(b.memory);
  });

  it("hands the memory to a callback at every segment boundary", () => {
    const seen: number[] = [];
    runner.run({ x }, (k, memory) => {
      expect(memory.length).toBe(compiled.manifest.memory.pages * 65536);
      seen.push(k);
    });
    expect(seen).toEqual([0, 1, 2, 3, 4]);
  });
});

describe("the wasm engine", () => {
  it("fits detml verify's engine interface and agrees with the reference", async () => {
    const loaded = await wasmEngine.load(cnn);
    expectSameTensor((await loaded.run(new Map([["x", x]]))).get("y")!, run(cnn, { x }).outputs.get("y")!, "y");
  });

  it("opens a .detml on any engine and a .wasm on the wasm and vm engines only", () => {
    const dir = mkdtempSync(join(tmpdir(), "detml-open-test-"));
    const detml = join(dir, "cnn.detml");
    const wasmFile = join(dir, "cnn.wasm");
    writeFileSync(detml, encodeGraph(cnn));
    writeFileSync(wasmFile, compiled.wasm);
    expect(openRunnable(detml).engine).toBe("ref");
    const viaWasm = openRunnable(detml, "wasm", { cacheDir: null });
    expectSameTensor(viaWasm.runSample!(new Map([["x", x]])).get("y")!, run(cnn, { x }).outputs.get("y")!, "y");
    const bare = openRunnable(wasmFile);
    expect(bare.engine).toBe("wasm");
    expect(bare.graph.inputs).toEqual([{ name: "x", shape: [1, 1, 8, 8], frac: 16 }]);
    const viaVm = openRunnable(wasmFile, "vm");
    expect(viaVm.engine).toBe("vm");
    expectSameTensor(viaVm.runSample!(new Map([["x", x]])).get("y")!, run(cnn, { x }).outputs.get("y")!, "y");
    expect(() => openRunnable(wasmFile, "ref")).toThrow(/compiled module: it runs on the wasm or vm engine only/);
  });

  it("compiles once per source hash, then reads the cached module", () => {
    const dir = mkdtempSync(join(tmpdir(), "detml-cache-test-"));
    const bytes = encodeGraph(cnn);
    const model = { graph: cnn, bytes, sourceHash: sourceHash(bytes), path: "cnn.detml" };
    const first = compileCached(model, { cacheDir: dir });
    expect(first.compiled).toBeDefined();
    expect(readdirSync(dir)).toEqual([`${model.sourceHash}-c${COMPILER_VERSION}-canonical.wasm`]);
    const second = compileCached(model, { cacheDir: dir });
    expect(second.compiled).toBeUndefined();
    expect(second.wasm).toEqual(first.wasm);
  });
});
