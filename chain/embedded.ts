/**
 * The embedded chain: an in-process Ethereum dev node behind an EIP-1193 provider
 * (`provider.request({ method, params })`), so viem (and every on-chain command of detml) runs
 * without ports or binaries. It executes on @ethereumjs/vm 10 with Hardfork.Osaka and chain id
 * 31337, like `anvil --hardfork osaka --enable-tx-gas-limit`: the same ten funded dev accounts
 * (anvil's public test keys, `DEV_PRIVATE_KEYS`), automine (one block per transaction, mined when
 * it is sent, so "pending" is "latest"; a transaction that cannot run now, e.g. a nonce gap, is
 * refused, not queued), the 24,576-byte code limit and the EIP-7825 gas cap of 2^24 per
 * transaction. It answers what viem's public and wallet clients use: chain id, blocks,
 * balances, code, storage, nonces, fees, eth_call / eth_estimateGas (a revert is JSON-RPC error 3
 * carrying the revert `data`, which viem decodes into the contract's custom error), raw and
 * node-signed transactions (eth_sendTransaction for the dev accounts), receipts, logs by address
 * and topics; plus the dev methods `evm_mine` / `anvil_mine` (empty blocks, to pass challenge
 * windows), `evm_snapshot` / `evm_revert` (rewind the head, e.g. to simulate a reorg) and
 * `anvil_setBalance`. Any other method is JSON-RPC error -32601. Headers carry the real state
 * root, transactions root, bloom and gas used; the receipts root is left at the empty-trie value
 * (nothing here verifies it) and there are no system contracts (EIP-2935/4788/7002 are not
 * deployed: BLOCKHASH reads the embedded block list). @ethereumjs is imported lazily, the first
 * time `createEmbeddedChain` runs, so importing this module costs nothing. With `{ precompiles:
 * true }` the EVM also has the DNN-operator precompiles of chain/precompiles.ts (imported then).
 */
import type { Block, HeaderData } from "@ethereumjs/block";
import type { TypedTransaction } from "@ethereumjs/tx";
import type { RunTxResult, VM } from "@ethereumjs/vm";

/** The private keys of anvil's ten dev accounts (the public test mnemonic "test test ... junk"). */
export const DEV_PRIVATE_KEYS = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
  "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
  "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
  "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
  "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
  "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
  "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
] as const;

export const DEV_CHAIN_ID = 31337;
/** EIP-7825: the most gas one transaction may carry from Osaka on. */
export const TX_GAS_CAP = 1n << 24n;
const BLOCK_GAS_LIMIT = 30_000_000n;
const DEV_BALANCE = 10_000n * 10n ** 18n;
const GENESIS_BASE_FEE = 1_000_000_000n;
const PRIORITY_FEE = 1_000_000_000n;

type Hex = `0x${string}`;

/** An EIP-1193 request function, the shape viem's `custom` transport takes. */
export interface Eip1193Provider {
  request(args: { method: string; params?: readonly unknown[] | object }): Promise<unknown>;
}

/** A JSON-RPC error as EIP-1193 providers throw it: a numeric `code` and optional `data`. */
export class JsonRpcError extends Error {
  constructor(readonly code: number, message: string, readonly data?: Hex) {
    super(message);
    this.name = "JsonRpcError";
  }
}

export interface EmbeddedChain extends Eip1193Provider {
  /** The dev accounts' addresses (lowercase), in the order of DEV_PRIVATE_KEYS. */
  readonly accounts: readonly Hex[];
}

/** Whether `e` (or an error it wraps: test runners and bundlers wrap import failures) is a missing package. */
export function isModuleNotFound(e: unknown): boolean {
  for (let err = e as { code?: string; cause?: unknown } | undefined; err; err = err.cause as typeof err) {
    if (err.code === "ERR_MODULE_NOT_FOUND") return true;
  }
  return false;
}

async function loadEthereumjs() {
  try {
    const [vm, common, tx, util, block] = await Promise.all([
      import("@ethereumjs/vm"), import("@ethereumjs/common"), import("@ethereumjs/tx"),
      import("@ethereumjs/util"), import("@ethereumjs/block"),
    ]);
    return { vm, common, tx, util, block };
  } catch (e) {
    if (!isModuleNotFound(e)) throw e;
    throw new Error("the embedded chain needs @ethereumjs: install @ethereumjs/vm@10 @ethereumjs/common@10 @ethereumjs/tx@10 @ethereumjs/util@10 @ethereumjs/block@10");
  }
}
type Ejs = Awaited<ReturnType<typeof loadEthereumjs>>;

