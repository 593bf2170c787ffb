/**
 * The EVM target on more samples than the default suite runs: 20 MNIST test digits through the
 * LeNet-5 fixture and through a 784-128-10 MLP (test/helpers buildMlp), and 10 latents through the
 * DCGAN generator, each compiled to plain EVM contracts on the embedded chain and bit-identical
 * to the reference executor; every inference also runs as a transaction under the 2^24 gas cap
 * of EIP-7825. Run with `npm run test:long`, not in the default suite.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectChain, type ChainConnection } from "../../chain/connect.js";
import { deployEvmModel, inferEvm } from "../../chain/evm-model.js";
import { compileEvm, flattenInputs, splitOutputs } from "../../compiler/evm/index.js";
import { run } from "../../lib/executor.js";
import type { Graph } from "../../lib/graph/ir.js";
import { readNpy } from "../../lib/tensor/npy.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { buildMlp } from "../helpers/models.js";
import { fixtureGraph, randomInputs } from "../evm/helpers.js";

const TX_GAS_CAP = 1n << 24n;
const digits = readNpy(readFileSync("fixtures/data/mnist_test_1000.npy"));

/** Digit i of the 1000 test digits (50 apart: every class), at the graph input's shape and frac. */
function digit(graph: Graph, i: number): Map<string, Tensor> {
  const [input] = graph.inputs;
  const pixels = Array.from(digits.data.slice(784 * 50 * i, 784 * (50 * i + 1)), Number);
  return new Map([[input.name, Tensor.fromFloat(pixels, input.shape, input.frac)]]);
}

async function expectIdentical(conn: ChainConnection, graph: Graph, samples: Map<string, Tensor>[]): Promise<bigint[]> {
  const artifact = compileEvm(graph);
  const model = await deployEvmModel(conn, artifact);
  const gas: bigint[] = [];
  for (const [i, sample] of samples.entries()) {
    const result = await inferEvm(conn, model, flattenInputs(artifact, sample), { measureGas: i % 5 === 0 });
    const outputs = splitOutputs(artifact, result.output);
    for (const [name, t] of run(graph, sample).outputs) expect([...outputs.get(name)!.data], `${name} of sample ${i}`).toEqual([...t.data]);
    if (result.gas !== undefined) gas.push(result.gas);
  }
  return gas;
}

describe("EVM target, many samples (embedded chain)", () => {
  let conn: ChainConnection;
  beforeAll(async () => { conn = await connectChain("local"); });
  afterAll(async () => { await conn.close(); });

  it("LeNet-5 on 20 MNIST digits", async () => {
    const graph = fixtureGraph("mnist_lenet");
    const gas = await expectIdentical(conn, graph, Array.from({ length: 20 }, (_, i) => digit(graph, i)));
    expect(gas.every((g) => g < TX_GAS_CAP)).toBe(true);
  });

  it("MLP 784-128-10 on 20 MNIST digits", async () => {
    const { graph } = buildMlp(14, [784, 128, 10]);
    await expectIdentical(conn, graph, Array.from({ length: 20 }, (_, i) => new Map([["x", digit(graph, i).get("x")!]])));
  });

  it("DCGAN generator on 10 latents", async () => {
    const graph = fixtureGraph("dcgan_generator");
    await expectIdentical(conn, graph, Array.from({ length: 10 }, (_, i) => randomInputs(graph, 100 + i)));
  });
});
