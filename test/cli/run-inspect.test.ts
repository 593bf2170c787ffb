/**
 * The CLI as a user meets it: the compiled bin on a .detml made by the committed example script.
 * Needs `npm run build` first (npm test does it).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readNpy, writeNpy } from "../../lib/tensor/npy.js";
import { loadModel } from "../../lib/model-files.js";
import { run } from "../../lib/executor.js";
import { Tensor } from "../../lib/tensor/tensor.js";

const dir = mkdtempSync(join(tmpdir(), "detml-cli-"));
const model = join(dir, "template.detml");

function detml(...args: string[]) {
  const r = spawnSync(process.execPath, ["dist/bin/detml.js", ...args], { encoding: "utf8", env: { ...process.env, DETML_CACHE_DIR: join(dir, "cache") } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const digits = readNpy(readFileSync("fixtures/data/mnist_test_1000.npy"));
function writeDigits(name: string, first: number, count: number): string {
  const path = join(dir, name);
  writeFileSync(path, writeNpy([count, 1, 28, 28], digits.data.slice(first * 784, (first + count) * 784) as Float32Array));
  return path;
}

beforeAll(() => {
  const r = spawnSync(process.execPath, ["dist/examples/template-classifier.js", model], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
});

describe("detml inspect", () => {
  it("prints the op table and the source hash", () => {
    const r = detml("inspect", model);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/source\s+0x[0-9a-f]{64}/);
    expect(r.stdout).toMatch(/match\s+MatMul\s+match\s+\[1,10\]\s+Q16\s+7\.8k\s+i32\s+7\.8k/);
  });

  it("--json gives totals a script can use", () => {
    const j = JSON.parse(detml("inspect", model, "--json").stdout);
    expect(j.source_hash).toBe(loadModel(model).sourceHash);
    expect(j.params).toBe(784 * 10 + 10);
    expect(j.macs).toBe(7840);
    expect(j.nodes.map((n: { op: string }) => n.op)).toEqual(["Flatten", "MatMul", "Add"]);
  });
});

describe("detml run", () => {
  it("runs a batch sample by sample, prints JSON and writes float32 .npy equal to the library's answer", () => {
    const input = writeDigits("five.npy", 500, 5);
    const out = join(dir, "logits.npy");
    const r = detml("run", model, "--input", input, "--output", out, "--json");
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.samples).toBe(5);
    expect(j.outputs.logits.shape).toEqual([5, 10]);
    const written = readNpy(readFileSync(out));
    expect(written.dtype).toBe("float32");
    expect(written.shape).toEqual([5, 10]);
    const graph = loadModel(model).graph;
    for (let s = 0; s < 5; s++) {
      const x = Tensor.fromFloat(digits.data.subarray((500 + s) * 784, (501 + s) * 784), [1, 1, 28, 28], 16);
      const want = run(graph, { image: x }).outputs.get("logits")!.toFloat();
      expect(Array.from(written.data.subarray(s * 10, s * 10 + 10))).toEqual(Array.from(Float32Array.from(want)));
      expect(j.outputs.logits.argmax[s]).toBe(want.indexOf(Math.max(...want)));
    }
  });

  it("accepts NAME=FILE and writes NAME=FILE", () => {
    const input = writeDigits("one.npy", 10, 1);
    const out = join(dir, "named.npy");
    const r = detml("run", model, "-i", `image=${input}`, "-o", `logits=${out}`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wrote logits to ${out}`);
    expect(readNpy(readFileSync(out)).shape).toEqual([1, 10]);
  });

  describe("bad input: one clear line and exit code 1", () => {
    const cases: [string, () => string[], RegExp][] = [
      ["a missing model file", () => ["run", join(dir, "nope.detml"), "-i", "x.npy"], /nope\.detml: cannot read (\.detml )?model: no such file/],
      ["a corrupt .detml", () => { const p = join(dir, "bad.detml"); const b = readFileSync(model); b[b.length - 100] ^= 0xff; writeFileSync(p, b); return ["run", p, "-i", writeDigits("d.npy", 0, 1)]; }, /bad\.detml: corrupt \.detml file \(checksum mismatch/],
      ["a file that is not .detml", () => ["inspect", "fixtures/models/mlp.onnx"], /mlp\.onnx: not a \.detml file/],
      ["a wrong input shape", () => ["run", model, "-i", "fixtures/data/mlp_input.npy"], /input 'image' has shape \[1,16\] but the model expects \[1,1,28,28\]/],
      ["a bad .npy", () => { const p = join(dir, "bad.npy"); writeFileSync(p, "not numpy at all"); return ["run", model, "-i", p]; }, /bad\.npy: /],
      ["an unknown input name", () => ["run", model, "-i", `pixels=${writeDigits("e.npy", 0, 1)}`], /the model has no input 'pixels'/],
      ["an unknown output name", () => ["run", model, "-i", writeDigits("f.npy", 0, 1), "-o", "probs=x.npy"], /the model has no output 'probs'/],
      ["no input at all", () => ["run", model], /no --input given; the model takes image \[1,1,28,28\]/],
    ];
    for (const [what, args, message] of cases) {
      it(what, () => {
        const r = detml(...args());
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      });
    }
  });

  describe("an empty batch, a 0-d array, a zero-size or impossibly large shape: one line naming the input, from every engine", () => {
    /** A .npy of float32 with this shape tuple (as Python writes it) and no data. */
    const header = (name: string, tuple: string) => {
      const text = `{'descr': '<f4', 'fortran_order': False, 'shape': ${tuple}, }\n`;
      const path = join(dir, name);
      writeFileSync(path, Buffer.concat([Buffer.from([0x93, ...Buffer.from("NUMPY"), 1, 0, text.length & 255, text.length >> 8]), Buffer.from(text)]));
      return path;
    };
    const expects = "the model expects [1,1,28,28] (or [N,1,28,28] for a batch of N";
    const cases: [string, () => string, string][] = [
      ["an empty batch", () => header("empty.npy", "(0, 1, 28, 28)"), `input 'image' has shape [0,1,28,28], an empty batch, but ${expects} >= 1)`],
      ["a 0-d array", () => { const p = join(dir, "scalar.npy"); writeFileSync(p, writeNpy([], new Float32Array([0.5]))); return p; },
        `input 'image' has shape [], a 0-d array, but ${expects})`],
      ["a zero-size dimension", () => header("zero.npy", "(2, 1, 28, 0)"), `input 'image' has shape [2,1,28,0] but ${expects})`],
      ["dimensions multiplying past 2^53 beside a zero", () => header("huge.npy", `(${"4503599627370496, ".repeat(20)}0)`), "is too large: its dimensions multiply past 2^53"],
    ];
    for (const [what, file, message] of cases) {
      it(what, () => {
        const path = file();
        // Inputs are read before any engine runs; the engines are spawned once (they cost seconds each).
        for (const engine of what === "an empty batch" ? ["ref", "wasm", "vm"] : ["ref"]) {
          const r = detml("run", model, "--engine", engine, "-i", path);
          expect(r.code, engine).toBe(1);
          expect(r.stderr.trim().split("\n"), engine).toHaveLength(1);
          expect(r.stderr, engine).toContain(`detml run: error: ${path}: `);
          expect(r.stderr, engine).toContain(message);
        }
      });
    }
  });

  it("explains itself with --help", () => {
    const r = detml("run", "--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--input");
    expect(r.stdout).toContain("NAME=FILE");
  });
});
