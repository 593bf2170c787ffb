/**
 * One model id: a compiled module's manifest names the VM's module hash of the module itself
 * (code, memory size, initial memory, segments, step budget), every loader recomputes it, and a
 * module altered after compiling (one weight byte flipped) is refused by every command that opens
 * it, with one line naming the file. The .detml hash travels as the source hash. Also: a foreign
 * module's infinite loop ends at its step budget in `detml trace`, and `--ops` compares the JS
 * engine only as far as the engine can go, counting a trap on one side only as a disagreement.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { runHandler } from "../helpers/cli.js";
import { lintWasm } from "../../compiler/lint.js";
import { compile } from "../../compiler/compile.js";
import { openRunnable } from "../../verify/runnable.js";
import { hostAgrees, traceCommand } from "../../bin/commands/trace.js";
import { convertOnnxFile } from "../../converter/onnx/index.js";
import { encodeGraph, sourceHash } from "../../lib/graph/codec.js";
import { loadWasm } from "../../abi/manifest.js";
import { decodeModule, fastBoundaries, moduleId, toHex, traceModule } from "../../vm/index.js";
import { wat } from "../vm/helpers.js";
import { infiniteLoop, trapsAtEnd } from "../vm/special-modules.js";

const dir = mkdtempSync(join(tmpdir(), "detml-identity-"));

const run = runHandler;

/** The index in `wasm` of a weight's bytes (its first 16 bytes as stored, i32 little-endian). */
function weightOffset(wasm: Uint8Array, values: Int32Array): number {
  const needle = Buffer.from(values.buffer, values.byteOffset, 16);
  return Buffer.from(wasm).indexOf(needle);
}

describe("one model id", () => {
  const { graph } = convertOnnxFile("fixtures/models/mlp.onnx");
  const { wasm, manifest } = compile(graph, { source: "mlp" });
  afterEach(() => {
    process.exitCode = undefined;
  });

  test("the manifest names the module's own hash, and the .detml hash as the source hash", () => {
    expect(manifest.model_id).toBe(toHex(moduleId(decodeModule(wasm))));
    expect(manifest.source_hash).toBe(sourceHash(encodeGraph(graph)));
    expect(manifest.step_budget).toBe(decodeModule(wasm).stepBudget);
    expect(loadWasm(wasm).manifest.model_id).toBe(manifest.model_id);
    expect(lintWasm(wasm)).toEqual([]);
    // The fast build has no VM identity.
    expect(compile(graph, { build: "fast" }).manifest.model_id).toBeNull();
  });

  test("the step budget is part of the id: another budget, another model", () => {
    const other = compile(graph, { stepBudget: 2 ** 33 });
    expect(other.manifest.step_budget).toBe(2 ** 33);
    expect(other.manifest.model_id).not.toBe(manifest.model_id);
    expect(() => compile(graph, { stepBudget: 0 })).toThrow(/step budget must be an integer/);
  });

  test("a module with one weight byte flipped is refused by every loader, naming the file", async () => {
    const at = weightOffset(wasm, graph.constants.values().next().value!.data);
    expect(at).toBeGreaterThan(0);
    const altered = wasm.slice();
    altered[at] ^= 1;
    const path = join(dir, "altered.wasm");
    writeFileSync(path, altered);
    const why = /altered\.wasm: the module's contents hash to model id 0x[0-9a-f]{64}, but its manifest names 0x[0-9a-f]{64}: the module was altered after compiling/;
    expect(() => loadWasm(altered, path)).toThrow(why);
    expect(() => openRunnable(path, "wasm")).toThrow(why);
    expect(() => openRunnable(path, "vm")).toThrow(why);
    await expect(run(traceCommand, { model: path, "raw-input": "/dev/null" })).rejects.toThrow(why);
    expect(lintWasm(altered).map((v) => v.message)).toContainEqual(expect.stringMatching(/the module was altered after compiling/));
  });

  test("a device or FIFO given as a file is refused before it is read", async () => {
    const path = join(dir, "mlp-dev.wasm");
    writeFileSync(path, wasm);
    await expect(run(traceCommand, { model: path, "raw-input": "/dev/zero" })).rejects.toThrow(/\/dev\/zero: cannot read raw input: not a regular file/);
    await expect(run(traceCommand, { model: "/dev/zero" })).rejects.toThrow(/\/dev\/zero: cannot read WASM module: not a regular file/);
  });

  test("trace prints the one model id", async () => {
    const path = join(dir, "mlp.wasm");
    writeFileSync(path, wasm);
    const raw = join(dir, "zeros.bin");
    writeFileSync(raw, new Uint8Array(32));
    const out = JSON.parse(await run(traceCommand, { model: path, "raw-input": raw, json: true }));
    expect(out.model_id).toBe(manifest.model_id);
  });
});

describe("a foreign module's infinite loop in detml trace", () => {
  const path = join(dir, "loop.wasm");
  writeFileSync(path, wat(infiniteLoop()));
  afterEach(() => {
    process.exitCode = undefined;
  });

  test("it traps at the step budget; --ops runs the engine only up to that segment", async () => {
    const out = JSON.parse(await run(traceCommand, { model: path, "step-budget": 200_000, ops: true, json: true }));
    expect(out.status).toBe("trapped: step budget exhausted");
    expect(out.steps).toBe(200_001);
    expect(out.step_budget).toBe(200_000);
    expect(out.engine_boundaries_agree).toBe(true);
    expect(out.engine_note).toMatch(/step budget runs out/);
  });
});

describe("trace --ops: the engine's agreement counts traps on either side", () => {
  const bytes = wat(trapsAtEnd());
  const input = new Uint8Array(32);
  input[0] = 1;
  const vm = traceModule(bytes, input);
  const engine = fastBoundaries(bytes, input);

  test("both trap in the same op: they agree", () => {
    expect(vm.trap?.segment).toBe(2);
    expect(hostAgrees(engine, vm)).toMatchObject({ agree: true });
  });

  test("a trap on one side only is a disagreement, even when every shared boundary matches", () => {
    const completes = { ...engine, trap: undefined };
    expect(hostAgrees(completes, vm)).toMatchObject({ agree: false, note: expect.stringMatching(/the engine completes, the VM traps in segment 2/) });
    const fine = traceModule(bytes, new Uint8Array(32));
    const engineTraps = { ...fastBoundaries(bytes, new Uint8Array(32)), trap: { segment: 3, message: "unreachable" } };
    expect(hostAgrees(engineTraps, fine).agree).toBe(false);
  });

  test("the engine failing by itself is no verdict", () => {
    const failed = { ...engine, boundaries: engine.boundaries.slice(0, 1), trap: undefined, hostFailure: { segment: 0, message: "Maximum call stack size exceeded" } };
    expect(hostAgrees(failed, vm)).toMatchObject({ agree: true, note: expect.stringMatching(/failed by itself .* the VM decides/) });
  });
});
