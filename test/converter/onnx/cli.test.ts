/**
 * `detml convert` through the compiled CLI (dist/bin/detml.js, built by `npm test`; built here
 * if missing): a PyTorch export converts and runs, `--json` is machine-readable, and bad input
 * exits 1 with one `detml convert: error: ...` line.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeGraph, sourceHash } from "../../../lib/graph/codec.js";
import { readNpy, writeNpy } from "../../../lib/tensor/npy.js";
import { buildModel } from "./onnx-builder.js";

const REPO = resolve(import.meta.dirname, "../../..");
const CLI = join(REPO, "dist/bin/detml.js");
const LENET = join(REPO, "fixtures/models/mnist_lenet.onnx");
const dir = mkdtempSync(join(tmpdir(), "detml-convert-cli-"));

function detml(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(join(REPO, "dist/bin/commands/convert.js"))) execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: REPO, stdio: "inherit" });
});

// Each spawn loads the whole CLI (about 1 s on a busy machine): allow for several per test.
describe("detml convert", { timeout: 30000 }, () => {
  it("converts LeNet, prints the summary, and the result runs", () => {
    const out = join(dir, "lenet.detml");
    const r = detml("convert", LENET, "-o", out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/nodes\s+12 ONNX -> 12 detml/);
    expect(r.stdout).toMatch(/inputs\s+input \[1,1,28,28\] Q16/);
    const id = sourceHash(new Uint8Array(readFileSync(out)));
    expect(r.stdout).toContain(`source    ${id}`);
    // The test set is ordered by class: digits 0..4 are zeros.
    const digits = readNpy(new Uint8Array(readFileSync(join(REPO, "fixtures/data/mnist_test_1000.npy"))));
    const five = join(dir, "five.npy");
    writeFileSync(five, writeNpy([5, 1, 28, 28], (digits.data as Float32Array).slice(0, 5 * 784)));
    const run = detml("run", out, "--input", five, "--json");
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).outputs.logits.argmax).toEqual([0, 0, 0, 0, 0]);
  });

  it("prints a JSON summary with --json", () => {
    const out = join(dir, "lenet-q12.detml");
    const r = detml("convert", LENET, "-o", out, "--frac", "12", "--json");
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ opset: 13, nodesIn: 12, nodesOut: 12, output: out, frac: 12, params: 61706 });
    expect(summary.source_hash).toBe(sourceHash(new Uint8Array(readFileSync(out))));
    expect(decodeGraph(new Uint8Array(readFileSync(out))).frac).toBe(12);
  });

  it("exits 1 with one error line on a file that is not ONNX", () => {
    const r = detml("convert", join(REPO, "fixtures/README.md"), "-o", join(dir, "x.detml"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^detml convert: error: .*README\.md: not an ONNX model: invalid wire type/);
  });

  it("exits 1 listing unsupported ops, and on a symbolic dimension until --shape fixes it", () => {
    const bad = join(dir, "bad.onnx");
    writeFileSync(bad, buildModel({
      nodes: [{ op: "NonZero", inputs: ["x"], outputs: ["y"], name: "nz" }],
      inputs: [{ name: "x", shape: [1, 4] }],
      outputs: [{ name: "y" }],
    }));
    const r = detml("convert", bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("detml convert: error: unsupported ONNX ops: NonZero (node 'nz': its output shape depends on the data)\n");

    const seq = join(dir, "seq.onnx");
    writeFileSync(seq, buildModel({ nodes: [{ op: "Relu", inputs: ["x"], outputs: ["y"] }], inputs: [{ name: "x", shape: ["batch", "seq"] }], outputs: [{ name: "y" }] }));
    const missing = detml("convert", seq);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("input 'x' has symbolic dimension 'seq' (axis 1): pass --shape x=1,<seq>");
    const fixed = detml("convert", seq, "--shape", "x=1,7", "--json");
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(JSON.parse(fixed.stdout).inputs).toEqual([{ name: "x", shape: [1, 7], frac: 16 }]);
    expect(existsSync(join(dir, "seq.detml"))).toBe(true);
    const malformed = detml("convert", seq, "--shape", "x=1,seven");
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toContain("--shape x=1,seven: expected NAME=D0,D1,...");
  });
});
