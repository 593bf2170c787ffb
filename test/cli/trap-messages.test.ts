/**
 * Errors of compiled models, one line naming the thing at fault: a .wasm whose first byte is
 * damaged is a malformed WebAssembly module, named, for `run` and `trace` (not "not a .detml
 * file"); a compiled module that traps on an out-of-range Gather index, on the wasm and on the vm
 * engine, names the op and gives the reference executor's message (the index and the range) when
 * the .detml is at hand, or points at `--engine ref` on the .detml for a bare .wasm.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCommand } from "../../bin/commands/run.js";
import { traceCommand } from "../../bin/commands/trace.js";
import { compile } from "../../compiler/compile.js";
import { encodeGraph } from "../../lib/graph/codec.js";
import { writeNpy } from "../../lib/tensor/npy.js";
import { runHandler } from "../helpers/cli.js";
import { buildPickModel } from "../helpers/models.js";

const dir = mkdtempSync(join(tmpdir(), "detml-traps-"));
process.env.DETML_CACHE_DIR = join(dir, "cache");
const graph = buildPickModel();
const detmlFile = join(dir, "pick.detml");
const wasmFile = join(dir, "pick.wasm");
const wasm = compile(graph).wasm;
writeFileSync(detmlFile, encodeGraph(graph));
writeFileSync(wasmFile, wasm);
const x = join(dir, "x.npy");
writeFileSync(x, writeNpy([1, 8], Float32Array.from({ length: 8 }, (_, i) => i / 8 - 0.4)));
const outOfRange = join(dir, "idx.npy");
writeFileSync(outOfRange, writeNpy([2], Float32Array.from([1, 9])));
const input = [`x=${x}`, `idx=${outOfRange}`];

describe("errors of compiled models", () => {
  it("a .wasm with a bad first byte is a malformed WebAssembly module, named", async () => {
    const damaged = join(dir, "damaged.wasm");
    writeFileSync(damaged, Uint8Array.from([0xff, ...wasm.subarray(1)]));
    const run = runHandler(runCommand, { model: damaged, input });
    await expect(run).rejects.toThrow(`${damaged}: malformed WebAssembly module`);
    await expect(runHandler(runCommand, { model: damaged, input })).rejects.not.toThrow(/detml file/);
    await expect(runHandler(traceCommand, { model: damaged, input, ops: false })).rejects.toThrow(`${damaged}: malformed WebAssembly module`);
  });

  it("the reference names the index and the range", async () => {
    await expect(runHandler(runCommand, { model: detmlFile, input })).rejects.toThrow("node 'pick' (Gather) failed: Gather index 9 is out of range for axis 1 of size 8");
  });

  it("a trap on the wasm and vm engines names the op and gives the reference's message", async () => {
    for (const engine of ["wasm", "vm"]) {
      const run = runHandler(runCommand, { model: detmlFile, engine, input });
      await expect(run).rejects.toThrow(/op op_1 \(pick: Gather\)/);
      await expect(runHandler(runCommand, { model: detmlFile, engine, input })).rejects.toThrow(
        "the reference executor says: node 'pick' (Gather) failed: Gather index 9 is out of range for axis 1 of size 8");
    }
  });

  it("a bare .wasm that traps names the op and points at the reference on the .detml", async () => {
    const run = runHandler(runCommand, { model: wasmFile, input });
    await expect(run).rejects.toThrow(/op op_1 \(pick: Gather\) trapped: .*run its \.detml with --engine ref/);
  });
});
