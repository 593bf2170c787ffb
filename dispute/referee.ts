/**
 * The referee: the executable specification of the dispute contract (docs/protocol.md). It holds
 * deposits, registered models, claims with their bonds, and one game per challenge (a claim may
 * be challenged by several parties while its window is open, so a submitter cannot shield a false
 * claim with a challenger of its own that loses on purpose). A game is
 * an explicit state machine: phase 1 bisects the op-boundary hashes 0..S, the submitter reveals
 * the agreed boundary k and the end state of segment k (halted, or trapped for a run that traps),
 * phase 2 bisects the VM steps of segment k, and one step is decided by the VM's one-step
 * verifier. After a trap every boundary is the trapped-run hash: a disputed interval between two
 * of them is settled by opening the trapped state (a trapped run stays trapped). In every bisection round the
 * submitter posts the hashes at the interior split points of the disputed interval (n-ary:
 * `degree - 1` hashes) and the challenger picks the sub-interval whose start it accepts and whose
 * end it disputes. Every call takes the current block number; a party that does not move by its
 * deadline loses when anyone calls `timeout`; block numbers must be integers that never go back
 * (the referee keeps a monotonic clock). A rejected call throws a RefereeError and changes
 * nothing: every argument is checked for shape and every rule checked before anything is written,
 * and what is stored is a copy (dispute/validate.ts). Bonds are conserved: the winner of a game takes the loser's bond (a rejected claim's
 * bond goes to the first challenger to win; games still open on it end and refund their bonds).
 * A claim may be chained to a parent claim of the same model (the per-token claims of a language
 * model): its run starts from the parent's final memory, and it is accepted only after its parent
 * is (rejected, bond refunded, when the parent was rejected). contracts/Referee.sol is this
 * referee on chain, held to it by test/contracts/referee-diff.test.ts.
 * Nothing here needs more than a contract has: 32-byte words, keccak256, small fixed arrays.
 */
import {
  boundaryAfter, boundaryHash, isTrap, segmentStartState, stateHash, Status, toHex, trappedRunHash, verifyProof, type BoundaryFields, type Hash, type StateFields,
} from "../vm/index.js";
import { claimedFinalBoundary, initialBoundary, modelId, sameHash, ZERO, type Claim, type ModelRecord } from "./claim.js";
import { badBoundaryField, badClaimField, badStateField, copyClaim, isCount, isHash } from "./validate.js";

export type Address = string;
export type Role = "submitter" | "challenger";
export type Phase = "ops" | "reveal" | "steps" | "prove" | "over";

export interface RefereeParams {
  /** Sub-intervals per bisection round: 2 (binary) to 16, as the contract allows. */
  degree: number;
  /** Blocks a party has for each move. */
  moveBlocks: number;
  /** Blocks after a claim during which it can be challenged. */
  challengeBlocks: number;
  /** Bond a submitter and a challenger each lock. */
  bond: bigint;
}

export const DEFAULT_PARAMS: RefereeParams = { degree: 4, moveBlocks: 10, challengeBlocks: 20, bond: 1000n };

/** Rejection reasons (a contract would revert with the same strings). */
export type RejectCode =
  | "UNKNOWN_MODEL" | "UNKNOWN_CLAIM" | "BAD_CLAIM" | "INSUFFICIENT_FUNDS" | "CHALLENGE_CLOSED"
  | "NOT_CHALLENGEABLE" | "GAME_OVER" | "NOT_YOUR_TURN" | "WRONG_MOVE" | "DEADLINE_PASSED" | "BAD_FORMAT"
  | "HASH_MISMATCH" | "INVALID_PROOF" | "NOT_TIMED_OUT" | "STILL_OPEN" | "UNKNOWN_GAME" | "BAD_BLOCK";

export class RefereeError extends Error {
  constructor(readonly code: RejectCode, message: string) {
    super(`${code}: ${message}`);
    this.name = "RefereeError";
  }
}

