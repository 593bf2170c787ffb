/**
 * GAN art (docs/evm.md, "GAN art"): contracts/GanArt.sol mints a token whose image the DCGAN
 * generator computes on chain through the DNN-operator precompiles; the image decoded from its
 * tokenURI (an SVG data URI inside JSON) equals the reference executor's image for the latent
 * derived from the same seed (the TypeScript derivation matches the contract's latentOf). The
 * ERC-721 basics: ownerOf, balanceOf, transferFrom with its Transfer event and authorization, a
 * second mint of a seed refused. On a chain without the precompiles GanArt refuses to deploy.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectChain, type ChainConnection } from "../../chain/connect.js";
import { deployContract } from "../../chain/deploy.js";
import { convertOnnxFile } from "../../converter/onnx/index.js";
import type { Graph } from "../../lib/graph/ir.js";
import { decodeTokenImage, deployGanArt, GENERATOR_FILE, type GanArtDeployment, latentOf, mint, referenceImage } from "../../examples/gan-art.js";

describe("GanArt on the embedded chain with precompiles", () => {
  let conn: ChainConnection;
  let graph: Graph;
  let art: GanArtDeployment;
  beforeAll(async () => {
    conn = await connectChain("local", { precompiles: true });
    graph = convertOnnxFile(GENERATOR_FILE).graph;
    art = await deployGanArt(conn, graph, "evm-precompiles");
  }, 30_000);
  afterAll(async () => {
    await conn.close();
  });

  it("derives the latent as documented", async () => {
    const onChain = await conn.publicClient.readContract({ address: art.address, abi: art.abi, functionName: "latentOf", args: [42n] }) as readonly number[];
    expect([...onChain]).toEqual([...latentOf(42n, graph.inputs[0].shape.reduce((a, b) => a * b, 1))]);
  });

  it("mints a token whose tokenURI image is the reference executor's image", async () => {
    const { gas, uri } = await mint(conn, art, 7n);
    expect(gas).toBeLessThan(1n << 24n);
    const image = decodeTokenImage(uri, art.side);
    expect(Buffer.from(image).equals(Buffer.from(referenceImage(graph, 7n)))).toBe(true);
    // Not a blank image: a digit has dark background and bright strokes.
    expect(Math.max(...image) - Math.min(...image)).toBeGreaterThan(200);
    expect(JSON.parse(uri.slice("data:application/json;utf8,".length)).name).toBe("detml GAN #7");
  }, 30_000);

  it("is an ERC-721: owner, balance, transfers and their authorization, one token per seed", async () => {
    const read = (functionName: string, args: unknown[]) => conn.publicClient.readContract({ address: art.address, abi: art.abi, functionName, args });
    const [alice, bob] = conn.accounts;
    await mint(conn, art, 8n);
    expect(await read("ownerOf", [8n])).toBe(alice);
    const before = await read("balanceOf", [alice]) as bigint;
    await expect(conn.publicClient.simulateContract({ account: bob, address: art.address, abi: art.abi, functionName: "transferFrom", args: [alice, bob, 8n] }))
      .rejects.toThrow(/NotAuthorized/);
    const hash = await conn.wallet("submitter").writeContract({ address: art.address, abi: art.abi, functionName: "transferFrom", args: [alice, bob, 8n], gas: 200_000n } as never);
    const receipt = await conn.publicClient.waitForTransactionReceipt({ hash });
    expect(receipt.logs).toHaveLength(1);
    expect(await read("ownerOf", [8n])).toBe(bob);
    expect(await read("balanceOf", [alice])).toBe(before - 1n);
    expect(await read("balanceOf", [bob])).toBe(1n);
    await expect(mint(conn, art, 8n)).rejects.toThrow();
    await expect(read("ownerOf", [9n])).rejects.toThrow(/NoSuchToken/);
  }, 30_000);
});

it("GanArt for a precompile model refuses to deploy on a chain without the precompiles", async () => {
  const conn = await connectChain("local");
  try {
    await expect(deployContract(conn, "GanArt", ["0x0000000000000000000000000000000000000001", 32n, 28n, 16n, true], { gas: 1_000_000n }))
      .rejects.toThrow(/PrecompilesMissing|revert/);
  } finally {
    await conn.close();
  }
});
