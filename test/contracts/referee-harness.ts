/**
 * A small in-process chain for the contract tests: @ethereumjs/vm on Hardfork.Osaka with the
 * trie-less SimpleStateManager (about 30 times faster per transaction than the Merkle one; no
 * test here needs state roots), contracts
 * from contracts/build/artifacts.json (built by scripts/build-contracts.mjs, reused while the
 * sources are unchanged), transactions from any address without signatures (the sender is set on
 * the transaction, as a dev node does for its own accounts), gas price 0 so that ether balances
 * move only by value, and a block number the test chooses for every transaction (the referee's
 * deadlines are in blocks). `send` runs one transaction and returns its outcome: success with its
 * gas and decoded events, or the name of the custom error it reverted with. `storage` dumps a
 * contract's storage, so a test can check that a rejected call changed nothing.
 */
import { createBlock, type Block } from "@ethereumjs/block";
import { createCustomCommon, Hardfork, Mainnet } from "@ethereumjs/common";
import { createTx } from "@ethereumjs/tx";
import { createAccount, createAddressFromString, bytesToHex, hexToBytes, type Address as EjsAddress } from "@ethereumjs/util";
import { SimpleStateManager } from "@ethereumjs/statemanager";
import { createVM, runTx, type VM } from "@ethereumjs/vm";
import {
  decodeErrorResult, decodeEventLog, decodeFunctionResult, encodeDeployData, encodeFunctionData, getContractAddress, type Abi, type Hex,
} from "viem";

/** EIP-7825: the most gas a transaction may carry from Osaka on. */
export const TX_GAS_CAP = 1n << 24n;

export interface Artifact {
  abi: Abi;
  bytecode: Hex;
  runtimeBytes: number;
}

let artifacts: Record<string, Artifact> | undefined;

/** The compiled contracts (compiling them when the sources changed since the last build). */
export async function loadArtifacts(): Promise<Record<string, Artifact>> {
  if (!artifacts) {
    const script = "../../scripts/build-contracts.mjs";
    const { compileAll } = (await import(script)) as { compileAll(useCache: boolean): { contracts: Record<string, Artifact> } };
    artifacts = compileAll(true).contracts;
  }
  return artifacts;
}

export interface Outcome {
  ok: boolean;
  /** The custom error's name when the transaction reverted with one. */
  error?: string;
  gas: bigint;
  events: { eventName: string; args: Record<string, unknown> }[];
  result?: unknown;
}

export class Chain {
  /** The block number the next transactions are included in. */
  block = 1n;
  private nonces = new Map<string, bigint>();
  private blocks = new Map<bigint, Block>();

  private constructor(readonly vm: VM, private readonly state: SimpleStateManager) {}

  static async create(funded: Hex[], ether = 1000n): Promise<Chain> {
    const common = createCustomCommon({ chainId: 31337 }, Mainnet, { hardfork: Hardfork.Osaka });
    const state = new SimpleStateManager({ common });
    const vm = await createVM({ common, stateManager: state });
    for (const a of funded) await state.putAccount(createAddressFromString(a), createAccount({ balance: ether * 10n ** 18n }));
    return new Chain(vm, state);
  }

  private async run(from: Hex, to: Hex | undefined, data: Hex, value: bigint): Promise<{ ok: boolean; gas: bigint; returned: Uint8Array; logs: { address: Uint8Array; topics: Uint8Array[]; data: Uint8Array }[] }> {
    const nonce = this.nonces.get(from) ?? 0n;
    const tx = createTx({ type: 0, to, data, value, gasLimit: TX_GAS_CAP, gasPrice: 0n, nonce }, { common: this.vm.common, freeze: false });
    const sender: EjsAddress = createAddressFromString(from);
    tx.getSenderAddress = () => sender;
    let block = this.blocks.get(this.block);
    if (!block) {
      block = createBlock({ header: { number: this.block, gasLimit: 60_000_000n, baseFeePerGas: 0n, timestamp: this.block * 12n } }, { common: this.vm.common });
      this.blocks.set(this.block, block);
    }
    const r = await runTx(this.vm, { tx, block, skipHardForkValidation: true });
    this.nonces.set(from, nonce + 1n);
    const logs = (r.receipt.logs ?? []).map(([address, topics, data]) => ({ address, topics, data }));
    return { ok: r.execResult.exceptionError === undefined, gas: r.totalGasSpent, returned: r.execResult.returnValue, logs };
  }

