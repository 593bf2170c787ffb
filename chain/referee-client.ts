/**
 * `RefereeClient`: the detml contracts seen from TypeScript. It deploys the system (the
 * `StepVerifier`, then the `Referee` pointed at it), registers models, posts claims, requests
 * and answers, plays moves and reads games back in the shapes dispute/ uses (`Game`, `Move`,
 * `Claim`), so the same `Agent` that plays against the TypeScript referee plays on chain. Every
 * transaction waits for its receipt (and `confirmations` more blocks) and returns its hash and
 * gas; a revert becomes a `ChainRejection` carrying the contract's custom error name and the
 * dispute code it stands for (`NotYourTurn` -> NOT_YOUR_TURN), so callers handle both referees'
 * rejections alike. Words cross the boundary as 0x-hex bytes32: state and boundary fields are
 * the 18 and 10 words of docs/vm-state.md in their hashing order.
 */
import type { Abi, Address, Hex, Log, TransactionReceipt } from "viem";
import { BOUNDARY_FIELDS, fromHex, STATE_FIELDS, toHex, type BoundaryFields, type Hash, type ModuleConstants, type StateFields } from "../vm/index.js";
import type { Claim, Game, Move, Phase, RejectCode } from "../dispute/index.js";
import { getArtifact } from "./artifacts.js";
import type { ChainConnection, WalletRole } from "./connect.js";
import { deployContract, type Deployment } from "./deploy.js";

/** Constructor parameters of the Referee (docs/protocol.md section 9). */
export interface ChainRefereeParams {
  bond: bigint;
  challengeBlocks: number;
  moveBlocks: number;
  degree: number;
}

/** Dev-chain defaults: 1 ether bonds, a 20-block window, 10 blocks per move, degree 4. */
export const DEV_REFEREE_PARAMS: ChainRefereeParams = { bond: 10n ** 18n, challengeBlocks: 20, moveBlocks: 10, degree: 4 };

export interface SentTx {
  hash: Hex;
  gasUsed: bigint;
  blockNumber: bigint;
  /** Calldata bytes of the transaction. */
  calldataBytes: number;
  logs: Log[];
}

/** A transaction the contract reverted: its custom error and the matching dispute code. */
export class ChainRejection extends Error {
  constructor(readonly errorName: string, readonly code: RejectCode | undefined, message: string) {
    super(message);
    this.name = "ChainRejection";
  }
}

/** EIP-7825 (Osaka): no transaction may ask for more gas. */
const TX_GAS_CAP = 1n << 24n;

const PHASES: Phase[] = ["ops" /* None never reaches a caller */, "ops", "reveal", "steps", "prove", "over"];
const WINNERS = [undefined, "submitter", "challenger", "cancelled"] as const;
const CLAIM_STATUS = ["none", "open", "accepted", "rejected"] as const;

/** `NotYourTurn` -> `NOT_YOUR_TURN`; undefined for errors that have no dispute code. */
function disputeCode(errorName: string): RejectCode | undefined {
  const code = errorName.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
  const known: readonly string[] = [
    "UNKNOWN_MODEL", "UNKNOWN_CLAIM", "BAD_CLAIM", "INSUFFICIENT_FUNDS", "CHALLENGE_CLOSED", "NOT_CHALLENGEABLE", "GAME_OVER",
    "NOT_YOUR_TURN", "WRONG_MOVE", "DEADLINE_PASSED", "BAD_FORMAT", "HASH_MISMATCH", "INVALID_PROOF", "NOT_TIMED_OUT", "STILL_OPEN", "UNKNOWN_GAME",
  ];
  return known.includes(code) ? (code as RejectCode) : undefined;
}

/** The custom error a viem error carries, if the node returned revert data. */
export function revertName(e: unknown): string | undefined {
  for (let cur = e as { cause?: unknown; data?: { errorName?: string }; name?: string } | undefined; cur; cur = cur.cause as typeof cur) {
    if (cur.name === "ContractFunctionRevertedError" && cur.data?.errorName) return cur.data.errorName;
  }
  return undefined;
}

export const word = (n: number | bigint): Hex => `0x${BigInt(n).toString(16).padStart(64, "0")}`;
const bytesHex = (b: Uint8Array): Hex => toHex(b) as Hex;

export function stateWords(s: StateFields<number | bigint>): Hex[] {
  return STATE_FIELDS.map((k) => (typeof s[k] === "object" ? bytesHex(s[k] as Uint8Array) : word(s[k] as number | bigint)));
}