/** A mined transaction with what its receipt needs. */
interface MinedTx { tx: TypedTransaction; hash: Hex; from: Hex; result: RunTxResult; effectiveGasPrice: bigint }
/** A block and its transactions: none or one (automine), so a log's index in its block is its index in the receipt. */
interface MinedBlock { block: Block; hash: Hex; txs: MinedTx[] }

const hex = (n: bigint | number): Hex => `0x${n.toString(16)}`;

function invalidParams(what: string): never {
  throw new JsonRpcError(-32602, `invalid params: ${what}`);
}

function paramHex(v: unknown, what: string): Hex {
  if (typeof v !== "string" || !/^0x[0-9a-fA-F]*$/.test(v)) invalidParams(`${what} must be a 0x hex string`);
  return v.toLowerCase() as Hex;
}

function paramQuantity(v: unknown, what: string): bigint {
  const h = paramHex(v, what);
  if (h.length === 2) invalidParams(`${what} must be a hex quantity`);
  return BigInt(h);
}

function paramAddress(v: unknown, what: string): Hex {
  const a = paramHex(v, what);
  if (a.length !== 42) invalidParams(`${what} must be a 20-byte address`);
  return a;
}

/** The transaction object of eth_call / eth_estimateGas / eth_sendTransaction. */
interface TxRequest { from?: Hex; to?: Hex; data?: Hex; value?: bigint; gas?: bigint; gasPrice?: bigint; maxFeePerGas?: bigint; maxPriorityFeePerGas?: bigint; nonce?: bigint }

function paramTxRequest(v: unknown): TxRequest {
  if (typeof v !== "object" || v === null) invalidParams("expected a transaction object");
  const o = v as Record<string, unknown>;
  const num = (k: string) => (o[k] == null ? undefined : paramQuantity(o[k], k));
  const data = o.input ?? o.data;
  return {
    from: o.from == null ? undefined : paramAddress(o.from, "from"),
    to: o.to == null ? undefined : paramAddress(o.to, "to"),
    data: data == null ? undefined : paramHex(data, "input"),
    value: num("value"), gas: num("gas"), gasPrice: num("gasPrice"),
    maxFeePerGas: num("maxFeePerGas"), maxPriorityFeePerGas: num("maxPriorityFeePerGas"), nonce: num("nonce"),
  };
}

class Embedded implements EmbeddedChain {
  readonly accounts: Hex[];
  private readonly blocks: MinedBlock[] = [];
  private readonly blockByHash = new Map<Hex, number>();
  /** Transaction hash -> number of the block that holds it. */
  private readonly txByHash = new Map<Hex, number>();
  private readonly snapshots = new Map<number, { stateRoot: Uint8Array; height: number }>();
  private nextSnapshotId = 1;
  private headCallContext?: { at: MinedBlock; pending: boolean; block: Block };
  /** Requests run one at a time: a transaction is mined before the next request reads state. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly ejs: Ejs, private readonly vm: VM, private readonly keys: Map<Hex, Uint8Array>) {
    this.accounts = [...keys.keys()];
  }

  async init(): Promise<void> {
    const { util } = this.ejs;
    for (const address of this.accounts) {
      await this.vm.stateManager.putAccount(util.createAddressFromString(address), util.createAccount({ balance: DEV_BALANCE }));
    }
    this.pushBlock(this.ejs.block.createBlock({
      header: { number: 0n, gasLimit: BLOCK_GAS_LIMIT, baseFeePerGas: GENESIS_BASE_FEE, timestamp: BigInt(Math.floor(Date.now() / 1000)), stateRoot: await this.vm.stateManager.getStateRoot() },
    }, { common: this.vm.common }));
  }

  request(args: { method: string; params?: readonly unknown[] | object }): Promise<unknown> {
    const params = Array.isArray(args.params) ? args.params : [];
    const run = this.queue.then(() => this.dispatch(args.method, params));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The mined block `n` (BLOCKHASH asks for it). */
  blockAt(n: number): Block {
    return this.blocks[n].block;
  }

  private get head(): MinedBlock {
    return this.blocks[this.blocks.length - 1];
  }

