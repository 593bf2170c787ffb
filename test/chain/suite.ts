/**
 * The chain-layer behaviour every node kind must show, as one vitest suite run against a
 * connection (embedded.test.ts: the in-process chain; anvil.test.ts: a real anvil): deploying
 * fixtures/Counter.sol (compiled here with solc-js, Osaka), transactions, logs by topic,
 * custom-error reverts decoded by viem, the EIP-7825 gas cap, the EIP-170 code limit, mining, snapshot / revert and
 * concurrent sends from one account. The connection's submitter is a fresh key given as
 * DETML_PRIVATE_KEY (funded by connectChain), the challenger the node's dev account 1.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BaseError, ContractFunctionRevertedError, type Abi, encodeFunctionData, parseEventLogs, toEventSelector, pad, type Address } from "viem";
import { generatePrivateKey, privateKeyToAddress } from "viem/accounts";
import { compileSolidityFixture } from "../helpers/solidity.js";
import { connectChain, deployContract, MAX_RUNTIME_BYTES, TX_GAS_CAP, type Artifact, type ChainConnection, type ChainSpec } from "../../chain/index.js";

/** fixtures/Counter.sol compiled as scripts/build-contracts.mjs compiles the real contracts. */
export async function compileCounter(): Promise<Artifact> {
  return (await compileSolidityFixture(new URL("fixtures/Counter.sol", import.meta.url))).Counter;
}

const LIMIT = 100n;
const ADDED = toEventSelector("Added(address,uint256,uint256)");

