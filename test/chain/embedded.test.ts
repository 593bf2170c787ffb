/**
 * The chain layer on the embedded chain ("local"): the shared suite of suite.ts, plus what only
 * the embedded provider shows directly: its JSON-RPC errors, historical state reads, and the
 * real contracts of contracts/build deployed and checked by deployContract.
 */
import { describe, expect, it } from "vitest";
import { connectChain, createEmbeddedChain, deployContract, JsonRpcError, MAX_RUNTIME_BYTES } from "../../chain/index.js";
import { chainSuite } from "./suite.js";

chainSuite("local", "embedded");

describe("embedded provider", () => {
  it("answers unknown methods and bad params with JSON-RPC errors", async () => {
    const chain = await createEmbeddedChain();
    await expect(chain.request({ method: "eth_mining" })).rejects.toMatchObject({ code: -32601 });
    await expect(chain.request({ method: "eth_getBalance", params: ["0x12", "latest"] })).rejects.toBeInstanceOf(JsonRpcError);
    await expect(chain.request({ method: "eth_sendTransaction", params: [{ from: "0x0000000000000000000000000000000000000001", to: chain.accounts[0] }] }))
      .rejects.toThrow(/not a dev account/);
  });

  it("reads balances at past blocks", async () => {
    const chain = await createEmbeddedChain();
    const [a, b] = chain.accounts;
    await chain.request({ method: "eth_sendTransaction", params: [{ from: a, to: b, value: "0x2a" }] });
    const at = (tag: string) => chain.request({ method: "eth_getBalance", params: [b, tag] }).then((x) => BigInt(x as string));
    expect(await at("latest") - await at("0x0")).toBe(42n);
    expect(await chain.request({ method: "eth_getTransactionCount", params: [a, "0x0"] })).toBe("0x0");
    expect(await chain.request({ method: "eth_getTransactionCount", params: [a, "pending"] })).toBe("0x1");
  });

  it("signs concurrent eth_sendTransaction calls of one dev account with consecutive nonces", async () => {
    const chain = await createEmbeddedChain();
    const [a, b] = chain.accounts;
    const hashes = await Promise.all([1, 2, 3].map((v) => chain.request({ method: "eth_sendTransaction", params: [{ from: a, to: b, value: `0x${v}` }] })));
    const txs = await Promise.all(hashes.map((h) => chain.request({ method: "eth_getTransactionByHash", params: [h] }) as Promise<{ nonce: string; blockNumber: string }>));
    expect(txs.map((t) => [t.nonce, t.blockNumber])).toEqual([["0x0", "0x1"], ["0x1", "0x2"], ["0x2", "0x3"]]);
  });

  it("deploys the protocol's compiled contracts under the code-size limit", async () => {
    const chain = await connectChain("local");
    const verifier = await deployContract(chain, "StepVerifier");
    const referee = await deployContract(chain, "Referee", [verifier.address, 10n ** 18n, 20n, 10n, 4n]);
    for (const d of [verifier, referee]) {
      expect(d.runtimeBytes).toBeGreaterThan(0);
      expect(d.runtimeBytes).toBeLessThanOrEqual(MAX_RUNTIME_BYTES);
      expect(d.gasUsed).toBeLessThan(1n << 24n);
    }
  });
});