  private async dispatch(method: string, p: readonly unknown[]): Promise<unknown> {
    const { util } = this.ejs;
    switch (method) {
      case "eth_chainId": return hex(DEV_CHAIN_ID);
      case "net_version": return String(DEV_CHAIN_ID);
      case "web3_clientVersion": return "detml-embedded/ethereumjs-10";
      case "eth_accounts": case "eth_requestAccounts": return [...this.accounts];
      case "eth_blockNumber": return hex(this.head.block.header.number);
      case "eth_getBlockByNumber": case "eth_getBlockByHash": {
        const n = method === "eth_getBlockByHash" ? this.blockByHash.get(paramHex(p[0], "block hash")) : Number(this.blockNumberOf(p[0]));
        return n === undefined || n >= this.blocks.length ? null : this.blockJson(this.blocks[n], p[1] === true);
      }
      case "eth_getBalance": return hex((await this.accountAt(p[0], p[1]))?.balance ?? 0n);
      case "eth_getTransactionCount": return hex((await this.accountAt(p[0], p[1]))?.nonce ?? 0n);
      case "eth_getCode": return util.bytesToHex(await (await this.vmAt(p[1])).stateManager.getCode(this.address(p[0])));
      case "eth_getStorageAt": {
        const slot = util.setLengthLeft(util.bigIntToBytes(paramQuantity(p[1], "slot")), 32);
        return util.bytesToHex(util.setLengthLeft(await (await this.vmAt(p[2])).stateManager.getStorage(this.address(p[0]), slot), 32));
      }
      case "eth_gasPrice": return hex(this.head.block.header.calcNextBaseFee() + PRIORITY_FEE);
      case "eth_maxPriorityFeePerGas": return hex(PRIORITY_FEE);
      case "eth_feeHistory": return this.feeHistory(p);
      case "eth_call": return util.bytesToHex((await this.simulate(paramTxRequest(p[0]), p[1])).execResult.returnValue);
      case "eth_estimateGas": return hex(await this.estimateGas(paramTxRequest(p[0]), p[1]));
      case "eth_sendTransaction": return this.mineTx(await this.signDevTx(paramTxRequest(p[0])));
      case "eth_sendRawTransaction": return this.mineTx(this.decodeTx(() => this.ejs.tx.createTxFromRLP(util.hexToBytes(paramHex(p[0], "raw transaction")), { common: this.vm.common })));
      case "eth_getTransactionReceipt": case "eth_getTransactionByHash": {
        const n = this.txByHash.get(paramHex(p[0], "transaction hash"));
        if (n === undefined) return null;
        return method === "eth_getTransactionReceipt" ? this.receiptJson(this.blocks[n]) : this.txJson(this.blocks[n]);
      }
      case "eth_getLogs": return this.getLogs(p[0]);
      case "evm_mine":
        await this.mineEmpty(1, { timestamp: p[0] == null ? undefined : typeof p[0] === "number" ? BigInt(p[0]) : paramQuantity(p[0], "timestamp") });
        return "0x0";
      case "anvil_mine": case "hardhat_mine":
        await this.mineEmpty(p[0] == null ? 1 : Number(paramQuantity(p[0], "block count")), { interval: p[1] == null ? undefined : paramQuantity(p[1], "interval") });
        return null;
      case "evm_snapshot": {
        const id = this.nextSnapshotId++;
        this.snapshots.set(id, { stateRoot: await this.vm.stateManager.getStateRoot(), height: this.blocks.length });
        return hex(id);
      }
      case "evm_revert": return this.revertTo(Number(paramQuantity(p[0], "snapshot id")));
      case "anvil_setBalance": {
        const address = this.address(p[0]);
        const account = (await this.vm.stateManager.getAccount(address)) ?? util.createAccount({});
        account.balance = paramQuantity(p[1], "balance");
        await this.vm.stateManager.putAccount(address, account);
        return null;
      }
      default:
        throw new JsonRpcError(-32601, `the embedded chain does not support ${method}`);
    }
  }

  /** A block tag or number as a block number; "pending" is the head (automine leaves nothing pending). */
  private blockNumberOf(tag: unknown): bigint {
    if (tag === undefined || tag === "latest" || tag === "pending" || tag === "safe" || tag === "finalized") return this.head.block.header.number;
    if (tag === "earliest") return 0n;
    return paramQuantity(tag, "block number");
  }

