/**
 * Chained claims (docs/protocol.md sections 1 and 9, docs/vm-state.md section 5): a sequence of
 * runs of one module where each run starts from the previous run's final memory, as a language
 * model generates token by token. `ClaimChain` runs them in the VM and makes one claim per run;
 * claim t names claim t - 1 as its parent, so boundary 0 of run t holds run t - 1's final memory
 * root and any run can be disputed on its own. The honest view of run t is a Session started from
 * that memory (vm/session.ts `initialMemory`); memories before a run are recomputed by replaying
 * the earlier runs in the VM rather than kept (one memory image per token would not fit for a
 * large model). `disputeChainedRun` plays one game over run t in-process: the earlier claims are
 * posted honestly as its ancestors, then run t's claim (honest or lying) is challenged. A module
 * compiled with state tensors (docs/abi.md "State": a language model's key/value cache) keeps its
 * state in that memory, so a run's input bytes are only what is new (the token and its position)
 * and the state is covered by the parent's final memory root, never by calldata.
 */
import {
  absorbOutput, decodeModule, initialMemory, inputTree, Machine, memoryTree, type MerkleTree, moduleConstants, Session, Status, statusText,
  type DecodedModule, type DecodeOptions, type SessionOptions,
} from "../vm/index.js";
import { Agent } from "./agent.js";
import { claimFromBoundary, ZERO, type Claim, type ModelRecord } from "./claim.js";
import { cheater, type Cheat } from "./game.js";
import { Referee, RefereeError, type Address, type RefereeParams, type Role } from "./referee.js";
import { HonestView, type View } from "./view.js";

export interface ChainedRun {
  input: Uint8Array;
  output: Uint8Array;
  claim: Claim;
  /** Index of the parent run (undefined for the first). */
  parent?: number;
  steps: number;
}

export class ClaimChain {
  readonly mod: DecodedModule;
  readonly model: ModelRecord;
  readonly runs: ChainedRun[] = [];
  /** Final memory of the last run (the next run starts from it). */
  private memory: Uint8Array | undefined;
  /** The memory tree, kept in step with `memory`: each run rehashes only the leaves it changed. */
  private readonly tree: MerkleTree;

  constructor(readonly bytes: Uint8Array, readonly decodeOptions: DecodeOptions = {}) {
    this.mod = decodeModule(bytes, decodeOptions);
    this.model = moduleConstants(this.mod);
    // The weights image's subtree is taken as known (vm/decode.ts memoryTree): hashing its leaves
    // again took 20 s of a GPT-2 small dispute.
    this.tree = memoryTree(this.mod, initialMemory(this.mod));
  }

  /**
   * Run the module on `input` from the last run's final memory (the JIT, no boundaries on the
   * way: a claim needs only boundary S); returns the run with its claim.
   */
  append(input: Uint8Array): ChainedRun {
    const machine = new Machine(this.mod, input, this.memory);
    const result = machine.runAll();
    if (result.status !== Status.HALTED) throw new Error(`run ${this.runs.length} of the chain traps in segment ${result.segmentSteps.length - 1}: ${statusText(result.status)}`);
    this.tree.sync(machine.memory);
    const output = machine.outputBytes();
    const m = this.model;
    const final = {
      codeRoot: m.codeRoot, codeSize: m.codeSize, memoryRoot: this.tree.root(), memoryBytes: m.memoryBytes, stepBudget: m.stepBudget,
      inputRoot: inputTree(machine.input).root(), inputChunks: machine.inputChunks,
      outputAcc: absorbOutput(ZERO, output), outputChunks: machine.outputChunks, segment: m.segments,
    };
    const run: ChainedRun = {
      input: input.slice(), output, claim: claimFromBoundary(m, final),
      parent: this.runs.length === 0 ? undefined : this.runs.length - 1, steps: result.totalSteps,
    };
    this.memory = machine.memory;
    this.runs.push(run);
    return run;
  }

