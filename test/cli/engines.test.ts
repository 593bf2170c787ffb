/**
 * The three engines through the CLI: a converted MNIST model run by the reference executor, the
 * compiled module in the JS engine and the same module in the rollup VM gives the same bytes;
 * `detml verify` reports wasm (and vm) bit-identical to ref.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readNpy, writeNpy } from "../../lib/tensor/npy.js";

const dir = mkdtempSync(join(tmpdir(), "detml-engines-"));

function detml(...args: string[]) {
  const r = spawnSync(process.execPath, ["dist/bin/detml.js", ...args], { encoding: "utf8", env: { ...process.env, DETML_CACHE_DIR: join(dir, "cache") } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("engines ref, wasm and vm", () => {
  it("give byte-identical outputs for the MNIST LeNet through detml run", () => {
    const model = join(dir, "lenet.detml");
    expect(detml("convert", "fixtures/models/mnist_lenet.onnx", "-o", model).code).toBe(0);
    const digits = readNpy(readFileSync("fixtures/data/mnist_test_1000.npy"));
    const input = join(dir, "two.npy");
    writeFileSync(input, writeNpy([2, 1, 28, 28], digits.data.slice(0, 2 * 784) as Float32Array));
    const outputs = ["ref", "wasm", "vm"].map((engine) => {
      const r = detml("run", model, "--engine", engine, "--input", input, "--json");
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j.engine).toBe(engine);
      return j.outputs.logits.values;
    });
    expect(outputs[1]).toEqual(outputs[0]);
    expect(outputs[2]).toEqual(outputs[0]);
  });

  it("detml verify reports wasm and vm bit-identical to ref", () => {
    const r = detml("verify", "fixtures/models/mlp.onnx", "--input", "fixtures/data/mlp_input.npy", "--engine", "ref", "wasm", "vm", "--json");
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.engines.map((e: { engine: string }) => e.engine)).toEqual(["ref", "wasm", "vm"]);
    for (const e of report.engines.slice(1)) expect(e.identicalTo).toEqual({ engine: "ref", identical: true });
  });
});