  /** The VM whose state is that after block `tag`: the live one at the head, a copy at an older root. */
  private async vmAt(tag: unknown): Promise<VM> {
    const n = this.blockNumberOf(tag);
    if (n === this.head.block.header.number) return this.vm;
    if (n > this.head.block.header.number) throw new JsonRpcError(-32000, `block ${n} is not mined yet`);
    const copy = await this.vm.shallowCopy();
    await copy.stateManager.setStateRoot(this.blocks[Number(n)].block.header.stateRoot);
    return copy;
  }

  private address(param: unknown) {
    return this.ejs.util.createAddressFromString(paramAddress(param, "address"));
  }

  private async accountAt(address: unknown, tag: unknown) {
    return (await this.vmAt(tag)).stateManager.getAccount(this.address(address));
  }

  /** Header fields of the block after the head; `timestamp` overrides the clock. */
  private nextHeader(timestamp?: bigint): HeaderData {
    const parent = this.head.block.header;
    const now = BigInt(Math.floor(Date.now() / 1000));
    return {
      number: parent.number + 1n,
      parentHash: parent.hash(),
      gasLimit: BLOCK_GAS_LIMIT,
      baseFeePerGas: parent.calcNextBaseFee(),
      timestamp: timestamp ?? (now > parent.timestamp ? now : parent.timestamp + 1n),
    };
  }

  private pushBlock(block: Block, tx?: MinedTx): void {
    const mined: MinedBlock = { block, hash: this.ejs.util.bytesToHex(block.hash()) as Hex, txs: tx === undefined ? [] : [tx] };
    if (tx !== undefined) this.txByHash.set(tx.hash, this.blocks.length);
    this.blockByHash.set(mined.hash, this.blocks.length);
    this.blocks.push(mined);
  }

  /** Mines `count` empty blocks, at `timestamp` (evm_mine) or `interval` seconds apart (anvil_mine). */
  private async mineEmpty(count: number, at: { timestamp?: bigint; interval?: bigint }): Promise<void> {
    if (!Number.isSafeInteger(count) || count < 0) invalidParams("block count");
    // The live root, not the head's: anvil_setBalance changes state outside blocks.
    const stateRoot = await this.vm.stateManager.getStateRoot();
    for (let i = 0; i < count; i++) {
      const timestamp = at.timestamp ?? (at.interval === undefined ? undefined : this.head.block.header.timestamp + at.interval);
      this.pushBlock(this.ejs.block.createBlock({ header: { ...this.nextHeader(timestamp), stateRoot } }, { common: this.vm.common }));
    }
  }

  private decodeTx(decode: () => TypedTransaction): TypedTransaction {
    try {
      return decode();
    } catch (e) {
      throw new JsonRpcError(-32000, `invalid transaction: ${(e as Error).message}`);
    }
  }

  /** Runs `tx` in a new block on the head and returns its hash; an invalid tx mines nothing. */
  private async mineTx(tx: TypedTransaction): Promise<Hex> {
    const { util, block: blk, vm: vmMod } = this.ejs;
    const header = this.nextHeader();
    let result: RunTxResult;
    try {
      result = await vmMod.runTx(this.vm, { tx, block: blk.createBlock({ header }, { common: this.vm.common }) });
    } catch (e) {
      throw new JsonRpcError(-32000, (e as Error).message);
    }
    const sealed = blk.createBlock({
      header: {
        ...header, stateRoot: await this.vm.stateManager.getStateRoot(), gasUsed: result.totalGasSpent,
        logsBloom: result.bloom.bitvector, transactionsTrie: await blk.genTransactionsTrieRoot([tx]),
      },
      transactions: [tx],
    }, { common: this.vm.common });
    const hash = util.bytesToHex(tx.hash()) as Hex;
    const effectiveGasPrice = header.baseFeePerGas as bigint + tx.getEffectivePriorityFee(header.baseFeePerGas as bigint);
    this.pushBlock(sealed, { tx, hash, from: tx.getSenderAddress().toString() as Hex, result, effectiveGasPrice });
    return hash;
  }

