/**
 * A whole dispute through transactions, both parties in this process: what `detml dispute
 * --chain` and the demo run. The submitter registers the model and posts its claim (input and
 * output bytes in calldata, the bond with the call); the challenger compares it with its own
 * claim for the same input and challenges when any field differs; the game is played with
 * `playGame`; a claim that survives is finalized once its window has passed (mined past on a dev
 * chain). The result has every transaction's hash and gas, both parties' balances before and
 * after, and whether the contract's funds are conserved (sum of balances + escrow = its ether).
 *
 * A claim on chain carries output bytes, not an output hash: `chainClaim` turns a view's claim
 * into the bytes a party posts. A liar about the output posts the true output with one byte
 * flipped (the output `LyingView` commits to); a liar about memory posts the true output with its
 * altered final memory root.
 */
import type { Address, Hex } from "viem";
import {
  Agent, cheater, modelRecordOf, type Cheat, type HonestView, type ModelRecord, type Role, type View,
} from "../dispute/index.js";
import { absorbOutput, boundaryHash, type Hash, type StateFields } from "../vm/index.js";
import { playGame, type ChainMove } from "./onchain-game.js";
import { DEV_REFEREE_PARAMS, RefereeClient, type ChainRefereeParams, type SentTx } from "./referee-client.js";
import type { ChainConnection } from "./connect.js";

const ZERO = new Uint8Array(32);

/** What a party posts for its claim: output bytes and final memory root, or the trapped state. */
export type ChainClaimData =
  | { kind: "result"; output: Uint8Array; finalMemoryRoot: Hash; finalBoundary: Hash }
  | { kind: "trap"; trapped: StateFields };

/** The claim a view makes about a run, as transaction data (see the overview for liars). */
export function chainClaim(view: View, truth: HonestView): ChainClaimData {
  const trapped = view.trappedAt(view.segments);
  if (trapped) return { kind: "trap", trapped };
  const b = view.boundary(view.segments);
  const real = truth.session.run.output;
  const flipped = real.slice();
  if (flipped.length > 0) flipped[0] ^= 1;
  const output = [real, flipped].find((o) => absorbOutput(ZERO, o).every((x, i) => x === b.outputAcc[i])) ?? real;
  const fields = { ...b, outputAcc: absorbOutput(ZERO, output), outputChunks: output.length / 32 };
  return { kind: "result", output, finalMemoryRoot: b.memoryRoot, finalBoundary: boundaryHash(fields) };
}

export interface ChainTx {
  what: string;
  role: Role;
  txHash: Hex;
  gasUsed: bigint;
  calldataBytes: number;
  rejected?: string;
}

export interface ChainDisputeResult {
  referee: Address;
  modelId: Hex;
  claimId: number;
  gameId?: number;
  challenged: boolean;
  winner: Role;
  /** "cancelled" never happens with one game; kept for parity with watchers. */
  outcome: string;
  moves: ChainMove[];
  transactions: ChainTx[];
  rounds: number;
  balances: Record<Role, { before: bigint; after: bigint }>;
  conserved: boolean;
  blocks: number;
  wallMs: number;
}

export interface ChainDisputeOptions {
  cheat?: Cheat;
  cheatSide?: Role;
  /** Referee parameters when a new one is deployed (default: the dev-chain defaults). */
  params?: ChainRefereeParams;
  /** Use this Referee instead of deploying one. */
  client?: RefereeClient;
  onMove?: (m: ChainMove) => void;
  onTx?: (t: ChainTx) => void;
}

function txOf(what: string, role: Role, tx: SentTx): ChainTx {
  return { what, role, txHash: tx.hash, gasUsed: tx.gasUsed, calldataBytes: tx.calldataBytes };
}

/** Play one dispute over the run `truth` describes, through transactions on `conn`. */
export async function disputeOnChain(conn: ChainConnection, truth: HonestView, input: Uint8Array, opts: ChainDisputeOptions = {}): Promise<ChainDisputeResult> {
  const started = Date.now();
  const client = opts.client ?? (await RefereeClient.deploy(conn, opts.params ?? DEV_REFEREE_PARAMS)).client;
  const firstBlock = await conn.publicClient.getBlockNumber();
  const cheatSide = opts.cheatSide ?? "submitter";
  const bad = opts.cheat ? cheater(truth, opts.cheat) : undefined;
  const agents: Record<Role, Agent> = {
    submitter: new Agent("submitter", bad && cheatSide === "submitter" ? bad.view : truth, bad && cheatSide === "submitter" ? bad.strategy : {}),
    challenger: new Agent("challenger", bad && cheatSide === "challenger" ? bad.view : truth, bad && cheatSide === "challenger" ? bad.strategy : {}),
  };
  const transactions: ChainTx[] = [];
  const note = (t: ChainTx) => {
    transactions.push(t);
    opts.onTx?.(t);
  };
  const address = { submitter: conn.wallet("submitter").account.address, challenger: conn.wallet("challenger").account.address };
  const before = { submitter: await client.balanceOf(address.submitter), challenger: await client.balanceOf(address.challenger) };

  const model: ModelRecord = modelRecordOf(truth.session);
  const registered = await client.registerModel("submitter", model);
  note(txOf("registerModel", "submitter", registered.tx));
  const modelId = registered.modelId;
  const posted = chainClaim(agents.submitter.view, truth);
  const submitted = posted.kind === "result"
    ? await client.submit("submitter", { modelId, input, ...posted })
    : await client.submitTrap("submitter", { modelId, input, trapped: posted.trapped });
  note(txOf(posted.kind === "result" ? "submit" : "submitTrap", "submitter", submitted.tx));
  const claimId = submitted.claimId;
  // Payments with a call are deposits then bonds: count them in the "before" balances.
  before.submitter += client.params.bond;

  const onChain = await client.claimRecord(claimId);
  let gameId: number | undefined;
  let winner: Role = "submitter";
  let outcome = "accepted unchallenged";
  let rounds = 0;
  let moves: ChainMove[] = [];
  if (agents.challenger.wantsToChallenge(onChain, model)) {
    const challenged = await client.challenge("challenger", claimId);
    note(txOf("challenge", "challenger", challenged.tx));
    before.challenger += client.params.bond;
    gameId = challenged.gameId;
    const played = await playGame(client, gameId, agents, {
      onMove: (m) => {
        if (m.txHash) note({ what: m.kind, role: m.role, txHash: m.txHash, gasUsed: m.gasUsed!, calldataBytes: m.calldataBytes!, rejected: m.rejected });
        opts.onMove?.(m);
      },
    });
    moves = played.moves;
    rounds = played.game.rounds;
    winner = played.game.winner!;
    outcome = `${played.game.outcome} won game ${gameId}`;
  }
  const claim = await client.claim(claimId);
  if (claim.status === "open") {
    const head = await conn.publicClient.getBlockNumber();
    const closes = BigInt(claim.blockNumber + client.params.challengeBlocks);
    if (head <= closes) await conn.mine(Number(closes - head + 1n));
    note(txOf("finalize", "submitter", await client.finalize("submitter", claimId)));
  }
  const after = { submitter: await client.balanceOf(address.submitter), challenger: await client.balanceOf(address.challenger) };
  const lastBlock = await conn.publicClient.getBlockNumber();
  return {
    referee: client.address, modelId, claimId, gameId, challenged: gameId !== undefined, winner, outcome, moves, transactions, rounds,
    balances: { submitter: { before: before.submitter, after: after.submitter }, challenger: { before: before.challenger, after: after.challenger } },
    conserved: await client.conserved(), blocks: Number(lastBlock - firstBlock), wallMs: Date.now() - started,
  };
}
