/**
 * The EVM target through the CLI handlers (in-process): `compile --target evm -o DIR` writes
 * DIR/<model>.evm.json with deployable contracts (and says when a model cannot fit one
 * transaction, which `run --engine evm` then refuses), `run --engine evm --json` gives the
 * reference's outputs plus the gas of the inference, and `verify --engine ref evm` reports evm
 * bit-identical.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileCommand } from "../../bin/commands/compile.js";
import { runCommand } from "../../bin/commands/run.js";
import { verifyCommand } from "../../bin/commands/verify.js";
import { encodeGraph } from "../../lib/graph/codec.js";
import { runHandler } from "../helpers/cli.js";
import { fixtureGraph } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "detml-evm-cli-"));
const model = join(dir, "mlp.detml");
writeFileSync(model, encodeGraph(fixtureGraph("mlp")));

describe("detml and the EVM target", () => {
  it("compile --target evm writes the model and data contracts", async () => {
    const out = join(dir, "out");
    const summary = JSON.parse(await runHandler(compileCommand, { model, output: out, target: "evm", json: true }));
    expect(summary.output).toBe(join(out, "mlp.evm.json"));
    expect(summary.macs).toBe(16 * 32 + 32 * 10);
    const artifact = JSON.parse(readFileSync(summary.output, "utf8"));
    expect(artifact.data).toHaveLength(summary.data_contracts);
    expect(artifact.model.bytecode.startsWith("0x")).toBe(true);
    expect(artifact.inputs).toEqual([{ name: "input", shape: [1, 16], frac: 16 }]);
    expect(existsSync(join(dir, "mlp.wasm"))).toBe(false);
    expect(summary.over_gas_cap).toBeNull();
  });

  it("says when a model's multiply-accumulates cannot fit one transaction", async () => {
    const big = join(dir, "resnet.detml");
    writeFileSync(big, encodeGraph(fixtureGraph("resnet_small")));
    const summary = JSON.parse(await runHandler(compileCommand, { model: big, output: join(dir, "out"), target: "evm", json: true }));
    expect(summary.over_gas_cap).toMatch(/^the model's 2318496 multiply-accumulates need at least 60280896 gas per inference .*EIP-7825/);
    await expect(runHandler(runCommand, { model: big, input: ["fixtures/data/resnet_small_input.npy"], engine: "evm" }))
      .rejects.toThrow(/^engine evm: the model's 2318496 multiply-accumulates need at least/);
  });

  it("run --engine evm prints the reference's outputs and the gas", async () => {
    const args = { model, input: ["fixtures/data/mlp_input.npy"], json: true };
    const ref = JSON.parse(await runHandler(runCommand, { ...args, engine: "ref" }));
    const evm = JSON.parse(await runHandler(runCommand, { ...args, engine: "evm" }));
    expect(evm.engine).toBe("evm");
    expect(evm.outputs).toEqual(ref.outputs);
    expect(evm.gas).toHaveLength(1);
    expect(evm.gas[0]).toBeGreaterThan(21_000);
    expect(evm.gas[0]).toBeLessThan(200_000);
  });

  it("verify --engine ref evm reports evm bit-identical to ref", async () => {
    const report = JSON.parse(await runHandler(verifyCommand, { model: "fixtures/models/mlp.onnx", random: 2, seed: 1, engine: ["ref", "evm"], json: true }));
    expect(report.engines.map((e: { engine: string }) => e.engine)).toEqual(["ref", "evm"]);
    expect(report.engines[1].identicalTo).toEqual({ engine: "ref", identical: true });
  });
});
