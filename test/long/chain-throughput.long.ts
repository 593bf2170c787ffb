/**
 * Throughput of the chain layer: deploy fixtures/Counter.sol and send 100 transactions through
 * viem (each waits for its receipt), on the embedded chain and on anvil, with the submitter
 * signing locally and the estimate, send and receipt round trips a CLI makes. Prints the wall
 * times; asserts only that every transaction landed and a generous bound (10 s), so a
 * regression by an order of magnitude shows.
 */
import { describe, expect, it } from "vitest";
import { connectChain, deployContract, type ChainSpec } from "../../chain/index.js";
import { compileCounter } from "../chain/suite.js";

const TRANSACTIONS = 100;

describe("chain throughput", () => {
  for (const spec of ["local", "anvil"] as ChainSpec[]) {
    it(`deploys and sends ${TRANSACTIONS} transactions on ${spec}`, async () => {
      const counter = await compileCounter();
      const chain = await connectChain(spec, { env: {} });
      try {
        const start = performance.now();
        const { address } = await deployContract(chain, "Counter", [1000n], { artifact: counter });
        const deployed = performance.now();
        const wallet = chain.wallet("submitter");
        for (let i = 0; i < TRANSACTIONS; i++) {
          const hash = await wallet.writeContract({ address, abi: counter.abi, functionName: "add", args: [1n] } as never);
          const receipt = await chain.publicClient.waitForTransactionReceipt({ hash });
          expect(receipt.status).toBe("success");
        }
        const end = performance.now();
        const total = await chain.publicClient.readContract({ address, abi: counter.abi, functionName: "total" } as never);
        expect(total).toBe(BigInt(TRANSACTIONS));
        console.log(`${spec}: deploy ${(deployed - start).toFixed(0)} ms, ${TRANSACTIONS} transactions ${(end - deployed).toFixed(0)} ms (${((end - deployed) / TRANSACTIONS).toFixed(1)} ms each), total ${((end - start) / 1000).toFixed(2)} s`);
        expect(end - start).toBeLessThan(10_000);
      } finally {
        await chain.close();
      }
    });
  }
});