function reject(code: RejectCode, message: string): never {
  throw new RefereeError(code, message);
}

export type Move =
  | { kind: "bisect"; hashes: Hash[] }
  | { kind: "choose"; index: number }
  | { kind: "reveal"; boundary: BoundaryFields; final: StateFields }
  /** In place of a reveal, when both ends of the disputed interval are the trapped-run hash of `state`. */
  | { kind: "trapped"; state: StateFields }
  | { kind: "prove"; proof: Uint8Array };

/** Which role makes which move in each phase (bisection alternates within "ops"/"steps"). */
export interface Game {
  claimId: number;
  challenger: Address;
  phase: Phase;
  turn: Role;
  /** The disputed interval: positions (boundary index in "ops", step in "steps") and hashes. */
  lo: number;
  hi: number;
  loHash: Hash;
  hiHash: Hash;
  /** Hashes at the split points of [lo, hi] after the submitter's bisect move (ends included). */
  posted?: Hash[];
  /** Segment under dispute in phases "steps" and "prove". */
  segment: number;
  deadline: number;
  /** Bisect moves made so far, over both phases. */
  rounds: number;
  winner?: Role;
  reason?: string;
  /** Set when the game ended because the claim was rejected in another game (bond refunded). */
  cancelled?: boolean;
}

export interface ClaimRecord {
  claim: Claim;
  submitter: Address;
  block: number;
  bond: bigint;
  status: "open" | "accepted" | "rejected";
  /** Ids of the games played over this claim. */
  games: number[];
  /** The claim whose final memory this one's run starts from (a chained claim). */
  parent?: number;
}

/**
 * The split points of [lo, hi] into min(degree, hi - lo) sub-intervals (ends included, increasing):
 * `lo + floor(j (hi - lo) / parts)`, computed exactly (the product can pass 2^53 before the division).
 */
export function splitPoints(lo: number, hi: number, degree: number): number[] {
  const parts = Math.min(degree, hi - lo);
  const length = BigInt(hi - lo);
  return Array.from({ length: parts + 1 }, (_, j) => lo + Number((BigInt(j) * length) / BigInt(parts)));
}

/** A copy of a game's record (the referee's own stays out of callers' reach). */
function copyGame(g: Game): Game {
  return { ...g, loHash: g.loHash.slice(), hiHash: g.hiHash.slice(), posted: g.posted?.map((h) => h.slice()) };
}

export class Referee {
  readonly params: RefereeParams;
  private readonly models = new Map<string, ModelRecord>();
  private readonly claims: ClaimRecord[] = [];
  private readonly games: Game[] = [];
  private readonly balances = new Map<Address, bigint>();
  private deposited = 0n;
  /** The latest block of an accepted call: block numbers never go back. */
  private clock = 0;

  constructor(params: Partial<RefereeParams> = {}) {
    this.params = { ...DEFAULT_PARAMS, ...params };
    const { degree, moveBlocks, challengeBlocks, bond } = this.params;
    if (!Number.isInteger(degree) || degree < 2 || degree > 16) throw new Error(`degree must be an integer in 2..16, got ${degree}`);
    if (!(moveBlocks >= 1 && challengeBlocks >= 1 && bond > 0n)) throw new Error("moveBlocks, challengeBlocks and bond must be positive");
  }

  // ---- funds -----------------------------------------------------------------------------

  deposit(who: Address, amount: bigint): void {
    if (typeof amount !== "bigint" || amount <= 0n) reject("BAD_FORMAT", "a deposit must be a positive bigint");
    this.balances.set(who, this.balanceOf(who) + amount);
    this.deposited += amount;
  }

  balanceOf(who: Address): bigint {
    return this.balances.get(who) ?? 0n;
  }

  /** Bonds locked in open claims and games. */
  escrow(): bigint {
    let sum = 0n;
    for (const c of this.claims) if (c.status === "open") sum += c.bond;
    for (const g of this.games) if (g.phase !== "over") sum += this.claims[g.claimId].bond;
    return sum;
  }

