/**
 * A whole dispute played in-process: a referee, two funded parties, a block clock that advances
 * one block per move, the submitter's claim, the challenge, and the game played to the end (a
 * party that does not move, or whose move the referee rejects, loses once its deadline passes).
 * `parseCheat` turns the CLI's cheat names into a dishonest party (a lying view and/or a
 * strategy); `runDispute` returns the transcript: every move with its size in bytes, the disputed
 * segment and step, the deciding proof, the winner and the bond transfers.
 */
import { BOUNDARY_FIELDS, STATE_FIELDS, type Hash } from "../vm/index.js";
import { Agent, type Strategy } from "./agent.js";
import { modelRecordOf, type Claim } from "./claim.js";
import { Referee, RefereeError, type Address, type Move, type RefereeParams, type Role } from "./referee.js";
import { HonestView, LyingView, type View } from "./view.js";

export type Cheat =
  | { kind: "output" }
  | { kind: "op"; op: number }
  | { kind: "step"; step: number }
  | { kind: "round"; round: number }
  | { kind: "random"; seed: number }
  | { kind: "stall"; move: number };

/** "output" | "op:K" | "step:N" (over the whole run) | "round:R" | "random[:SEED]" | "stall[:M]". */
export function parseCheat(text: string): Cheat {
  const [name, arg, extra] = text.split(":");
  const n = arg === undefined ? undefined : Number(arg);
  if (extra !== undefined || (arg !== undefined && !(Number.isInteger(n) && n! >= 0))) throw new Error(`bad cheat '${text}': the argument must be one non-negative integer`);
  const need = (what: string): number => n ?? (() => { throw new Error(`cheat '${name}' needs ${what}, e.g. ${name}:1`); })();
  switch (name) {
    case "output": return { kind: "output" };
    case "op": return { kind: "op", op: need("an op (segment) index") };
    case "step": return { kind: "step", step: need("a step number") };
    case "round": return { kind: "round", round: Math.max(1, need("a round number")) };
    case "random": return { kind: "random", seed: n ?? 1 };
    case "stall": return { kind: "stall", move: Math.max(1, n ?? 1) };
    default: throw new Error(`unknown cheat '${text}' (output, op:K, step:N, round:R, random[:SEED], stall[:M])`);
  }
}

