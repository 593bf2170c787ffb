/**
 * One input path for every command: a float .npy with a non-integer value for an integer input
 * (frac 0, e.g. token ids or Gather indices) is refused by `run` (.detml and .wasm) and by
 * `trace`, `prove` and `dispute` (which load the module through bin/commands/trace.ts
 * loadVmModel) with the same one-line error naming the file, the input, the value and its index;
 * integer values in a float .npy are accepted everywhere and give the same outputs.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { disputeCommand } from "../../bin/commands/dispute.js";
import { proveCommand } from "../../bin/commands/prove.js";
import { runCommand } from "../../bin/commands/run.js";
import { traceCommand } from "../../bin/commands/trace.js";
import { compile } from "../../compiler/compile.js";
import { encodeGraph } from "../../lib/graph/codec.js";
import { writeNpy } from "../../lib/tensor/npy.js";
import { runHandler } from "../helpers/cli.js";
import { buildPickModel } from "../helpers/models.js";

const dir = mkdtempSync(join(tmpdir(), "detml-int-inputs-"));
process.env.DETML_CACHE_DIR = join(dir, "cache");
const graph = buildPickModel();
const detmlFile = join(dir, "pick.detml");
const wasmFile = join(dir, "pick.wasm");
writeFileSync(detmlFile, encodeGraph(graph));
writeFileSync(wasmFile, compile(graph).wasm);
const x = join(dir, "x.npy");
writeFileSync(x, writeNpy([1, 8], Float32Array.from({ length: 8 }, (_, i) => i / 8 - 0.4)));
const fractional = join(dir, "idx-fractional.npy");
writeFileSync(fractional, writeNpy([2], Float32Array.from([1, 2.5])));
const whole = join(dir, "idx-whole.npy");
writeFileSync(whole, writeNpy([2], Float32Array.from([1, 3])));

const refusal = `${fractional}: input 'idx' takes integers (e.g. token ids) but value 2.5 at index 1 is not one`;

describe("a float .npy for an integer input", () => {
  it("is refused by run, on the .detml and on the .wasm, on every engine", async () => {
    for (const [model, engine] of [[detmlFile, undefined], [detmlFile, "wasm"], [detmlFile, "vm"], [wasmFile, undefined]] as const) {
      await expect(runHandler(runCommand, { model, engine, input: [`x=${x}`, `idx=${fractional}`] })).rejects.toThrow(refusal);
    }
  });

  it("is refused by trace, prove and dispute exactly as run refuses it", async () => {
    const input = [`x=${x}`, `idx=${fractional}`];
    await expect(runHandler(traceCommand, { model: wasmFile, input, ops: false })).rejects.toThrow(refusal);
    await expect(runHandler(proveCommand, { model: wasmFile, input, step: 0, output: join(dir, "proof.json") })).rejects.toThrow(refusal);
    await expect(runHandler(disputeCommand, { model: wasmFile, input, degree: 4, "cheat-side": "submitter" })).rejects.toThrow(refusal);
  });

  it("with whole numbers is accepted everywhere, with the same outputs", async () => {
    const input = [`x=${x}`, `idx=${whole}`];
    const ran = JSON.parse(await runHandler(runCommand, { model: wasmFile, input, json: true }));
    const traced = JSON.parse(await runHandler(traceCommand, { model: wasmFile, input, json: true, ops: false }));
    expect(traced.status).toBe("halted");
    expect(traced.outputs.y.values).toEqual(ran.outputs.y.values);
  });
});
