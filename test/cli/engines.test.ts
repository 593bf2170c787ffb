/**
 * The three engines through the CLI: a converted MNIST model run by the reference executor, the
 * compiled module in the JS engine and the same module in the rollup VM gives the same bytes;
 * `detml verify` reports wasm (and vm) bit-identical to ref. The wasm engine runs the fast build
 * unless `--build canonical` (both builds cached), `verify` then checks the canonical build
 * against ref, and a `--build` the engine cannot take is a one-line error.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCommand } from "../../bin/commands/run.js";
import { verifyCommand } from "../../bin/commands/verify.js";
import { compile } from "../../compiler/compile.js";
import { convertOnnxFile } from "../../converter/onnx/index.js";
import { encodeGraph } from "../../lib/graph/codec.js";
import { readNpy, writeNpy } from "../../lib/tensor/npy.js";
import { runHandler } from "../helpers/cli.js";

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

  it("a bad --build is a one-line error (exit 1); --help describes the builds", () => {
    const r = detml("run", "m.detml", "--engine", "wasm", "--build", "turbo");
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split("\n")).toEqual(['detml run: error: --build "turbo": must be one of "fast", "canonical" (see detml run --help)']);
    expect(detml("run", "--help").stdout).toMatch(/--build\s+The compiled build of a \.detml: fast[\s\S]*canonical/);
  });
});

describe("the build of the wasm engine (handlers in-process)", () => {
  const model = join(dir, "mlp.detml");
  const input = ["fixtures/data/mlp_input.npy"];
  const { graph } = convertOnnxFile("fixtures/models/mlp.onnx");
  writeFileSync(model, encodeGraph(graph));

  /** The handler's output with this run's own cache folder (the global one restored after). */
  async function withCache<T>(body: () => Promise<T>): Promise<T> {
    const saved = process.env.DETML_CACHE_DIR;
    process.env.DETML_CACHE_DIR = join(dir, "build-cache");
    try {
      return await body();
    } finally {
      if (saved === undefined) delete process.env.DETML_CACHE_DIR;
      else process.env.DETML_CACHE_DIR = saved;
    }
  }

  it("run --engine wasm computes with the fast build, --build canonical with the canonical one; both are cached", async () => {
    const runs = await withCache(async () => {
      const out = [];
      for (const build of [undefined, "canonical", "fast"]) out.push(JSON.parse(await runHandler(runCommand, { model, engine: "wasm", build, input, json: true })));
      return out;
    });
    expect(runs.map((j) => j.build)).toEqual(["fast", "canonical", "fast"]);
    // Only the canonical build is the VM's module, with a model id.
    expect(runs.map((j) => j.model_id === null)).toEqual([true, false, true]);
    const ref = JSON.parse(await runHandler(runCommand, { model, input, json: true }));
    expect(ref.build).toBeUndefined();
    for (const j of runs) expect(j.outputs).toEqual(ref.outputs);
    const cached = readdirSync(join(dir, "build-cache")).filter((f) => f.startsWith(ref.source_hash));
    expect(cached.map((f) => /-(fast|canonical)\.wasm$/.exec(f)?.[1]).sort()).toEqual(["canonical", "fast"]);
    const text = await withCache(() => runHandler(runCommand, { model, engine: "wasm", build: "canonical", input }));
    expect(text).toMatch(/engine wasm \(canonical build\)/);
  });

  it("run refuses a build its engine cannot take, naming why", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ engine: "vm", build: "fast" }, "the vm engine runs the canonical build only (the fast build is for --engine wasm)"],
      [{ build: "canonical" }, "the reference executor runs the .detml itself: the canonical build is a compiled module (--engine wasm, or vm for the canonical build)"],
      [{ engine: "evm", build: "fast" }, "--build fast: the evm engine compiles the .detml to EVM contracts, not WASM builds"],
    ];
    for (const [args, message] of cases) await expect(runHandler(runCommand, { model, input, ...args })).rejects.toThrow(message);
    const fastWasm = join(dir, "mlp.fast.wasm");
    writeFileSync(fastWasm, compile(graph, { build: "fast" }).wasm);
    await expect(runHandler(runCommand, { model: fastWasm, input, build: "canonical" })).rejects.toThrow(`${fastWasm} is a compiled module of the fast build: a canonical build is compiled from its .detml`);
  });

  it("verify runs the fast build and checks the canonical build against ref; --build canonical runs the canonical build alone", async () => {
    const args = { model: "fixtures/models/mlp.onnx", random: 3, seed: 0, engine: ["ref", "wasm"] };
    const report = JSON.parse(await runHandler(verifyCommand, { ...args, json: true }));
    expect(report.engines.map((e: { engine: string; build?: string }) => [e.engine, e.build])).toEqual([["ref", undefined], ["wasm", "fast"]]);
    expect(report.engines[1].identicalTo).toEqual({ engine: "ref", identical: true });
    expect(report.canonical).toMatchObject({ against: "ref", samples: 3, identical: 3 });
    expect(await runHandler(verifyCommand, args)).toMatch(/^canonical == ref: yes \(3\/3 samples bit-identical/m);
    const canonical = JSON.parse(await runHandler(verifyCommand, { ...args, build: "canonical", json: true }));
    expect(canonical.engines[1]).toMatchObject({ engine: "wasm", build: "canonical", identicalTo: { engine: "ref", identical: true } });
    expect(canonical.canonical).toBeUndefined();
  });
});