  /** Invariant: balances + escrow = deposits (nothing created or lost). */
  conserved(): boolean {
    let sum = this.escrow();
    for (const v of this.balances.values()) sum += v;
    return sum === this.deposited;
  }

  /** Check a caller's block number: an integer, not before the last accepted call's. */
  private checkBlock(block: number): void {
    if (!isCount(block)) reject("BAD_BLOCK", `a block number must be a non-negative integer, got ${block}`);
    if (block < this.clock) reject("BAD_BLOCK", `block ${block} is before block ${this.clock}, where the referee already is`);
  }

  private lock(who: Address, amount: bigint): void {
    const have = this.balanceOf(who);
    if (have < amount) reject("INSUFFICIENT_FUNDS", `${who} has ${have}, the bond is ${amount}`);
    this.balances.set(who, have - amount);
  }

  // ---- models and claims -----------------------------------------------------------------

  registerModel(m: ModelRecord): Hash {
    const shaped = m !== null && typeof m === "object" && isHash(m.codeRoot) && isHash(m.initialMemoryRoot) &&
      [m.codeSize, m.memoryBytes, m.segments, m.stepBudget].every(isCount);
    if (!shaped || m.segments < 1 || m.codeSize < 1 || m.stepBudget < 1 || m.memoryBytes % 32 !== 0) {
      reject("BAD_FORMAT", "a model needs code, whole memory leaves, segments and a step budget");
    }
    m = { ...m, codeRoot: m.codeRoot.slice(), initialMemoryRoot: m.initialMemoryRoot.slice() };
    const id = modelId(m);
    this.models.set(toHex(id), m);
    return id;
  }

  model(id: Hash): ModelRecord {
    return this.models.get(toHex(id)) ?? reject("UNKNOWN_MODEL", `no model ${toHex(id)} is registered`);
  }

  /**
   * Post a claim with the bond; returns its id. A chained claim names its `parent`: an earlier
   * claim of the same model that is not a trap claim and not rejected.
   */
  submit(submitter: Address, claim: Claim, block: number, parent?: number): number {
    this.checkBlock(block);
    const bad = badClaimField(claim) ?? (parent !== undefined && !isCount(parent) ? "parent" : undefined);
    if (bad) reject("BAD_FORMAT", `claim field ${bad} is missing or malformed`);
    const m = this.model(claim.modelId);
    if (parent !== undefined) {
      const p = this.claims[parent] ?? reject("UNKNOWN_CLAIM", `no parent claim ${parent}`);
      if (!sameHash(p.claim.modelId, claim.modelId) || p.claim.trapState || p.status === "rejected") {
        reject("BAD_CLAIM", `claim ${parent} cannot be a parent: another model, a trap claim or rejected`);
      }
    }
    const s = claim.trapState;
    if (s) {
      if (!isTrap(s.status) || !(s.segment < m.segments)) reject("BAD_CLAIM", "a trap claim needs a trapped state in one of the model's segments");
      if (!sameHash(s.codeRoot, m.codeRoot) || s.codeSize !== m.codeSize || s.memoryBytes !== m.memoryBytes || s.stepBudget !== m.stepBudget ||
        !sameHash(s.inputRoot, claim.inputRoot) || s.inputChunks !== claim.inputChunks) {
        reject("BAD_CLAIM", "the trapped state is not of this model and input");
      }
      // A run that traps has no result: nothing may be claimed as its output.
      if (!sameHash(claim.outputAcc, ZERO) || claim.outputChunks !== 0 || !sameHash(claim.finalMemoryRoot, ZERO)) {
        reject("BAD_CLAIM", "a trap claim's output accumulator, output chunks and final memory root must be zero");
      }
      if (!sameHash(trappedRunHash(s), claim.finalBoundary)) reject("BAD_CLAIM", "the final boundary is not the trapped-run hash of the trapped state");
    } else if (!sameHash(boundaryHash(claimedFinalBoundary(m, claim)), claim.finalBoundary)) {
      reject("BAD_CLAIM", "the final boundary hash does not match the claimed output and final memory root");
    }
    this.lock(submitter, this.params.bond);
    this.clock = block;
    this.claims.push({ claim: copyClaim(claim), submitter, block, bond: this.params.bond, status: "open", games: [], parent });
    return this.claims.length - 1;
  }

