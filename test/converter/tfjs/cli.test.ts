/**
 * `detml convert` and `detml verify` on TF.js model.json files, as a user runs them: the compiled
 * bin (needs `npm run build` first; npm test does it) picks the TF.js front end by content.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { realModelsDir } from "./helpers.js";

const MODEL = "fixtures/tfjs/models/mnist_cnn/graph/model.json";
const DIGITS = "fixtures/tfjs/data/mnist_test_100.npy";

function detml(...args: string[]) {
  const r = spawnSync(process.execPath, ["dist/bin/detml.js", ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("detml CLI on TF.js models", () => {
  it("converts a graph model.json and prints what it did", () => {
    const out = join(mkdtempSync(join(tmpdir(), "detml-tfjs-cli-")), "mnist.detml");
    const r = detml("convert", MODEL, "-o", out);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/converted .*model\.json \(TF\.js graph-model/);
    expect(r.stdout).toMatch(/inputs +conv1_input \[1,28,28,1\] Q16/);
    expect(existsSync(out)).toBe(true);
  });

  it("verifies a layers model.json against TF.js on real digits, as JSON", () => {
    const r = detml("verify", "fixtures/tfjs/models/residual/layers/model.json", "--input", DIGITS, "--json");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.oracle).toMatch(/^tfjs 4\./);
    expect(report.samples).toBe(100);
    expect(report.engines[0].outputs[0].argmax.percent).toBe(100);
  });

  it("fails with one line listing control-flow ops", () => {
    const r = detml("convert", join(realModelsDir(), "handtrack.json"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^detml convert: error: unsupported TensorFlow ops: .*\[control flow\]/);
  });
});
