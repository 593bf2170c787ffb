/**
 * The extended EVM (docs/evm.md, "The extended EVM"): every DNN-operator precompile returns the
 * reference kernel's exact output for its encoded input and rejects malformed input; on the
 * embedded chain with precompiles, models compiled with `--target evm-precompiles` return the
 * reference executor's integers (the MLP, LeNet, the DCGAN generator, and resnet_small, which
 * is far over one transaction's gas in plain EVM); a precompile given too little gas fails;
 * and the precompiles are refused on any chain but the embedded one. The CLI: compile
 * `--target evm-precompiles`, run `--engine evm-precompiles` (with gas), verify against ref.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileCommand } from "../../bin/commands/compile.js";
import { runCommand } from "../../bin/commands/run.js";
import { verifyCommand } from "../../bin/commands/verify.js";
import { connectChain, type ChainConnection } from "../../chain/connect.js";
import { deployEvmModel, inferEvm } from "../../chain/evm-model.js";
import { PRECOMPILE_GAS, runPrecompile } from "../../chain/precompiles.js";
import { flattenInputs, splitOutputs } from "../../compiler/evm/index.js";
import { compileEvmPrecompiles } from "../../compiler/evm/precompiles.js";
import { encodeOpCall, PRECOMPILE_OPS } from "../../compiler/evm/precompiles-encoding.js";
import { run } from "../../lib/executor.js";
import { encodeGraph } from "../../lib/graph/codec.js";
import { opDef, resolveAttrs } from "../../lib/ops/index.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { runHandler } from "../helpers/cli.js";
import { Rng } from "../helpers/random.js";
import { fixtureGraph, randomInputs } from "./helpers.js";

function random(shape: number[], seed: number, scale = 1, frac = 16): Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(shape, Int32Array.from({ length: n }, () => Math.round(rng.normal() * scale * 2 ** frac)), frac);
}

/** One case per precompile: its inputs and (non-default) attributes. */
const CASES: Record<string, { inputs: (Tensor | undefined)[]; attrs?: Record<string, unknown> }> = {
  MatMul: { inputs: [random([2, 3, 5], 1), random([5, 4], 2, 0.5, 20)] },
  Gemm: { inputs: [random([3, 6], 3), random([4, 6], 4, 0.5, 20), random([4], 5, 0.1, 24)], attrs: { transB: 1, alpha: 3 << 15 } },
  Conv: { inputs: [random([1, 4, 7, 6], 6), random([6, 2, 3, 3], 7, 0.3, 20), undefined], attrs: { group: 2, strides: [2, 1], pads: [1, 1, 1, 1] } },
  ConvTranspose: { inputs: [random([1, 3, 4, 4], 8), random([3, 2, 4, 4], 9, 0.3, 20), random([2], 10, 0.1, 24)], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] } },
  MaxPool: { inputs: [random([1, 2, 6, 6], 11)], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
  AveragePool: { inputs: [random([1, 2, 5, 5], 12)], attrs: { kernel_shape: [2, 2], ceil_mode: 1 } },
  GlobalMaxPool: { inputs: [random([1, 3, 4, 4], 13)] },
  GlobalAveragePool: { inputs: [random([1, 3, 5, 3], 14)] },
  Relu: { inputs: [random([40], 15)] },
  LeakyRelu: { inputs: [random([40], 16)], attrs: { alpha: 6554 } },
  Clip: { inputs: [random([40], 17, 4), new Tensor([], Int32Array.of(0), 16), new Tensor([], Int32Array.of(6 << 16), 16)] },
  Tanh: { inputs: [random([40], 18, 3)] },
  Sigmoid: { inputs: [random([40], 19, 3)] },
  Gelu: { inputs: [random([40], 20, 2)], attrs: { approximate: "tanh" } },
  Erf: { inputs: [random([40], 21, 2)] },
  Exp: { inputs: [random([40], 22, 2)] },
  Softmax: { inputs: [random([3, 8], 23, 3)], attrs: { axis: 1 } },
  Add: { inputs: [random([2, 3], 24), random([3], 25, 1, 12)] },
  Sub: { inputs: [random([2, 3], 26), random([2, 1], 27)] },
  Mul: { inputs: [random([2, 3], 28), random([2, 3], 29)] },
  Concat: { inputs: [random([2, 3], 30), random([2, 2], 31, 1, 10)], attrs: { axis: 1 } },
};

