/**
 * `detml verify` end to end through the built CLI (dist/bin/detml.js, made by `npm test`'s
 * build step): JSON report fields and sizes of the errors on the MLP fixture, --random, argmax
 * agreement per position of a sequence output, and the one-line errors with exit code 1 for bad inputs.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import onnxProto from "onnx-proto";
import { writeNpy } from "../../lib/tensor/npy.js";

const REPO = resolve(import.meta.dirname, "../..");
const CLI = join(REPO, "dist/bin/detml.js");
const MLP = join(REPO, "fixtures/models/mlp.onnx");

/** tokens int64 [1,5] -> Gather from a [7,3] table -> Relu: an integer input whose range verify reads off Gather. */
function embeddingModel(): Uint8Array {
  const { onnx } = onnxProto;
  const DT = onnx.TensorProto.DataType;
  const info = (name: string, elemType: number, dims: number[]) => ({ name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 13 }],
    graph: {
      name: "embedding",
      initializer: [{ name: "table", dataType: DT.FLOAT, dims: [7, 3], floatData: Array.from({ length: 21 }, (_, i) => Math.sin(i)) }],
      node: [{ opType: "Gather", input: ["table", "tokens"], output: ["e"] }, { opType: "Relu", input: ["e"], output: ["y"] }],
      input: [info("tokens", DT.INT64, [1, 5])],
      output: [info("y", DT.FLOAT, [1, 5, 3])],
    },
  }).finish();
}

function detml(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO, encoding: "utf8" });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe("detml verify", () => {
  beforeAll(() => {
    if (!existsSync(CLI)) execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: REPO, stdio: "inherit" });
  });

  it("reports small errors on the MLP fixture as JSON", () => {
    const r = detml("verify", MLP, "--input", "fixtures/data/mlp_input.npy", "--json");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ model: MLP, inputs: "input=fixtures/data/mlp_input.npy", samples: 1 });
    expect(report.oracle).toMatch(/^onnxruntime \S+ \(cpu, 1 thread\)$/);
    expect(report.engines.map((e: { engine: string }) => e.engine)).toEqual(["ref", "wasm"]);
    expect(report.engines[1].identicalTo).toEqual({ engine: "ref", identical: true });
    const [engine] = report.engines;
    const [out] = engine.outputs;
    expect(out).toMatchObject({ name: "output", shape: [1, 10], samples: 1, count: 10, integer: false, saturated: 0, nonFinite: 0 });
    expect(out.argmax).toEqual({ agree: 1, total: 1, percent: 100, per: "row" });
    // Q16 activations, one Gemm-ReLU-Gemm chain: errors of order 1e-5, far below 1e-3 of the range.
    expect(out.maxAbsError).toBeLessThan(1e-3);
    expect(out.maxRelError).toBeLessThan(1e-3);
    expect(out.meanAbsError).toBeLessThanOrEqual(out.maxAbsError);
    expect(out.range).toBeGreaterThan(0);
  });

  it("runs seeded random samples and prints a table", () => {
    const json = JSON.parse(detml("verify", MLP, "--random", "4", "--seed", "9", "--json").stdout);
    expect(json.inputs).toBe("4 random samples (seed 9)");
    expect(json.engines[0].outputs[0]).toMatchObject({ samples: 4, count: 40, argmax: { total: 4 } });
    expect(json.engines[0].outputs[0].maxRelError).toBeLessThan(1e-3);
    const again = JSON.parse(detml("verify", MLP, "--random", "4", "--seed", "9", "--json").stdout);
    expect(again.engines[0].outputs).toEqual(json.engines[0].outputs);
    const table = detml("verify", MLP, "--random", "2");
    expect(table.status).toBe(0);
    expect(table.stdout).toContain("engine ref: 2 samples");
    expect(table.stdout).toMatch(/output\s+shape\s+max abs err\s+max rel err/);
  });

  it("feeds random token ids in the range read off Gather", () => {
    const model = join(mkdtempSync(join(tmpdir(), "detml-verify-")), "embedding.onnx");
    writeFileSync(model, embeddingModel());
    const r = detml("verify", model, "--random", "3", "--json");
    expect(r.stderr).toBe("");
    const [out] = JSON.parse(r.stdout).engines[0].outputs;
    expect(out).toMatchObject({ name: "y", shape: [1, 5, 3], samples: 3 });
    // Gather and Relu copy the table's values (stored at 20 fractional bits): error <= 2^-21.
    expect(out.maxAbsError).toBeLessThanOrEqual(2 ** -21);
    // Every token 6: every output row is relu(table[6]).
    const narrow = JSON.parse(detml("verify", model, "--random", "2", "--int-range", "tokens=6:6", "--json").stdout);
    const row = [18, 19, 20].map((i) => Math.max(0, Math.sin(i)));
    expect(narrow.engines[0].outputs[0].range).toBeCloseTo(Math.max(...row) - Math.min(...row), 6);
  });

  it("reports argmax agreement per position for a sequence output [1, T, V], in JSON and in the table", () => {
    const model = join(mkdtempSync(join(tmpdir(), "detml-verify-")), "embedding.onnx");
    writeFileSync(model, embeddingModel());
    const json = JSON.parse(detml("verify", model, "--random", "3", "--json").stdout);
    for (const engine of json.engines) {
      // 3 samples x 5 positions, each an argmax over the last axis (V = 3); the values copy the table, so all agree.
      expect(engine.outputs[0].argmax).toEqual({ agree: 15, total: 15, percent: 100, per: "position" });
    }
    const table = detml("verify", model, "--random", "3");
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/y\s+\[1,5,3\].*15\/15 positions \(100\.00%\)/);
  });

  it("exits 1 when --tolerance is exceeded, 0 when it holds", () => {
    expect(detml("verify", MLP, "--random", "2", "--tolerance", "0.01").status).toBe(0);
    const r = detml("verify", MLP, "--random", "2", "--tolerance", "1e-12");
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^detml verify: error: relative error above --tolerance 1e-12: ref\/output /);
  });

  it("rejects an input of the wrong shape with a clear message", () => {
    const dir = mkdtempSync(join(tmpdir(), "detml-verify-"));
    const bad = join(dir, "bad.npy");
    writeFileSync(bad, writeNpy([1, 15], new Float32Array(15)));
    const r = detml("verify", MLP, "--input", bad);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim()).toBe(`detml verify: error: ${bad}: input 'input' has shape [1,15] but the model expects [1,16] (or [N,16] for a batch of N)`);
  });

  it("names a missing or non-ONNX model file and a wrong input name", () => {
    const missing = detml("verify", "no/such/model.onnx");
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim()).toBe("detml verify: error: no/such/model.onnx: cannot read ONNX model: no such file");
    const notOnnx = detml("verify", "fixtures/data/mlp_input.npy");
    expect(notOnnx.status).toBe(1);
    expect(notOnnx.stderr).toMatch(/^detml verify: error: fixtures\/data\/mlp_input.npy: onnxruntime cannot load the model: /);
    const named = detml("verify", MLP, "--input", "x=fixtures/data/mlp_input.npy");
    expect(named.status).toBe(1);
    expect(named.stderr.trim()).toBe("detml verify: error: the model has no input 'x' (inputs: input)");
  });
});