/** A seeded [0, 1) source (xorshift32). */
export function seeded(seed: number): () => number {
  let s = (seed >>> 0) || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** The view and strategy of a cheating party. */
export function cheater(truth: HonestView, cheat: Cheat): { view: View; strategy: Strategy } {
  const S = truth.segments;
  // In a run that traps, lies about later segments become lies about the trapping one (denying the trap).
  const last = truth.lastSegment;
  const outputLie = (): View => new LyingView(truth, last, truth.steps(last), "output");
  switch (cheat.kind) {
    case "output": return { view: outputLie(), strategy: {} };
    case "op": {
      if (cheat.op >= S) throw new Error(`op ${cheat.op} does not exist: the module has segments 0..${S - 1}`);
      // One value of op K altered halfway through the op: every state from there on differs.
      const op = Math.min(cheat.op, last);
      return { view: new LyingView(truth, op, Math.ceil(truth.steps(op) / 2)), strategy: {} };
    }
    case "step": {
      const at = truth.session.locate(cheat.step);
      return { view: new LyingView(truth, at.segment, at.step), strategy: {} };
    }
    case "round": return { view: outputLie(), strategy: { lieAtRound: cheat.round } };
    case "random": return { view: outputLie(), strategy: { random: seeded(cheat.seed) } };
    case "stall": return { view: outputLie(), strategy: { stallAtMove: cheat.move } };
  }
}

export interface MoveRecord {
  block: number;
  role: Role;
  kind: Move["kind"] | "timeout";
  /** Calldata of the move: 32 bytes per word. */
  bytes: number;
  /** Phase and interval the move acted on. */
  phase: string;
  lo: number;
  hi: number;
  rejected?: string;
}

export interface DisputeResult {
  challenged: boolean;
  winner: Role;
  reason: string;
  rounds: number;
  moves: MoveRecord[];
  moveBytes: number;
  /** Disputed op (segment) and step, when the game got that far. */
  segment?: number;
  step?: number;
  proof?: { bytes: number; preStateHash: Hash };
  balances: Record<Role, { before: bigint; after: bigint }>;
  conserved: boolean;
  blocks: number;
}

export interface DisputeOptions {
  cheat?: Cheat;
  /** Which side cheats (default: the submitter); the other one plays honestly. */
  cheatSide?: Role;
  params?: Partial<RefereeParams>;
  /** Called after every move (for progress displays). */
  onMove?: (m: MoveRecord) => void;
}

function moveBytes(m: Move): number {
  switch (m.kind) {
    case "bisect": return 32 * m.hashes.length;
    case "choose": return 32;
    case "reveal": return 32 * (BOUNDARY_FIELDS.length + STATE_FIELDS.length);
    case "trapped": return 32 * STATE_FIELDS.length;
    case "prove": return m.proof.length;
  }
}

const ADDRESS: Record<Role, Address> = { submitter: "0x5b", challenger: "0xc4" };

/** Play one dispute over the run `truth` describes; the honest side plays from `truth`. */
export function runDispute(truth: HonestView, opts: DisputeOptions = {}): DisputeResult {
  const cheatSide = opts.cheatSide ?? "submitter";
  const bad = opts.cheat ? cheater(truth, opts.cheat) : undefined;
  const agents: Record<Role, Agent> = {
    submitter: new Agent("submitter", bad && cheatSide === "submitter" ? bad.view : truth, bad && cheatSide === "submitter" ? bad.strategy : {}),
    challenger: new Agent("challenger", bad && cheatSide === "challenger" ? bad.view : truth, bad && cheatSide === "challenger" ? bad.strategy : {}),
  };
  const referee = new Referee(opts.params);
  const funds = referee.params.bond * 10n;
  for (const r of ["submitter", "challenger"] as const) referee.deposit(ADDRESS[r], funds);
  const model = modelRecordOf(truth.session);
  referee.registerModel(model);
  let block = 1;
  const claim: Claim = agents.submitter.claim(model);
  const id = referee.submit(ADDRESS.submitter, claim, block);
  const moves: MoveRecord[] = [];
  let gameId = -1;
  const before = { submitter: funds, challenger: funds };
  const result = (challenged: boolean, winner: Role, reason: string): DisputeResult => ({
    challenged, winner, reason, rounds: challenged ? referee.game(gameId).rounds : 0, moves, moveBytes: moves.reduce((a, m) => a + m.bytes, 0),
    balances: {
      submitter: { before: before.submitter, after: referee.balanceOf(ADDRESS.submitter) },
      challenger: { before: before.challenger, after: referee.balanceOf(ADDRESS.challenger) },
    },
    conserved: referee.conserved(), blocks: block,
  });

  block += 1;
  if (!agents.challenger.wantsToChallenge(claim, model)) {
    block += referee.params.challengeBlocks;
    referee.finalize(id, block);
    return result(false, "submitter", "no challenge: the claim was accepted when its window closed");
  }
  gameId = referee.challenge(id, ADDRESS.challenger, block);
  const disputed: { segment?: number; step?: number; proof?: DisputeResult["proof"] } = {};
  for (;;) {
    const g = referee.game(gameId);
    if (g.phase === "over") break;
    const role = g.turn;
    const kind = referee.expectedMove(g);
    const record: MoveRecord = { block, role, kind, bytes: 0, phase: g.phase, lo: g.lo, hi: g.hi };
    const mv = agents[role].act(g, kind, referee.params.degree);
    let moved = false;
    if (mv) {
      record.kind = mv.kind;
      record.bytes = moveBytes(mv);
      try {
        if (mv.kind === "prove") disputed.proof = { bytes: mv.proof.length, preStateHash: g.loHash };
        referee.move(gameId, ADDRESS[role], mv, block);
        moved = true;
      } catch (err) {
        if (!(err instanceof RefereeError)) throw err;
        record.rejected = err.message;
      }
    }
    if (moved) {
      block += 1;
    } else {
      // A party that cannot or will not move: the clock runs past its deadline and anyone times it out.
      record.kind = mv ? record.kind : "timeout";
      block = g.deadline + 1;
      referee.timeout(gameId, block);
    }
    moves.push(record);
    opts.onMove?.(record);
    const now = referee.game(gameId);
    if (now.phase === "reveal") disputed.segment = now.lo;
    if (now.phase === "steps" || now.phase === "prove") disputed.segment = now.segment;
    if (now.phase === "prove") disputed.step = now.lo;
  }
  const g = referee.game(gameId);
  // A claim that survived its game is accepted once its challenge window closes.
  if (g.winner === "submitter") referee.finalize(id, Math.max(block, referee.claim(id).block + referee.params.challengeBlocks + 1));
  return { ...result(true, g.winner!, g.reason!), ...disputed };
}
