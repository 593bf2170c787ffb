/**
 * The EVM target on a real node: the fixtures' MLP, LeNet-5 and DCGAN generator deployed on anvil
 * (--hardfork osaka, chain/anvil.ts) return the reference executor's integers, and an inference
 * transaction's gas is reported.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectChain, type ChainConnection } from "../../chain/connect.js";
import { deployEvmModel, inferEvm } from "../../chain/evm-model.js";
import { compileEvm, flattenInputs } from "../../compiler/evm/index.js";
import { expectReferenceOnChain, fixtureGraph, randomInputs } from "./helpers.js";

describe("EVM target on anvil", () => {
  let conn: ChainConnection;
  beforeAll(async () => { conn = await connectChain("anvil"); });
  afterAll(async () => { await conn?.close(); });

  it("mlp, mnist_lenet and dcgan_generator are bit-identical to the reference", async () => {
    for (const name of ["mlp", "mnist_lenet", "dcgan_generator"]) {
      const graph = fixtureGraph(name);
      await expectReferenceOnChain(conn, graph, [randomInputs(graph, 11)]);
    }
  });

  it("reports the gas of an inference transaction", async () => {
    const graph = fixtureGraph("mlp");
    const artifact = compileEvm(graph);
    const model = await deployEvmModel(conn, artifact);
    const { gas } = await inferEvm(conn, model, flattenInputs(artifact, randomInputs(graph, 12)), { measureGas: true });
    expect(gas).toBeGreaterThan(21_000n);
    expect(gas).toBeLessThan(200_000n);
  });
});