  claim(id: number): Readonly<ClaimRecord> {
    const c = this.claims[id] ?? reject("UNKNOWN_CLAIM", `no claim ${id}`);
    return { ...c, claim: copyClaim(c.claim), games: [...c.games] };
  }

  /** Challenge an open claim within its window, locking an equal bond: starts a game, returns its id. */
  challenge(id: number, challenger: Address, block: number): number {
    this.checkBlock(block);
    const c = this.claims[id] ?? reject("UNKNOWN_CLAIM", `no claim ${id}`);
    if (c.status !== "open") reject("NOT_CHALLENGEABLE", `claim ${id} is ${c.status}`);
    if (block > c.block + this.params.challengeBlocks) reject("CHALLENGE_CLOSED", `the window closed at block ${c.block + this.params.challengeBlocks}`);
    if (challenger === c.submitter) reject("BAD_FORMAT", "a submitter cannot challenge its own claim");
    this.lock(challenger, c.bond);
    const m = this.model(c.claim.modelId);
    const startMemory = c.parent === undefined ? m.initialMemoryRoot : this.claims[c.parent].claim.finalMemoryRoot;
    const first = initialBoundary(m, c.claim.inputRoot, c.claim.inputChunks, startMemory);
    const g: Game = {
      claimId: id, challenger, phase: m.segments === 1 ? "reveal" : "ops", turn: "submitter", lo: 0, hi: m.segments, loHash: boundaryHash(first), hiHash: c.claim.finalBoundary,
      segment: 0, deadline: block + this.params.moveBlocks, rounds: 0,
    };
    this.clock = block;
    this.games.push(g);
    c.games.push(this.games.length - 1);
    return this.games.length - 1;
  }

  /**
   * Accept a claim after its window once every game over it is won by the submitter: the bond
   * returns. A chained claim waits for its parent (STILL_OPEN) and is rejected, its bond refunded,
   * when the parent was rejected: its run was defined relative to a wrong state.
   */
  finalize(id: number, block: number): void {
    this.checkBlock(block);
    const c = this.claims[id] ?? reject("UNKNOWN_CLAIM", `no claim ${id}`);
    if (c.status !== "open") reject("NOT_CHALLENGEABLE", `claim ${id} is ${c.status}`);
    if (block <= c.block + this.params.challengeBlocks) reject("STILL_OPEN", `claim ${id} can be challenged until block ${c.block + this.params.challengeBlocks}`);
    if (c.games.some((g) => this.games[g].phase !== "over")) reject("STILL_OPEN", `claim ${id} still has games in progress`);
    const parentStatus = c.parent === undefined ? "accepted" : this.claims[c.parent].status;
    if (parentStatus === "open") reject("STILL_OPEN", `claim ${id} waits for its parent claim ${c.parent}`);
    this.clock = block;
    c.status = parentStatus === "rejected" ? "rejected" : "accepted";
    this.balances.set(c.submitter, this.balanceOf(c.submitter) + c.bond);
  }

  game(id: number): Readonly<Game> {
    return copyGame(this.games[id] ?? reject("UNKNOWN_GAME", `no game ${id}`));
  }

  /** The address that plays `role` in game id. */
  player(id: number, role: Role): Address {
    const g = this.game(id);
    return role === "submitter" ? this.claims[g.claimId].submitter : g.challenger;
  }

  // ---- moves -----------------------------------------------------------------------------

