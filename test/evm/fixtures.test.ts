/**
 * The EVM target on the ONNX fixtures (converted by converter/onnx): the MLP, the MNIST LeNet-5
 * and the DCGAN generator compiled to plain EVM contracts, deployed on the embedded chain, return
 * exactly the reference executor's integers, including inputs far out of the trained range (large
 * activations that saturate, the i32 extremes) on the MLP, and on the MLP with its nodes at
 * different fracs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectChain, type ChainConnection } from "../../chain/connect.js";
import { compileEvm } from "../../compiler/evm/index.js";
import { run } from "../../lib/executor.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { expectReferenceOnChain, fixtureGraph, randomInputs } from "./helpers.js";

describe("EVM target on the fixtures (embedded chain)", () => {
  let conn: ChainConnection;
  beforeAll(async () => { conn = await connectChain("local"); });
  afterAll(async () => { await conn.close(); });

  it("mlp: bit-identical to the reference, also on saturating and extreme inputs", async () => {
    const graph = fixtureGraph("mlp");
    const [input] = graph.inputs;
    const extremes = new Tensor(input.shape, Int32Array.from({ length: 16 }, (_, i) => [-(2 ** 31), 2 ** 31 - 1, 0, -1][i % 4]), input.frac);
    await expectReferenceOnChain(conn, graph, [randomInputs(graph, 1), randomInputs(graph, 2, 3000), new Map([[input.name, extremes]])]);
  });

  it("mlp with a frac per node (as calibration gives them): bit-identical", async () => {
    const graph = fixtureGraph("mlp");
    const fracs = [12, 22, 9, 18];
    const mixed = { ...graph, nodes: graph.nodes.map((n, i) => ({ ...n, frac: fracs[i % fracs.length] })) };
    expect(run(mixed, randomInputs(mixed, 5)).outputs).not.toEqual(run(graph, randomInputs(graph, 5)).outputs);
    await expectReferenceOnChain(conn, mixed, [randomInputs(mixed, 5)]);
  });

  // Its run on a chain is anvil.test.ts's (ethereumjs takes seconds for LeNet's 12.5 M gas); 20 digits in test/long/evm.long.ts.
  it("mnist_lenet: the contracts fit the code limit", () => {
    const artifact = compileEvm(fixtureGraph("mnist_lenet"));
    expect(artifact.model.runtimeBytes).toBeLessThanOrEqual(24_576);
    expect(artifact.data.every((d) => d.runtimeBytes <= 24_576)).toBe(true);
    expect(artifact.macs).toBe(416_520);
  });

  it("dcgan_generator: bit-identical to the reference (ConvTranspose, folded BatchNorm, Tanh)", async () => {
    const graph = fixtureGraph("dcgan_generator");
    await expectReferenceOnChain(conn, graph, [randomInputs(graph, 4, 3)]);
  });

  it("mlp and dcgan_generator with rolled-up tap loops: still bit-identical", async () => {
    for (const name of ["mlp", "dcgan_generator"]) {
      const graph = fixtureGraph(name);
      await expectReferenceOnChain(conn, graph, [randomInputs(graph, 6)], { loopTapsAbove: 8 });
    }
  });
});