describe("DNN-operator precompiles", () => {
  it("every precompile returns the reference kernel's exact output", () => {
    expect(Object.keys(CASES).sort()).toEqual(PRECOMPILE_OPS.map((p) => p.kind).sort());
    for (const [kind, { inputs, attrs = {} }] of Object.entries(CASES)) {
      const def = opDef(kind);
      const expected = def.run(inputs as Tensor[], resolveAttrs(def, attrs as never), { frac: 16 })[0];
      const { output, gas } = runPrecompile(kind, encodeOpCall(kind, inputs, 16, attrs as never));
      const view = new DataView(output.buffer, output.byteOffset, output.byteLength);
      expect(Int32Array.from({ length: output.length / 4 }, (_, i) => view.getInt32(4 * i, true)), kind).toEqual(expected.data);
      expect(gas, kind).toBeGreaterThanOrEqual(BigInt(PRECOMPILE_GAS.base));
    }
  });

  it("rejects malformed input", () => {
    const good = encodeOpCall("Relu", [random([4], 1)], 16);
    expect(() => runPrecompile("Relu", good.slice(0, -1))).toThrow(/input of 35 bytes, the header describes 36/);
    expect(() => runPrecompile("Relu", Uint8Array.of(...good, 0, 0, 0, 0))).toThrow(/input of 40 bytes/);
    const badRank = good.slice();
    badRank[4] = 9;
    expect(() => runPrecompile("Relu", badRank)).toThrow(/rank 9/);
    expect(() => runPrecompile("Conv", good)).toThrow();
  });

  it("prices a MAC op by its multiply-accumulates", () => {
    const small = runPrecompile("MatMul", encodeOpCall("MatMul", [random([1, 64], 1), random([64, 64], 2)], 16)).gas;
    const large = runPrecompile("MatMul", encodeOpCall("MatMul", [random([64, 64], 1), random([64, 64], 2)], 16)).gas;
    // 64 rows instead of 1: 262,144 MACs and 12,288 elements against 4,096 and 4,224.
    expect(large - small).toBe(BigInt(Math.ceil((262_144 * PRECOMPILE_GAS.perKiloMac) / 1000) + Math.ceil((12_288 * PRECOMPILE_GAS.perKiloElement) / 1000)
      - Math.ceil((4_096 * PRECOMPILE_GAS.perKiloMac) / 1000) - Math.ceil((4_224 * PRECOMPILE_GAS.perKiloElement) / 1000)));
  });
});

describe("--target evm-precompiles on the embedded chain", () => {
  let conn: ChainConnection;
  beforeAll(async () => {
    conn = await connectChain("local", { precompiles: true });
  });
  afterAll(async () => {
    await conn.close();
  });

  it("returns the reference's integers for the fixtures, resnet_small included", async () => {
    for (const [name, seed] of [["mlp", 1], ["mnist_lenet", 2], ["dcgan_generator", 3], ["resnet_small", 4]] as const) {
      const graph = fixtureGraph(name);
      const artifact = compileEvmPrecompiles(graph);
      const model = await deployEvmModel(conn, artifact);
      const sample = randomInputs(graph, seed);
      const { output, gas } = await inferEvm(conn, model, flattenInputs(artifact, sample), { measureGas: true });
      const got = splitOutputs(artifact, output);
      for (const [out, t] of run(graph, sample).outputs) expect([...got.get(out)!.data], `${name} ${out}`).toEqual([...t.data]);
      expect(gas!, name).toBeLessThan(1n << 24n);
    }
  }, 30_000);

  it("fails a precompile call given too little gas, and reverts infer on a chain without the precompiles", async () => {
    const to = `0x${PRECOMPILE_OPS.find((p) => p.kind === "Relu")!.address.toString(16).padStart(40, "0")}` as const;
    const data = `0x${Buffer.from(encodeOpCall("Relu", [random([4000], 1)], 16)).toString("hex")}` as const;
    const ok = await conn.publicClient.call({ to, data });
    expect(ok.data?.length).toBe(2 + 2 * 16_000);
    await expect(conn.publicClient.call({ to, data, gas: 21_000n + 16n * 16_048n + 200n })).rejects.toThrow();

    const plain = await connectChain("local");
    try {
      const graph = fixtureGraph("mlp");
      const artifact = compileEvmPrecompiles(graph);
      const model = await deployEvmModel(plain, artifact);
      await expect(inferEvm(plain, model, flattenInputs(artifact, randomInputs(graph, 1)))).rejects.toThrow();
    } finally {
      await plain.close();
    }
  });

  it("is refused on anvil and on a URL, in one line", async () => {
    await expect(connectChain("anvil", { precompiles: true })).rejects.toThrow(/^the DNN-operator precompiles exist only on the embedded chain \(--chain local\), not on anvil$/);
    await expect(connectChain("http://127.0.0.1:1", { precompiles: true })).rejects.toThrow(/exist only on the embedded chain \(--chain local\), not on http/);
  });

  it("refuses an op without a precompile, naming the node", () => {
    const graph = fixtureGraph("transformer_block");
    expect(() => compileEvmPrecompiles(graph)).toThrow(/^node '.*' \(\w+\): op \w+ has no precompile \(precompiles: MatMul, Gemm/);
  });
});

describe("detml and --target evm-precompiles", () => {
  const dir = mkdtempSync(join(tmpdir(), "detml-evm-precompiles-"));
  const model = join(dir, "mlp.detml");
  writeFileSync(model, encodeGraph(fixtureGraph("mlp")));

  it("compile writes the artifact, run prints the reference's outputs and the gas, verify reports it bit-identical", async () => {
    const summary = JSON.parse(await runHandler(compileCommand, { model, output: dir, target: "evm-precompiles", json: true }));
    expect(summary.output).toBe(join(dir, "mlp.evm-precompiles.json"));
    expect(JSON.parse(readFileSync(summary.output, "utf8")).format).toBe("detml-evm-precompiles-model/1");
    expect(summary.precompile_calls).toBe(3);
    const args = { model, input: ["fixtures/data/mlp_input.npy"], json: true };
    const ref = JSON.parse(await runHandler(runCommand, { ...args, engine: "ref" }));
    const onChain = JSON.parse(await runHandler(runCommand, { ...args, engine: "evm-precompiles" }));
    expect(onChain.engine).toBe("evm-precompiles");
    expect(onChain.outputs).toEqual(ref.outputs);
    expect(onChain.gas[0]).toBeGreaterThan(21_000);
    const report = JSON.parse(await runHandler(verifyCommand, { model: "fixtures/models/mlp.onnx", random: 2, seed: 1, engine: ["ref", "evm-precompiles"], json: true }));
    expect(report.engines[1].identicalTo).toEqual({ engine: "ref", identical: true });
  });
});