  move(id: number, sender: Address, mv: Move, block: number): void {
    this.checkBlock(block);
    const g = this.games[id] ?? reject("UNKNOWN_GAME", `no game ${id}`);
    const c = this.claims[g.claimId];
    if (g.phase === "over") reject("GAME_OVER", `game ${id} is over`);
    const expected = g.turn === "submitter" ? c.submitter : g.challenger;
    if (sender !== expected) reject("NOT_YOUR_TURN", `it is the ${g.turn}'s turn (${expected})`);
    if (block > g.deadline) reject("DEADLINE_PASSED", `the ${g.turn}'s deadline was block ${g.deadline}`);
    const wanted = this.expectedMove(g);
    if (mv === null || typeof mv !== "object") reject("BAD_FORMAT", "a move must be an object");
    if (mv.kind !== wanted && !(wanted === "reveal" && mv.kind === "trapped")) reject("WRONG_MOVE", `phase ${g.phase} expects a ${wanted} move from the ${g.turn}, got ${mv.kind}`);
    if (mv.kind === "bisect") this.bisect(g, mv.hashes);
    else if (mv.kind === "choose") this.choose(g, mv.index);
    else if (mv.kind === "reveal") this.reveal(g, mv.boundary, mv.final);
    else if (mv.kind === "trapped") this.stillTrapped(c, g, mv.state);
    else this.prove(c, g, mv.proof);
    g.deadline = block + this.params.moveBlocks;
    this.clock = block;
  }

  /** The move the party to play must make. */
  expectedMove(g: Game): Move["kind"] {
    if (g.phase === "reveal") return "reveal";
    if (g.phase === "prove") return "prove";
    return g.posted ? "choose" : "bisect";
  }

  private bisect(g: Game, hashes: Hash[]): void {
    const points = splitPoints(g.lo, g.hi, this.params.degree);
    if (!Array.isArray(hashes) || hashes.length !== points.length - 2) reject("BAD_FORMAT", `expected ${points.length - 2} hashes for points ${points.slice(1, -1).join(", ")}, got ${hashes?.length}`);
    if (!hashes.every(isHash)) reject("BAD_FORMAT", "every hash must be 32 bytes");
    g.posted = [g.loHash, ...hashes.map((h) => h.slice()), g.hiHash];
    g.rounds += 1;
    g.turn = "challenger";
  }

  private choose(g: Game, index: number): void {
    const points = splitPoints(g.lo, g.hi, this.params.degree);
    if (!Number.isInteger(index) || index < 0 || index >= points.length - 1) reject("BAD_FORMAT", `index must be in 0..${points.length - 2}, got ${index}`);
    const posted = g.posted!;
    g.lo = points[index];
    g.hi = points[index + 1];
    g.loHash = posted[index];
    g.hiHash = posted[index + 1];
    g.posted = undefined;
    g.turn = "submitter";
    if (g.hi - g.lo === 1) g.phase = g.phase === "ops" ? "reveal" : "prove";
  }

  /**
   * Phase 1 -> 2: open agreed boundary k and the state claimed to end segment k: halted, connecting
   * to boundary k + 1, or trapped, whose trapped-run hash is boundary k + 1.
   */
  private reveal(g: Game, b: BoundaryFields, final: StateFields): void {
    const k = g.lo;
    const bad = badBoundaryField(b) ?? (badStateField(final) && `final.${badStateField(final)}`);
    if (bad) reject("BAD_FORMAT", `the revealed field ${bad} is missing or malformed`);
    if (b.segment !== k || final.segment !== k) reject("BAD_FORMAT", `the boundary and the final state must be of segment ${k}`);
    if (!sameHash(boundaryHash(b), g.loHash)) reject("HASH_MISMATCH", `the boundary fields do not hash to agreed boundary ${k}`);
    if (final.status !== Status.HALTED && !isTrap(final.status)) reject("BAD_FORMAT", `segment ${k}'s final state must be halted or trapped, got status ${final.status}`);
    if (final.step < 1) reject("BAD_FORMAT", `a segment ends after at least 1 step, got ${final.step}`);
    const next = final.status === Status.HALTED ? boundaryHash(boundaryAfter(final)) : trappedRunHash(final);
    if (!sameHash(next, g.hiHash)) reject("HASH_MISMATCH", `the final state does not connect to claimed boundary ${k + 1}`);
    const loHash = stateHash(segmentStartState(b));
    const hiHash = stateHash(final);
    // Every check passed: only now does the game change.
    g.segment = k;
    g.lo = 0;
    g.hi = final.step;
    g.loHash = loHash;
    g.hiHash = hiHash;
    g.phase = g.hi === 1 ? "prove" : "steps";
  }

