/**
 * GAN art (docs/evm.md, "GAN art"): contracts/GanArt.sol mints a token whose image the DCGAN
 * generator computes on chain through the DNN-operator precompiles; the image decoded from its
 * tokenURI (an SVG data URI inside JSON) equals the reference executor's image for the input
 * derived from the same seed (the TypeScript derivation matches the contract's latentOf, classOf
 * and inputOf: the latent, then the one-hot of the digit seed % 10), and the JSON names that digit. The
 * ERC-721 a wallet expects: ownerOf, balanceOf, transferFrom with its Transfer event and
 * authorization, a second mint of a seed refused; supportsInterface for ERC-165, ERC-721 and the
 * metadata extension (ids computed here from the standard's function signatures); approve and
 * setApprovalForAll with their events and the rights they give; both safeTransferFrom overloads
 * to an account and to the receiver contracts of fixtures/ERC721Receivers.sol (one accepts and
 * sees the hook's arguments, one answers wrongly, one reverts with its own error, one has no
 * hook). On a chain without the precompiles GanArt refuses to deploy.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Abi, type Address, BaseError, ContractFunctionRevertedError, getAddress, type Hex, parseEventLogs, toFunctionSelector } from "viem";
import type { Artifact } from "../../chain/artifacts.js";
import { connectChain, type ChainConnection } from "../../chain/connect.js";
import { deployContract } from "../../chain/deploy.js";
import { convertOnnxFile } from "../../converter/onnx/index.js";
import type { Graph } from "../../lib/graph/ir.js";
import { decodeTokenImage, deployGanArt, GENERATOR_FILE, type GanArtDeployment, inputOf, latentOf, latentSizeOf, mint, referenceImage } from "../../examples/gan-art.js";
import { compileSolidityFixture } from "../helpers/solidity.js";

/** An ERC-165 interface id: the XOR of its functions' selectors. */
function interfaceId(signatures: string[]): Hex {
  const id = signatures.reduce((acc, s) => (acc ^ parseInt(toFunctionSelector(s).slice(2), 16)) >>> 0, 0);
  return `0x${id.toString(16).padStart(8, "0")}`;
}