/** The 18 words of a state back to its fields (counts as numbers: a state from a proof's range checks). */
export function stateFromWords(words: readonly Hex[]): StateFields {
  const s: Record<string, unknown> = {};
  STATE_FIELDS.forEach((k, i) => {
    s[k] = HASH_FIELDS.has(k) ? fromHex(words[i]) : Number(BigInt(words[i]));
  });
  return s as unknown as StateFields;
}

const HASH_FIELDS = new Set(["codeRoot", "memoryRoot", "inputRoot", "outputAcc", "stackHash", "localsRoot", "framesHash"]);

export function boundaryWords(b: BoundaryFields): Hex[] {
  return BOUNDARY_FIELDS.map((k) => (typeof b[k] === "object" ? bytesHex(b[k] as Uint8Array) : word(b[k] as number)));
}

export interface ChainClaim {
  id: number;
  modelId: Hex;
  submitter: Address;
  blockNumber: number;
  status: (typeof CLAIM_STATUS)[number];
  trap: boolean;
  parent: number;
  requestId: number;
  openGames: number;
  finalBoundary: Hex;
}

export interface ChainGame extends Game {
  id: number;
  /** How the game ended on chain ("cancelled": its claim was rejected in another game). */
  outcome?: "submitter" | "challenger" | "cancelled";
}

export class RefereeClient {
  private readonly abi: Abi;
  private viem?: typeof import("viem");

  constructor(readonly conn: ChainConnection, readonly address: Address, readonly params: ChainRefereeParams, readonly fromBlock = 0n) {
    this.abi = getArtifact("Referee").abi as Abi;
  }

  /** Deploy a StepVerifier and a Referee using it; the deployer is `from` (default the submitter). */
  static async deploy(conn: ChainConnection, params: ChainRefereeParams = DEV_REFEREE_PARAMS, from: WalletRole = "submitter"): Promise<{ client: RefereeClient; verifier: Deployment; referee: Deployment }> {
    const verifier = await deployContract(conn, "StepVerifier", [], { from });
    const referee = await deployContract(conn, "Referee", [verifier.address, params.bond, BigInt(params.challengeBlocks), BigInt(params.moveBlocks), BigInt(params.degree)], { from });
    return { client: new RefereeClient(conn, referee.address, params, verifier.blockNumber), verifier, referee };
  }

  /** A client for a Referee already deployed at `address` (its parameters read from the contract). */
  static async attach(conn: ChainConnection, address: Address, fromBlock = 0n): Promise<RefereeClient> {
    if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new Error(`the Referee address ${address} is not an address (0x and 40 hex digits)`);
    const abi = getArtifact("Referee").abi as Abi;
    const code = await conn.publicClient.getCode({ address });
    if (!code || code === "0x") throw new Error(`no contract at ${address} on this chain (chain id ${conn.chainId}): check --referee`);
    const read = (functionName: string) => conn.publicClient.readContract({ address, abi, functionName }) as Promise<bigint>;
    try {
      const [bond, challengeBlocks, moveBlocks, degree] = await Promise.all([read("bond"), read("challengeBlocks"), read("moveBlocks"), read("degree")]);
      return new RefereeClient(conn, address, { bond, challengeBlocks: Number(challengeBlocks), moveBlocks: Number(moveBlocks), degree: Number(degree) }, fromBlock);
    } catch {
      throw new Error(`the contract at ${address} is not a detml Referee (it does not answer bond/challengeBlocks/moveBlocks/degree)`);
    }
  }

  private async lib(): Promise<typeof import("viem")> {
    return (this.viem ??= await import("viem"));
  }

  async read<T>(functionName: string, args: readonly unknown[] = []): Promise<T> {
    return this.conn.publicClient.readContract({ address: this.address, abi: this.abi, functionName, args }) as Promise<T>;
  }