  /** The memory run t starts from: the initial memory for t = 0, else replayed in the VM. */
  memoryBefore(t: number): Uint8Array | undefined {
    if (!(Number.isInteger(t) && t >= 0 && t < this.runs.length)) throw new Error(`run ${t} does not exist (the chain has runs 0..${this.runs.length - 1})`);
    let memory: Uint8Array | undefined;
    for (let i = 0; i < t; i++) {
      const m = new Machine(this.mod, this.runs[i].input, memory);
      const r = m.runAll();
      if (r.status !== Status.HALTED) throw new Error(`replaying run ${i}: ${statusText(r.status)}`);
      memory = m.memory;
    }
    return memory;
  }

  /** The honest view of run t: a Session from the memory run t - 1 ended with. */
  view(t: number, opts: SessionOptions = {}): HonestView {
    return new HonestView(new Session(this.bytes, this.runs[t].input, { ...this.decodeOptions, ...opts, initialMemory: this.memoryBefore(t) }));
  }
}

export interface ChainedDisputeResult {
  winner: Role;
  reason: string;
  rounds: number;
  moves: number;
  /** Claim ids of the chain's runs 0..t in the referee. */
  claimIds: number[];
  segment?: number;
  step?: number;
  conserved: boolean;
}

const ADDRESS: Record<Role, Address> = { submitter: "0x5b", challenger: "0xc4" };

/**
 * Play a game over run t of the chain: runs 0..t-1 are posted as honest chained claims, run t's
 * claim names run t - 1's as its parent and is challenged. With `cheat`, the `cheatSide` party
 * (default the submitter) plays from a lying view; the other side plays from the truth. `params`:
 * the referee's (the bisection degree; default DEFAULT_PARAMS).
 */
export function disputeChainedRun(chain: ClaimChain, t: number, opts: { cheat?: Cheat; cheatSide?: Role; sessionOptions?: SessionOptions; params?: Partial<RefereeParams> } = {}): ChainedDisputeResult {
  const truth = chain.view(t, opts.sessionOptions);
  const cheatSide = opts.cheatSide ?? "submitter";
  const bad = opts.cheat ? cheater(truth, opts.cheat) : undefined;
  const viewOf = (r: Role): View => (bad && cheatSide === r ? bad.view : truth);
  const agents: Record<Role, Agent> = {
    submitter: new Agent("submitter", viewOf("submitter"), bad && cheatSide === "submitter" ? bad.strategy : {}),
    challenger: new Agent("challenger", viewOf("challenger"), bad && cheatSide === "challenger" ? bad.strategy : {}),
  };
  const referee = new Referee(opts.params);
  for (const r of ["submitter", "challenger"] as const) referee.deposit(ADDRESS[r], referee.params.bond * BigInt(t + 10));
  referee.registerModel(chain.model);
  let block = 1;
  const claimIds: number[] = [];
  for (let i = 0; i < t; i++) claimIds.push(referee.submit(ADDRESS.submitter, chain.runs[i].claim, block, claimIds[i - 1]));
  const claim = agents.submitter.claim(chain.model);
  claimIds.push(referee.submit(ADDRESS.submitter, claim, block, claimIds[t - 1]));
  block++;
  const gameId = referee.challenge(claimIds[t], ADDRESS.challenger, block);
  let moves = 0;
  const where: { segment?: number; step?: number } = {};
  for (let g = referee.game(gameId); g.phase !== "over"; g = referee.game(gameId)) {
    const mv = agents[g.turn].act(g, referee.expectedMove(g), referee.params.degree);
    let moved = false;
    if (mv) {
      try {
        referee.move(gameId, ADDRESS[g.turn], mv, block);
        moved = true;
      } catch (err) {
        if (!(err instanceof RefereeError)) throw err;
      }
    }
    // A party that cannot or will not move loses when its deadline passes.
    if (moved) block++;
    else referee.timeout(gameId, (block = g.deadline + 1));
    moves++;
    const now = referee.game(gameId);
    if (now.phase === "steps" || now.phase === "prove") where.segment = now.segment;
    if (now.phase === "prove") where.step = now.lo;
  }
  const g = referee.game(gameId);
  return { winner: g.winner!, reason: g.reason!, rounds: g.rounds, moves, claimIds, ...where, conserved: referee.conserved() };
}