export function chainSuite(spec: ChainSpec, expectedKind: ChainConnection["kind"]): void {
  describe(`chain layer on ${spec}`, () => {
    let chain: ChainConnection;
    let counter: Artifact;
    let address: Address;
    const submitterKey = generatePrivateKey();

    beforeAll(async () => {
      counter = await compileCounter();
      chain = await connectChain(spec, { env: { DETML_PRIVATE_KEY: submitterKey } });
    });
    afterAll(async () => {
      await chain?.close();
    });

    const add = (who: "submitter" | "challenger", amount: bigint) =>
      chain.wallet(who).writeContract({ address, abi: counter.abi, functionName: "add", args: [amount] } as never);
    const total = () => chain.publicClient.readContract({ address, abi: counter.abi, functionName: "total" } as never) as Promise<bigint>;

    it("connects with the key's account as submitter and dev account 1 as challenger", async () => {
      expect(chain.kind).toBe(expectedKind);
      expect(chain.chainId).toBe(31337);
      expect(chain.accounts).toHaveLength(10);
      expect(chain.wallet("submitter").account.address).toBe(privateKeyToAddress(submitterKey));
      expect(chain.wallet("challenger").account.address).toBe(chain.accounts[1]);
      expect(await chain.publicClient.getBalance({ address: privateKeyToAddress(submitterKey) })).toBe(10_000n * 10n ** 18n);
    });

    it("deploys a contract and checks its code against the artifact", async () => {
      const deployment = await deployContract(chain, "Counter", [LIMIT], { artifact: counter });
      address = deployment.address;
      expect(deployment.runtimeBytes).toBe(counter.runtimeBytes);
      expect(await chain.publicClient.readContract({ address, abi: counter.abi, functionName: "limit" } as never)).toBe(LIMIT);
      // The immutable `limit` is the only difference from the artifact's runtime code.
      const code = await chain.publicClient.getCode({ address });
      expect(code).not.toBe(counter.deployedBytecode);
      expect(code?.length).toBe(counter.deployedBytecode.length);
    });

    it("sends transactions and reads their logs by topic", async () => {
      const from = await chain.publicClient.getBlockNumber();
      for (const [who, amount] of [["submitter", 3n], ["challenger", 4n], ["submitter", 5n]] as const) {
        const receipt = await chain.publicClient.waitForTransactionReceipt({ hash: await add(who, amount) });
        expect(receipt.status).toBe("success");
        expect(receipt.logs).toHaveLength(1);
      }
      expect(await total()).toBe(12n);
      const submitterTopic = pad(chain.wallet("submitter").account.address.toLowerCase() as Address);
      expect(await chain.publicClient.getLogs({ address, fromBlock: from + 1n })).toHaveLength(3);
      // Topics: [event, who = submitter] and [event, null, amount 4 or 5].
      const raw = (filter: object) => chain.publicClient.request({ method: "eth_getLogs", params: [{ fromBlock: `0x${from.toString(16)}`, ...filter }] } as never) as Promise<{ topics: string[]; data: string }[]>;
      const mine = await raw({ address, topics: [ADDED, submitterTopic] });
      expect(mine.map((l) => BigInt(l.topics[2]))).toEqual([3n, 5n]);
      const fourOrFive = await raw({ topics: [ADDED, null, [pad("0x4"), pad("0x5")]] });
      expect(fourOrFive.map((l) => BigInt(l.topics[2]))).toEqual([4n, 5n]);
      expect(await raw({ address: chain.accounts[0], topics: [ADDED] })).toEqual([]);
      const decoded = parseEventLogs({ abi: counter.abi as never, logs: mine as never }) as unknown as { args: { total: bigint } }[];
      expect(decoded.map((l) => l.args.total)).toEqual([3n, 12n]);
    });

    it("decodes a custom-error revert through viem", async () => {
      const error = await chain.publicClient.simulateContract({
        address, abi: counter.abi, functionName: "add", args: [LIMIT + 1n], account: chain.accounts[0],
      } as never).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(BaseError);
      const revert = (error as BaseError).walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError;
      expect(revert.data?.errorName).toBe("TooLarge");
      expect(revert.data?.args).toEqual([LIMIT + 1n, LIMIT]);
      // A write estimates gas first, so it fails the same way and sends nothing.
      await expect(add("challenger", LIMIT + 1n)).rejects.toThrow(/TooLarge/);
    });

    it("refuses a transaction over the EIP-7825 gas cap of 2^24", async () => {
      const data = encodeFunctionData({ abi: counter.abi as Abi, functionName: "fill", args: [0n, 1n] });
      const send = (gas: bigint) => chain.wallet("challenger").sendTransaction({ to: address, data, gas });
      await expect(send(TX_GAS_CAP + 1n)).rejects.toThrow(/EIP-7825|tx_gas_limit_cap/);
      const atCap = await chain.publicClient.waitForTransactionReceipt({ hash: await send(TX_GAS_CAP) });
      expect(atCap.status).toBe("success");
      // 800 fresh slots need about 17.6 M gas: no transaction can carry that.
      await expect(chain.wallet("challenger").writeContract({ address, abi: counter.abi, functionName: "fill", args: [1000n, 800n] } as never)).rejects.toThrow();
    });

    it("enforces the 24,576-byte runtime code limit (EIP-170)", async () => {
      // Init code returning `size` zero bytes: PUSH3 size, PUSH1 0, RETURN.
      const create = async (size: number) => {
        const hash = await chain.wallet("challenger").sendTransaction({ data: `0x62${size.toString(16).padStart(6, "0")}6000f3`, gas: 6_000_000n });
        return chain.publicClient.waitForTransactionReceipt({ hash });
      };
      const atLimit = await create(MAX_RUNTIME_BYTES);
      expect(atLimit.status).toBe("success");
      expect(await chain.publicClient.getCode({ address: atLimit.contractAddress as Address })).toHaveLength(2 + 2 * MAX_RUNTIME_BYTES);
      expect((await create(MAX_RUNTIME_BYTES + 1)).status).toBe("reverted");
    });

    it("mines empty blocks that block.number sees", async () => {
      const before = await chain.publicClient.getBlockNumber();
      await chain.mine(5);
      expect(await chain.publicClient.getBlockNumber()).toBe(before + 5n);
      expect(await chain.publicClient.readContract({ address, abi: counter.abi, functionName: "blockNumber" } as never)).toBe(before + 5n);
    });

    it("rewinds the head with snapshot / revert", async () => {
      const totalBefore = await total();
      const head = await chain.publicClient.getBlockNumber();
      const id = await chain.snapshot();
      const hash = await add("submitter", 7n);
      await chain.publicClient.waitForTransactionReceipt({ hash });
      expect(await total()).toBe(totalBefore + 7n);
      await chain.revert(id);
      expect(await total()).toBe(totalBefore);
      expect(await chain.publicClient.getBlockNumber()).toBe(head);
      await expect(chain.publicClient.getTransactionReceipt({ hash })).rejects.toThrow(/could not be found/);
      // The submitter's nonce went back too: its next transaction goes through.
      const again = await chain.publicClient.waitForTransactionReceipt({ hash: await add("submitter", 1n) });
      expect(again.status).toBe("success");
      await expect(chain.revert(id)).rejects.toThrow(/no snapshot/);
    });

    it("sends several transactions at once from one account", async () => {
      for (const who of ["submitter", "challenger"] as const) {
        const address_ = chain.wallet(who).account.address;
        const nonce = await chain.publicClient.getTransactionCount({ address: address_ });
        const before = await total();
        const hashes = await Promise.all([1n, 2n, 3n, 4n, 5n].map((n) => add(who, n)));
        const receipts = await Promise.all(hashes.map((hash) => chain.publicClient.waitForTransactionReceipt({ hash })));
        expect(receipts.every((r) => r.status === "success")).toBe(true);
        const txs = await Promise.all(hashes.map((hash) => chain.publicClient.getTransaction({ hash })));
        expect(txs.map((t) => t.nonce).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4].map((i) => nonce + i));
        expect(await total()).toBe(before + 15n);
      }
    });
  });
}