  /** eth_sendTransaction: the node signs for its dev accounts, filling nonce, gas and fees. */
  private async signDevTx(req: TxRequest): Promise<TypedTransaction> {
    const key = req.from === undefined ? undefined : this.keys.get(req.from);
    if (key === undefined) throw new JsonRpcError(-32000, `eth_sendTransaction: ${req.from ?? "no from"} is not a dev account of the embedded chain`);
    const account = await this.vm.stateManager.getAccount(this.ejs.util.createAddressFromString(req.from as Hex));
    const base = {
      to: req.to, data: req.data, value: req.value ?? 0n, chainId: BigInt(DEV_CHAIN_ID),
      nonce: req.nonce ?? account?.nonce ?? 0n,
      gasLimit: req.gas ?? await this.estimateGas(req, undefined),
    };
    const fees = req.gasPrice !== undefined ? { type: 0, gasPrice: req.gasPrice } : {
      type: 2,
      maxPriorityFeePerGas: req.maxPriorityFeePerGas ?? PRIORITY_FEE,
      maxFeePerGas: req.maxFeePerGas ?? 2n * this.head.block.header.calcNextBaseFee() + PRIORITY_FEE,
    };
    return this.decodeTx(() => this.ejs.tx.createTx({ ...base, ...fees }, { common: this.vm.common }).sign(key));
  }

  /**
   * Runs `req` as a transaction from `req.from` (no signature, nonce and balance unchecked, no fee)
   * on the state after block `tag`, and undoes it. Revert and halt are JSON-RPC error 3, with
   * the revert data for a revert.
   */
  private async simulate(req: TxRequest, tag: unknown, gasLimit = req.gas ?? TX_GAS_CAP): Promise<RunTxResult> {
    const { util, tx: txMod, vm: vmMod } = this.ejs;
    const vm = await this.vmAt(tag);
    const from = util.createAddressFromString(req.from ?? "0x0000000000000000000000000000000000000000");
    const nonce = (await vm.stateManager.getAccount(from))?.nonce ?? 0n;
    const tx = this.decodeTx(() => txMod.createTx({ type: 0, to: req.to, data: req.data, value: req.value ?? 0n, gasLimit, gasPrice: 0n, nonce }, { common: vm.common, freeze: false }));
    // The sender of an unsigned transaction: how a node runs a call "from" any address.
    tx.getSenderAddress = () => from;
    const block = this.callContext(tag);
    await vm.stateManager.checkpoint();
    let result: RunTxResult;
    try {
      result = await vmMod.runTx(vm, { tx, block, skipNonce: true, skipBalance: true, skipHardForkValidation: true });
    } catch (e) {
      throw new JsonRpcError(-32000, (e as Error).message);
    } finally {
      await vm.stateManager.revert();
    }
    const error = result.execResult.exceptionError;
    if (error !== undefined) {
      const reverted = error.error === "revert";
      throw new JsonRpcError(3, reverted ? "execution reverted" : `execution failed: ${error.error}`,
        reverted ? util.bytesToHex(result.execResult.returnValue) as Hex : undefined);
    }
    return result;
  }

  /**
   * The block a call at `tag` runs in: block `tag` itself (geth's rule: block.number is the tag's
   * number), for "pending" the next block; no base fee, since a call pays nothing. The one for the
   * head is kept until the head changes: building a block costs more than running a small call.
   */
  private callContext(tag: unknown): Block {
    const pending = tag === "pending";
    const at = this.blocks[Number(this.blockNumberOf(tag))];
    if (this.headCallContext?.at === at && this.headCallContext.pending === pending) return this.headCallContext.block;
    const header = pending ? this.nextHeader() : { ...at.block.header.toJSON(), number: at.block.header.number };
    const block = this.ejs.block.createBlock({ header: { ...header, baseFeePerGas: 0n } }, { common: this.vm.common });
    if (at === this.head) this.headCallContext = { at, pending, block };
    return block;
  }

  /**
   * A gas limit under which `req` succeeds, near the least: the gas it used before refunds when
   * run with the cap; if that is not enough (the 63/64 rule of calls, the 2300-gas stipend check
   * of SSTORE), that plus a sixty-third and a margin, which covers one level of calls; only if
   * that fails too, bisection up to the cap. Each try is a full run of the transaction.
   */
  private async estimateGas(req: TxRequest, tag: unknown): Promise<bigint> {
    const cap = req.gas ?? TX_GAS_CAP;
    const first = await this.simulate(req, tag, cap);
    let lo = first.totalGasSpent + first.gasRefund;
    const succeeds = (gas: bigint) => this.simulate(req, tag, gas).then(() => true, () => false);
    if (lo >= cap) return cap;
    if (await succeeds(lo)) return lo;
    const guess = lo + lo / 63n + 5000n;
    if (guess < cap && (await succeeds(guess))) return guess;
    lo = guess < cap ? guess : lo;
    let hi = cap;
    while (hi - lo > 1n) {
      const mid = (lo + hi) / 2n;
      if (await succeeds(mid)) hi = mid; else lo = mid;
    }
    return hi;
  }