  async deploy(artifact: Artifact, args: unknown[], from: Hex): Promise<Hex> {
    const nonce = this.nonces.get(from) ?? 0n;
    const r = await this.run(from, undefined, encodeDeployData({ abi: artifact.abi, bytecode: artifact.bytecode, args }), 0n);
    if (!r.ok) throw new Error(`deploying failed: ${bytesToHex(r.returned)}`);
    return getContractAddress({ from, nonce });
  }

  /** One transaction calling `fn` of the contract at `to`. */
  async send(abi: Abi, to: Hex, from: Hex, fn: string, args: unknown[] = [], value = 0n): Promise<Outcome> {
    const r = await this.run(from, to, encodeFunctionData({ abi, functionName: fn, args }), value);
    if (!r.ok) {
      let error = "(no custom error)";
      try {
        error = decodeErrorResult({ abi, data: bytesToHex(r.returned) as Hex }).errorName;
      } catch { /* a revert without a known error */ }
      return { ok: false, error, gas: r.gas, events: [] };
    }
    // Events of the called contract only (a call into another contract may log that contract's events).
    const own = r.logs.filter((l) => bytesToHex(l.address) === to.toLowerCase());
    const events = own.map((l) => decodeEventLog({
      abi, data: bytesToHex(l.data) as Hex, topics: l.topics.map((t) => bytesToHex(t) as Hex) as [Hex, ...Hex[]],
    }) as unknown as { eventName: string; args: Record<string, unknown> });
    let result: unknown;
    if (r.returned.length > 0) result = decodeFunctionResult({ abi, functionName: fn, data: bytesToHex(r.returned) as Hex });
    return { ok: true, gas: r.gas, events, result };
  }

  /** The execution gas of a read-only call (no intrinsic or calldata cost; nothing is kept). */
  async callGas(abi: Abi, to: Hex, fn: string, args: unknown[] = []): Promise<bigint> {
    const r = await this.vm.evm.runCall({
      to: createAddressFromString(to), caller: createAddressFromString("0x0000000000000000000000000000000000000001"),
      data: hexToBytes(encodeFunctionData({ abi, functionName: fn, args })), gasLimit: TX_GAS_CAP,
    });
    return r.execResult.executionGasUsed;
  }

  /** A read-only call (nothing is kept). */
  async read(abi: Abi, to: Hex, fn: string, args: unknown[] = []): Promise<unknown> {
    const r = await this.vm.evm.runCall({
      to: createAddressFromString(to), caller: createAddressFromString("0x0000000000000000000000000000000000000001"),
      data: hexToBytes(encodeFunctionData({ abi, functionName: fn, args })), gasLimit: TX_GAS_CAP,
    });
    if (r.execResult.exceptionError) {
      let name: string = r.execResult.exceptionError.error;
      try {
        name = decodeErrorResult({ abi, data: bytesToHex(r.execResult.returnValue) as Hex }).errorName;
      } catch { /* not a custom error */ }
      throw new Error(`${fn} reverted: ${name}`);
    }
    return decodeFunctionResult({ abi, functionName: fn, data: bytesToHex(r.execResult.returnValue) as Hex });
  }

  async etherOf(address: Hex): Promise<bigint> {
    return (await this.vm.stateManager.getAccount(createAddressFromString(address)))?.balance ?? 0n;
  }

  /** Every storage slot of a contract, as JSON (equal strings: equal storage). */
  storage(address: Hex): string {
    // SimpleStateManager keeps one flat map, keyed "<address>_<slot>", on top of its checkpoint stack.
    const top = this.state.storageStack[this.state.storageStack.length - 1];
    const prefix = `${createAddressFromString(address).toString()}_`;
    const slots = [...top].filter(([k, v]) => k.startsWith(prefix) && v.some((b) => b !== 0)).map(([k, v]) => [k, bytesToHex(v)]);
    return JSON.stringify(slots.sort(([a], [b]) => a.localeCompare(b)));
  }
}