describe("GanArt on the embedded chain with precompiles", () => {
  let conn: ChainConnection;
  let graph: Graph;
  let art: GanArtDeployment;
  let receivers: Record<string, Artifact>;
  beforeAll(async () => {
    conn = await connectChain("local", { precompiles: true });
    graph = convertOnnxFile(GENERATOR_FILE).graph;
    art = await deployGanArt(conn, graph, "evm-precompiles");
    receivers = await compileSolidityFixture(new URL("fixtures/ERC721Receivers.sol", import.meta.url));
  }, 30_000);
  const read = (functionName: string, args: unknown[]) => conn.publicClient.readContract({ address: art.address, abi: art.abi, functionName, args });
  /** Send a GanArt call from dev account `from`; its receipt (which must succeed). */
  const send = async (from: number, functionName: string, args: unknown[]) => {
    const hash = await conn.wallet(from).writeContract({ address: art.address, abi: art.abi, functionName, args, gas: 500_000n } as never);
    const receipt = await conn.publicClient.waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe("success");
    return receipt;
  };
  /** The custom error (name and arguments) a GanArt call from `account` reverts with, decoded against GanArt's and the receivers' errors. */
  const refusal = async (account: Address, functionName: string, args: unknown[]) => {
    const abi = [...art.abi, ...Object.values(receivers).flatMap((r) => r.abi)] as Abi;
    const error = await conn.publicClient.simulateContract({ account, address: art.address, abi, functionName, args } as never).then(() => undefined, (e: BaseError) => e);
    const reverted = error?.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | undefined;
    return reverted?.data ? [reverted.data.errorName, ...(reverted.data.args ?? [])] : ["no custom error", error?.shortMessage];
  };
  afterAll(async () => {
    await conn.close();
  });

  it("derives the latent, the class and the generator's input as documented", async () => {
    const inputSize = graph.inputs[0].shape.reduce((a, b) => a * b, 1);
    const latentSize = inputSize - 10;
    expect(await read("latentSize", [])).toBe(BigInt(latentSize));
    const latent = await read("latentOf", [42n]) as readonly number[];
    expect([...latent]).toEqual([...latentOf(42n, latentSize)]);
    for (const seed of [42n, 7n, 10n, 2n ** 255n + 3n]) {
      const digit = Number(seed % 10n);
      expect(await read("classOf", [seed])).toBe(BigInt(digit));
      const input = [...await read("inputOf", [seed]) as readonly number[]];
      expect(input).toHaveLength(inputSize);
      expect(input.slice(0, latentSize)).toEqual([...latentOf(seed, latentSize)]);
      expect(input.slice(latentSize)).toEqual(Array.from({ length: 10 }, (_, k) => (k === digit ? 65536 : 0)));
      expect(input).toEqual([...inputOf(seed, latentSize)]);
    }
    expect(latentSizeOf(graph)).toBe(latentSize);
    const tooSmall = { ...graph, inputs: [{ ...graph.inputs[0], shape: [1, 10, 1, 1] }] };
    expect(() => latentSizeOf(tooSmall)).toThrow(`the generator's input "${graph.inputs[0].name}" has 10 values; GanArt needs a latent followed by a 10-value class one-hot`);
  });

  it("mints a token whose tokenURI image is the reference executor's image", async () => {
    const { gas, uri } = await mint(conn, art, 7n);
    expect(gas).toBeLessThan(1n << 24n);
    const image = decodeTokenImage(uri, art.side);
    expect(Buffer.from(image).equals(Buffer.from(referenceImage(graph, 7n)))).toBe(true);
    // Not a blank image: a digit has dark background and bright strokes.
    expect(Math.max(...image) - Math.min(...image)).toBeGreaterThan(200);
    const metadata = JSON.parse(uri.slice("data:application/json;utf8,".length));
    expect(metadata.name).toBe("detml GAN #7");
    expect(metadata.attributes).toEqual([{ trait_type: "digit", value: 7 }]);
  }, 30_000);

  it("is an ERC-721: owner, balance, transfers and their authorization, one token per seed", async () => {
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

  it("answers supportsInterface for ERC-165, ERC-721 and ERC-721 Metadata only", async () => {
    const erc165 = interfaceId(["supportsInterface(bytes4)"]);
    const erc721 = interfaceId([
      "balanceOf(address)", "ownerOf(uint256)", "safeTransferFrom(address,address,uint256,bytes)",
      "safeTransferFrom(address,address,uint256)", "transferFrom(address,address,uint256)", "approve(address,uint256)",
      "setApprovalForAll(address,bool)", "getApproved(uint256)", "isApprovedForAll(address,address)",
    ]);
    const metadata = interfaceId(["name()", "symbol()", "tokenURI(uint256)"]);
    for (const id of [erc165, erc721, metadata]) expect(await read("supportsInterface", [id]), id).toBe(true);
    // 0xffffffff must be refused (ERC-165); an enumerable extension is not implemented.
    for (const id of ["0xffffffff", interfaceId(["totalSupply()", "tokenOfOwnerByIndex(address,uint256)", "tokenByIndex(uint256)"])]) {
      expect(await read("supportsInterface", [id]), id).toBe(false);
    }
  });

  it("gives approve and setApprovalForAll their events and rights; a transfer clears the token's approval", async () => {
    const [alice, bob, carol] = conn.accounts;
    await mint(conn, art, 20n);
    const approved = await send(0, "approve", [bob, 20n]);
    expect(parseEventLogs({ abi: art.abi as Abi, logs: approved.logs }).map((l) => [l.eventName, l.args])).toEqual([["Approval", { owner: alice, approved: bob, tokenId: 20n }]]);
    expect(await read("getApproved", [20n])).toBe(bob);
    expect(await refusal(carol, "approve", [carol, 20n])).toEqual(["NotAuthorized"]);
    await send(1, "transferFrom", [alice, carol, 20n]);
    expect(await read("ownerOf", [20n])).toBe(carol);
    expect(await read("getApproved", [20n])).toBe("0x0000000000000000000000000000000000000000");
    expect(await refusal(bob, "transferFrom", [carol, bob, 20n])).toEqual(["NotAuthorized"]);

    const operator = await send(2, "setApprovalForAll", [bob, true]);
    expect(parseEventLogs({ abi: art.abi as Abi, logs: operator.logs }).map((l) => [l.eventName, l.args])).toEqual([["ApprovalForAll", { owner: carol, operator: bob, approved: true }]]);
    expect(await read("isApprovedForAll", [carol, bob])).toBe(true);
    await send(1, "safeTransferFrom", [carol, bob, 20n]);
    expect(await read("ownerOf", [20n])).toBe(bob);
    await send(2, "setApprovalForAll", [bob, false]);
    expect(await read("isApprovedForAll", [carol, bob])).toBe(false);
  }, 30_000);

  it("safeTransferFrom checks a contract receiver's onERC721Received, with and without data", async () => {
    const [alice] = conn.accounts;
    const deployed = Object.fromEntries(await Promise.all(Object.entries(receivers).map(async ([name, artifact]) =>
      [name, getAddress((await deployContract(conn, name, [], { artifact })).address)] as const)));
    await mint(conn, art, 21n);
    await mint(conn, art, 22n);
    // Refused (simulated, so nothing moves): a wrong answer, no hook, the receiver's own revert passed on.
    for (const args of [[22n], [22n, "0x01"]]) {
      expect(await refusal(alice, "safeTransferFrom", [alice, deployed.WrongAnswerReceiver, ...args])).toEqual(["NotReceiver", deployed.WrongAnswerReceiver]);
      expect(await refusal(alice, "safeTransferFrom", [alice, deployed.NoHookContract, ...args])).toEqual(["NotReceiver", deployed.NoHookContract]);
      expect(await refusal(alice, "safeTransferFrom", [alice, deployed.RevertingReceiver, ...args])).toEqual(["NoTokensWanted", 22n]);
    }
    // Accepted: the hook sees the caller, the previous owner, the token and the data.
    const hookCalls = (logs: Parameters<typeof parseEventLogs>[0]["logs"]) =>
      parseEventLogs({ abi: receivers.AcceptingReceiver.abi as Abi, logs }).filter((l) => l.eventName === "Received").map((l) => l.args);
    const withData = await send(0, "safeTransferFrom", [alice, deployed.AcceptingReceiver, 21n, "0xbeef"]);
    expect(hookCalls(withData.logs)).toEqual([{ operator: alice, from: alice, tokenId: 21n, data: "0xbeef" }]);
    const withoutData = await send(0, "safeTransferFrom", [alice, deployed.AcceptingReceiver, 22n]);
    expect(hookCalls(withoutData.logs)).toEqual([{ operator: alice, from: alice, tokenId: 22n, data: "0x" }]);
    expect(await read("ownerOf", [21n])).toBe(deployed.AcceptingReceiver);
    expect(await read("ownerOf", [22n])).toBe(deployed.AcceptingReceiver);
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