  private async revertTo(id: number): Promise<boolean> {
    const snapshot = this.snapshots.get(id);
    if (snapshot === undefined) return false;
    for (const dropped of this.blocks.splice(snapshot.height)) {
      this.blockByHash.delete(dropped.hash);
      for (const tx of dropped.txs) this.txByHash.delete(tx.hash);
    }
    for (const later of [...this.snapshots.keys()]) if (later >= id) this.snapshots.delete(later);
    await this.vm.stateManager.setStateRoot(snapshot.stateRoot);
    return true;
  }

  private feeHistory(p: readonly unknown[]) {
    const count = Number(typeof p[0] === "number" ? p[0] : paramQuantity(p[0], "block count"));
    const newest = this.blockNumberOf(p[1]);
    const percentiles = Array.isArray(p[2]) ? p[2] : [];
    const oldest = newest - BigInt(Math.max(0, Math.min(count, Number(newest) + 1) - 1));
    const blocks = this.blocks.slice(Number(oldest), Number(newest) + 1).map((b) => b.block.header);
    return {
      oldestBlock: hex(oldest),
      baseFeePerGas: [...blocks.map((h) => hex(h.baseFeePerGas ?? 0n)), hex(blocks[blocks.length - 1].calcNextBaseFee())],
      gasUsedRatio: blocks.map((h) => Number(h.gasUsed) / Number(h.gasLimit)),
      reward: blocks.map(() => percentiles.map(() => hex(PRIORITY_FEE))),
    };
  }

  private blockJson(mined: MinedBlock, fullTxs: boolean) {
    const { util } = this.ejs;
    const h = mined.block.header;
    const b = util.bytesToHex;
    return {
      number: hex(h.number), hash: mined.hash, parentHash: b(h.parentHash), nonce: b(h.nonce), mixHash: b(h.mixHash),
      sha3Uncles: b(h.uncleHash), logsBloom: b(h.logsBloom), transactionsRoot: b(h.transactionsTrie),
      stateRoot: b(h.stateRoot), receiptsRoot: b(h.receiptTrie), miner: h.coinbase.toString(),
      difficulty: "0x0", totalDifficulty: "0x0", extraData: b(h.extraData), size: hex(mined.block.serialize().length),
      gasLimit: hex(h.gasLimit), gasUsed: hex(h.gasUsed), timestamp: hex(h.timestamp), baseFeePerGas: hex(h.baseFeePerGas ?? 0n),
      withdrawals: [], withdrawalsRoot: b(h.withdrawalsRoot ?? new Uint8Array(32)), blobGasUsed: hex(h.blobGasUsed ?? 0n),
      excessBlobGas: hex(h.excessBlobGas ?? 0n), parentBeaconBlockRoot: b(h.parentBeaconBlockRoot ?? new Uint8Array(32)),
      requestsHash: b(h.requestsHash ?? new Uint8Array(32)), uncles: [],
      transactions: mined.txs.map((t) => (fullTxs ? this.txJson(mined, t) : t.hash)),
    };
  }

  private txJson(mined: MinedBlock, t = mined.txs[0]) {
    const { gasLimit, data, ...fields } = t.tx.toJSON();
    return {
      ...fields, type: hex(t.tx.type), gas: gasLimit, input: data, hash: t.hash, from: t.from, to: fields.to ?? null,
      blockHash: mined.hash, blockNumber: hex(mined.block.header.number), transactionIndex: "0x0",
      gasPrice: hex(t.effectiveGasPrice), ...(t.tx.type === 0 ? {} : { yParity: fields.v }),
    };
  }


  private logJson(mined: MinedBlock, t: MinedTx, i: number) {
    const { bytesToHex } = this.ejs.util;
    const [address, topics, data] = t.result.receipt.logs[i];
    return {
      address: bytesToHex(address), topics: topics.map((x) => bytesToHex(x)), data: bytesToHex(data),
      blockNumber: hex(mined.block.header.number), blockHash: mined.hash, transactionHash: t.hash,
      transactionIndex: "0x0", logIndex: hex(i), removed: false,
    };
  }

