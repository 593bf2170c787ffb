/**
 * The chain layer on a real anvil (--hardfork osaka --enable-tx-gas-limit) started and stopped
 * by chain/anvil.ts: the shared suite of suite.ts, then a node reached by its URL, that stopping
 * really ends the process and that a missing binary is a one-line error.
 */
import { describe, expect, it } from "vitest";
import { connectChain, startAnvil } from "../../chain/index.js";
import { chainSuite } from "./suite.js";

chainSuite("anvil", "anvil");

describe("startAnvil", () => {
  it("answers eth_chainId once started and is gone once stopped", async () => {
    const node = await startAnvil();
    try {
      const chainId = () => fetch(node.url, {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      }).then((r) => r.json() as Promise<{ result: string }>);
      expect((await chainId()).result).toBe("0x7a69");
      // The same node by URL: a dev chain (31337 with eth_accounts), so it can be mined.
      const byUrl = await connectChain(node.url, { env: {} });
      expect([byUrl.kind, byUrl.dev, byUrl.accounts.length]).toEqual(["rpc", true, 10]);
      const head = await byUrl.publicClient.getBlockNumber();
      await byUrl.mine(3);
      expect(await byUrl.publicClient.getBlockNumber()).toBe(head + 3n);
      await node.stop();
      expect(() => process.kill(node.pid, 0)).toThrow();
      await expect(chainId()).rejects.toThrow();
    } finally {
      await node.stop();
    }
  });

  it("names what to install when the binary is missing", async () => {
    await expect(startAnvil({ binary: "/nonexistent/anvil" })).rejects.toThrow(/^anvil \(\/nonexistent\/anvil\) did not start at http:\/\/127\.0\.0\.1:\d+: spawn \/nonexistent\/anvil ENOENT$/);
  });
});