  /** Send one transaction as `role`; a revert throws ChainRejection naming the contract's error. */
  async send(role: WalletRole, functionName: string, args: readonly unknown[], value?: bigint, confirmations = 0): Promise<SentTx> {
    const viem = await this.lib();
    const wallet = this.conn.wallet(role);
    const data = viem.encodeFunctionData({ abi: this.abi, functionName, args });
    let hash: Hex;
    try {
      // Estimated against the pending block: moves write block-number-dependent deadlines, and an
      // estimate at "latest" (block.number one lower) finds those writes cheaper than they are.
      const estimate = await this.conn.publicClient.estimateGas({ account: wallet.account, to: this.address, data, value, blockTag: "pending" });
      const gas = estimate + estimate / 10n < TX_GAS_CAP ? estimate + estimate / 10n : TX_GAS_CAP;
      hash = await wallet.sendTransaction({ account: wallet.account, chain: wallet.chain, to: this.address, data, value, gas });
    } catch (e) {
      const name = revertName(e) ?? revertNameFromData(viem, this.abi, e);
      if (name) throw new ChainRejection(name, disputeCode(name), `${functionName} reverted: ${name}`);
      throw e;
    }
    const receipt: TransactionReceipt = await this.conn.publicClient.waitForTransactionReceipt({ hash, confirmations: confirmations + 1 });
    if (receipt.status !== "success") {
      // Estimated to succeed but reverted when mined (the chain moved on): replay it to name the error.
      const name = await this.replayRevert(role, data, value, receipt.blockNumber);
      throw new ChainRejection(name ?? "Reverted", name ? disputeCode(name) : undefined, `${functionName} reverted in block ${receipt.blockNumber}${name ? `: ${name}` : ""}`);
    }
    return { hash, gasUsed: receipt.gasUsed, blockNumber: receipt.blockNumber, calldataBytes: (data.length - 2) / 2, logs: receipt.logs };
  }

  private async replayRevert(role: WalletRole, data: Hex, value: bigint | undefined, blockNumber: bigint): Promise<string | undefined> {
    const viem = await this.lib();
    try {
      await this.conn.publicClient.call({ account: this.conn.wallet(role).account, to: this.address, data, value, blockNumber: blockNumber - 1n });
    } catch (e) {
      return revertName(e) ?? revertNameFromData(viem, this.abi, e);
    }
    return undefined;
  }

  /** Decode the named event logs of a receipt. */
  async events(logs: Log[], eventName: string): Promise<{ args: Record<string, unknown> }[]> {
    const viem = await this.lib();
    return viem.parseEventLogs({ abi: this.abi, logs, eventName }) as unknown as { args: Record<string, unknown> }[];
  }

  async balanceOf(account: Address): Promise<bigint> {
    return this.read<bigint>("balances", [account]);
  }

  async deposit(role: WalletRole, amount: bigint): Promise<SentTx> {
    return this.send(role, "deposit", [], amount);
  }

  async withdraw(role: WalletRole, amount: bigint): Promise<SentTx> {
    return this.send(role, "withdraw", [amount]);
  }

  async registerModel(role: WalletRole, m: ModuleConstants): Promise<{ modelId: Hex; tx: SentTx }> {
    const tx = await this.send(role, "registerModel", [bytesHex(m.codeRoot), BigInt(m.codeSize), BigInt(m.memoryBytes), bytesHex(m.initialMemoryRoot), BigInt(m.segments), BigInt(m.stepBudget)]);
    const [ev] = await this.events(tx.logs, "ModelRegistered");
    return { modelId: ev.args.modelId as Hex, tx };
  }

  async isRegistered(modelId: Hex): Promise<boolean> {
    const m = await this.read<readonly unknown[]>("models", [modelId]);
    return BigInt(m[2] as bigint) !== 0n; // codeSize
  }

  /** A result claim: the input and output bytes go in calldata; the bond is paid with the call. */
  async submit(role: WalletRole, c: { modelId: Hex; input: Uint8Array; output: Uint8Array; finalMemoryRoot: Hash; finalBoundary: Hash; parent?: number }, value = this.params.bond): Promise<{ claimId: number; tx: SentTx }> {
    const tx = await this.send(role, "submit", [c.modelId, bytesHex(c.input), bytesHex(c.output), bytesHex(c.finalMemoryRoot), bytesHex(c.finalBoundary), BigInt(c.parent ?? 0)], value);
    return { claimId: await this.idFrom(tx, "ClaimSubmitted", "claimId"), tx };
  }

  async submitTrap(role: WalletRole, c: { modelId: Hex; input: Uint8Array; trapped: StateFields; parent?: number }, value = this.params.bond): Promise<{ claimId: number; tx: SentTx }> {
    const tx = await this.send(role, "submitTrap", [c.modelId, bytesHex(c.input), stateWords(c.trapped), BigInt(c.parent ?? 0)], value);
    return { claimId: await this.idFrom(tx, "TrapClaimSubmitted", "claimId"), tx };
  }