  private receiptJson(mined: MinedBlock) {
    const t = mined.txs[0];
    const receipt = t.result.receipt as typeof t.result.receipt & { status: 0 | 1 };
    return {
      transactionHash: t.hash, transactionIndex: "0x0", blockHash: mined.hash,
      blockNumber: hex(mined.block.header.number), from: t.from, to: t.tx.to?.toString() ?? null,
      cumulativeGasUsed: hex(receipt.cumulativeBlockGasUsed), gasUsed: hex(t.result.totalGasSpent),
      effectiveGasPrice: hex(t.effectiveGasPrice), contractAddress: t.result.createdAddress?.toString() ?? null,
      logs: receipt.logs.map((_, i) => this.logJson(mined, t, i)), logsBloom: this.ejs.util.bytesToHex(receipt.bitvector),
      status: hex(receipt.status), type: hex(t.tx.type),
    };
  }

  /** eth_getLogs over [fromBlock, toBlock] (or one blockHash), by address and positional topics. */
  private getLogs(filter: unknown) {
    if (typeof filter !== "object" || filter === null) invalidParams("expected a filter object");
    const f = filter as Record<string, unknown>;
    let from: bigint, to: bigint;
    if (f.blockHash != null) {
      const n = this.blockByHash.get(paramHex(f.blockHash, "blockHash"));
      if (n === undefined) throw new JsonRpcError(-32000, "unknown block hash");
      from = to = BigInt(n);
    } else {
      from = this.blockNumberOf(f.fromBlock);
      to = this.blockNumberOf(f.toBlock);
      if (to > this.head.block.header.number) to = this.head.block.header.number;
    }
    const addresses = f.address == null ? null : (Array.isArray(f.address) ? f.address : [f.address]).map((a) => paramAddress(a, "address"));
    const topics = (Array.isArray(f.topics) ? f.topics : []).map((t) =>
      t == null ? null : (Array.isArray(t) ? t : [t]).map((x) => paramHex(x, "topic")));
    const out = [];
    for (let n = Number(from); n <= Number(to); n++) {
      const mined = this.blocks[n];
      for (const t of mined.txs) {
        for (let i = 0; i < t.result.receipt.logs.length; i++) {
          const log = this.logJson(mined, t, i);
          if (addresses !== null && !addresses.includes(log.address as Hex)) continue;
          if (topics.every((want, k) => want === null || (k < log.topics.length && want.includes(log.topics[k] as Hex)))) out.push(log);
        }
      }
    }
    return out;
  }
}

export interface EmbeddedChainOptions {
  /** Add the DNN-operator precompiles at 0x0d01.. (chain/precompiles.ts, docs/evm.md). */
  precompiles?: boolean;
}

/**
 * A fresh embedded chain: genesis block 0 with the ten dev accounts funded (10,000 ETH each);
 * with `precompiles`, an extended EVM that also has the DNN-operator precompiles.
 */
export async function createEmbeddedChain(options: EmbeddedChainOptions = {}): Promise<EmbeddedChain> {
  const ejs = await loadEthereumjs();
  const common = ejs.common.createCustomCommon({ chainId: DEV_CHAIN_ID }, ejs.common.Mainnet, { hardfork: ejs.common.Hardfork.Osaka });
  // BLOCKHASH (no EIP-2935 contract here) asks the blockchain: answer from the embedded blocks.
  const blockchain = {
    getBlock: async (n: number) => chain.blockAt(n),
    putBlock: async () => undefined,
    shallowCopy() { return blockchain; },
  };
  let chain: Embedded;
  const evmOpts = options.precompiles
    ? { customPrecompiles: (await import("./precompiles.js")).customPrecompiles({ evm: await import("@ethereumjs/evm"), util: ejs.util }) }
    : undefined;
  const vm = await ejs.vm.createVM({ common, blockchain, evmOpts });
  const keys = new Map<Hex, Uint8Array>(DEV_PRIVATE_KEYS.map((k) => {
    const key = ejs.util.hexToBytes(k);
    return [ejs.util.bytesToHex(ejs.util.privateToAddress(key)) as Hex, key];
  }));
  chain = new Embedded(ejs, vm, keys);
  await chain.init();
  return chain;
}