  /**
   * In place of a reveal: both ends of the disputed interval are the trapped-run hash of `state`,
   * so the challenger disputes the one thing that cannot change, a trapped run staying trapped.
   */
  private stillTrapped(c: ClaimRecord, g: Game, state: StateFields): void {
    if (badStateField(state)) reject("BAD_FORMAT", `the state's field ${badStateField(state)} is missing or malformed`);
    if (!isTrap(state.status)) reject("BAD_FORMAT", `the state must be trapped, got status ${state.status}`);
    const h = trappedRunHash(state);
    if (!sameHash(h, g.loHash) || !sameHash(h, g.hiHash)) reject("HASH_MISMATCH", `boundaries ${g.lo} and ${g.hi} are not both the trapped-run hash of this state`);
    this.settle(c, g, "submitter", `boundaries ${g.lo} and ${g.hi} both hold the run's trapped state: a trapped run stays trapped`);
  }

  /** The one-step proof from the agreed state decides: its post-state must be the claimed one. */
  private prove(c: ClaimRecord, g: Game, proof: Uint8Array): void {
    if (!(proof instanceof Uint8Array)) reject("BAD_FORMAT", "a proof must be bytes");
    let post: Hash;
    try {
      post = verifyProof(g.loHash, proof);
    } catch (err) {
      reject("INVALID_PROOF", (err as Error).message);
    }
    if (sameHash(post, g.hiHash)) this.settle(c, g, "submitter", `the proof of step ${g.lo} of segment ${g.segment} reaches the claimed state`);
    else this.settle(c, g, "challenger", `the proof of step ${g.lo} of segment ${g.segment} reaches ${toHex(post).slice(0, 18)}..., not the claimed state`);
  }

  /** After a missed deadline anyone may call this: the party to move loses. */
  timeout(id: number, block: number): void {
    this.checkBlock(block);
    const g = this.games[id] ?? reject("UNKNOWN_GAME", `no game ${id}`);
    const c = this.claims[g.claimId];
    if (g.phase === "over") reject("GAME_OVER", `game ${id} is over`);
    if (block <= g.deadline) reject("NOT_TIMED_OUT", `the ${g.turn} may move until block ${g.deadline}`);
    this.clock = block;
    this.settle(c, g, g.turn === "submitter" ? "challenger" : "submitter", `the ${g.turn} did not move by block ${g.deadline}`);
  }

  /**
   * End a game. A challenger who loses forfeits its bond to the submitter (the claim stays open for
   * its other games). A submitter who loses has its claim rejected: its bond and the challenger's
   * go to the challenger, and the games still open over the claim end with their bonds refunded.
   */
  private settle(c: ClaimRecord, g: Game, winner: Role, reason: string): void {
    g.phase = "over";
    g.winner = winner;
    g.reason = reason;
    const pay = (to: Address, amount: bigint): void => void this.balances.set(to, this.balanceOf(to) + amount);
    if (winner === "submitter") {
      pay(c.submitter, c.bond);
      return;
    }
    c.status = "rejected";
    pay(g.challenger, 2n * c.bond);
    for (const other of c.games.map((i) => this.games[i])) {
      if (other.phase === "over") continue;
      other.phase = "over";
      other.cancelled = true;
      other.reason = `the claim was rejected in another game`;
      pay(other.challenger, c.bond);
    }
  }
}