  async request(role: WalletRole, modelId: Hex, input: Uint8Array, fee: bigint): Promise<{ requestId: number; tx: SentTx }> {
    const tx = await this.send(role, "request", [modelId, bytesHex(input)], fee);
    return { requestId: await this.idFrom(tx, "Requested", "requestId"), tx };
  }

  async answer(role: WalletRole, requestId: number, c: { output: Uint8Array; finalMemoryRoot: Hash; finalBoundary: Hash }, value = this.params.bond): Promise<{ claimId: number; tx: SentTx }> {
    const tx = await this.send(role, "answer", [BigInt(requestId), bytesHex(c.output), bytesHex(c.finalMemoryRoot), bytesHex(c.finalBoundary)], value);
    return { claimId: await this.idFrom(tx, "ClaimSubmitted", "claimId"), tx };
  }

  async answerTrap(role: WalletRole, requestId: number, trapped: StateFields, value = this.params.bond): Promise<{ claimId: number; tx: SentTx }> {
    const tx = await this.send(role, "answerTrap", [BigInt(requestId), stateWords(trapped)], value);
    return { claimId: await this.idFrom(tx, "TrapClaimSubmitted", "claimId"), tx };
  }

  async resultOf(requestId: number): Promise<{ isFinal: boolean; trapped: boolean; output: Uint8Array }> {
    const [isFinal, trapped, output] = await this.read<[boolean, boolean, Hex]>("resultOf", [BigInt(requestId)]);
    return { isFinal, trapped, output: fromHex(output) };
  }

  async challenge(role: WalletRole, claimId: number, value = this.params.bond): Promise<{ gameId: number; tx: SentTx }> {
    const tx = await this.send(role, "challenge", [BigInt(claimId)], value);
    return { gameId: await this.idFrom(tx, "Challenged", "gameId"), tx };
  }

  async finalize(role: WalletRole, claimId: number): Promise<SentTx> {
    return this.send(role, "finalize", [BigInt(claimId)]);
  }

  async timeout(role: WalletRole, gameId: number): Promise<SentTx> {
    return this.send(role, "timeout", [BigInt(gameId)]);
  }

  /** One move of a game, as the dispute Agent makes it (`posted` are the hashes a choice resends). */
  async move(role: WalletRole, gameId: number, mv: Move, posted?: Hash[]): Promise<SentTx> {
    const id = BigInt(gameId);
    switch (mv.kind) {
      case "bisect": return this.send(role, "bisect", [id, mv.hashes.map(bytesHex)]);
      case "choose": return this.send(role, "choose", [id, BigInt(mv.index), (posted ?? []).map(bytesHex)]);
      case "reveal": return this.send(role, "reveal", [id, boundaryWords(mv.boundary), stateWords(mv.final)]);
      case "trapped": return this.send(role, "trapped", [id, stateWords(mv.state)]);
      case "prove": return this.send(role, "prove", [id, bytesHex(mv.proof)]);
    }
  }

  async claim(claimId: number): Promise<ChainClaim> {
    const c = await this.read<readonly unknown[]>("claims", [BigInt(claimId)]);
    // claims(id): modelId, inputRoot, outputAcc, finalMemoryRoot, finalBoundary, submitter, blockNumber, status, trap, inputChunks, outputChunks, parent, requestId, openGames
    return {
      id: claimId, modelId: c[0] as Hex, finalBoundary: c[4] as Hex, submitter: c[5] as Address, blockNumber: Number(c[6]),
      status: CLAIM_STATUS[Number(c[7])], trap: c[8] as boolean, parent: Number(c[11]), requestId: Number(c[12]), openGames: Number(c[13]),
    };
  }

  /** A claim as dispute/'s `Claim` (a trap claim's state from its event), for `Agent.wantsToChallenge`. */
  async claimRecord(claimId: number): Promise<Claim> {
    const c = await this.read<readonly unknown[]>("claims", [BigInt(claimId)]);
    if (Number(c[7]) === 0) throw new Error(`claim ${claimId} does not exist on the Referee at ${this.address}`);
    const claim: Claim = {
      modelId: fromHex(c[0] as Hex), inputRoot: fromHex(c[1] as Hex), outputAcc: fromHex(c[2] as Hex), finalMemoryRoot: fromHex(c[3] as Hex),
      finalBoundary: fromHex(c[4] as Hex), inputChunks: Number(c[9]), outputChunks: Number(c[10]),
    };
    if (c[8]) {
      const [ev] = await this.logs("TrapClaimSubmitted", this.fromBlock, await this.conn.publicClient.getBlockNumber(), { claimId: BigInt(claimId) });
      if (ev) claim.trapState = stateFromWords(ev.args.trappedState as Hex[]);
    }
    return claim;
  }

  /** Whether the contract's ether equals its escrow plus the balances of `accounts` (all that ever paid in). */
  async conserved(accounts: readonly Address[] = [this.conn.wallet("submitter").account.address, this.conn.wallet("challenger").account.address]): Promise<boolean> {
    const held = await this.conn.publicClient.getBalance({ address: this.address });
    const escrow = await this.read<bigint>("escrow");
    const balances = await Promise.all([...new Set(accounts)].map((a) => this.balanceOf(a)));
    return held === balances.reduce((a, b) => a + b, escrow);
  }

  /**
   * A game as dispute/'s `Game`: the interval, whose turn, the deadline, and, while a choice is
   * due, the posted hashes with the interval's ends (read from the Bisected event of the block the
   * bisect was mined in: the deadline minus moveBlocks).
   */
  async game(gameId: number): Promise<ChainGame> {
    const g = await this.read<readonly unknown[]>("games", [BigInt(gameId)]);
    const [claimId, challenger, phase, challengerTurn, winner, lo, hi, segment, deadline, loHash, hiHash, postedHash] = g as [bigint, Address, number, boolean, number, bigint, bigint, bigint, bigint, Hex, Hex, Hex];
    if (Number(phase) === 0) throw new Error(`game ${gameId} does not exist on the Referee at ${this.address}`);
    const game: ChainGame = {
      id: gameId, claimId: Number(claimId), challenger, phase: PHASES[Number(phase)], turn: challengerTurn ? "challenger" : "submitter",
      lo: Number(lo), hi: Number(hi), loHash: fromHex(loHash), hiHash: fromHex(hiHash), segment: Number(segment), deadline: Number(deadline),
      rounds: 0, outcome: WINNERS[Number(winner)],
    };
    if (game.outcome) {
      game.winner = game.outcome === "cancelled" ? "challenger" : game.outcome;
      game.cancelled = game.outcome === "cancelled";
    }
    const bisects = await this.gameLogs("Bisected", gameId);
    game.rounds = bisects.length;
    if (BigInt(postedHash) !== 0n) {
      const last = bisects[bisects.length - 1];
      const hashes = (last.args.hashes as Hex[]).map((h) => fromHex(h));
      game.posted = [game.loHash, ...hashes, game.hiHash];
    }
    return game;
  }

  /** The logs of one event of one game, oldest first. */
  async gameLogs(eventName: string, gameId: number): Promise<{ args: Record<string, unknown>; blockNumber: bigint }[]> {
    const logs = await this.conn.publicClient.getContractEvents({ address: this.address, abi: this.abi, eventName, args: { gameId: BigInt(gameId) }, fromBlock: this.fromBlock });
    return logs as unknown as { args: Record<string, unknown>; blockNumber: bigint }[];
  }

  /** Every log of `eventName` in [from, to] (both bigint block numbers). */
  async logs(eventName: string, fromBlock: bigint, toBlock: bigint, args?: Record<string, unknown>): Promise<{ args: Record<string, unknown>; blockNumber: bigint; transactionHash: Hex }[]> {
    const logs = await this.conn.publicClient.getContractEvents({ address: this.address, abi: this.abi, eventName, args, fromBlock, toBlock });
    return logs as unknown as { args: Record<string, unknown>; blockNumber: bigint; transactionHash: Hex }[];
  }

  private async idFrom(tx: SentTx, eventName: string, field: string): Promise<number> {
    const [ev] = await this.events(tx.logs, eventName);
    if (!ev) throw new Error(`the ${eventName} event is missing from transaction ${tx.hash}`);
    return Number(ev.args[field] as bigint);
  }
}

/** Custom error name from raw revert data on an error viem did not decode itself. */
function revertNameFromData(viem: typeof import("viem"), abi: Abi, e: unknown): string | undefined {
  for (let cur = e as { cause?: unknown; data?: unknown } | undefined; cur; cur = cur.cause as typeof cur) {
    const data = typeof cur.data === "string" ? cur.data : (cur.data as { data?: unknown } | undefined)?.data;
    if (typeof data === "string" && data.startsWith("0x") && data.length >= 10) {
      try {
        return viem.decodeErrorResult({ abi, data: data as Hex }).errorName;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
