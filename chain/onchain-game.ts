/**
 * Playing dispute games through transactions. `playGame` drives one game on a Referee contract
 * with the same `Agent`s that play against the TypeScript referee: it reads the game back from
 * the chain, lets the agent whose turn it is choose its move, sends it, and repeats until the
 * game is over. A party this process does not play (the other side of a watcher's game) moves in
 * its own process: the loop polls until the game changes or the deadline passes, then calls
 * `timeout`. On a dev chain a party that does not move (a staller, or a move the contract
 * rejected) has its deadline mined past at once, so a whole game runs in seconds. Every move is
 * reported with its transaction hash and gas, and rejected moves with the contract's error.
 */
import type { Hex } from "viem";
import type { Agent, Move, Role } from "../dispute/index.js";
import { ChainRejection, type ChainGame, type RefereeClient, type SentTx } from "./referee-client.js";

export interface ChainMove {
  role: Role;
  kind: Move["kind"] | "timeout" | "settle";
  phase: string;
  lo: number;
  hi: number;
  txHash?: Hex;
  gasUsed?: bigint;
  calldataBytes?: number;
  block?: number;
  /** The contract's custom error, when it rejected the move. */
  rejected?: string;
}

export interface PlayOptions {
  /** Called after every move, accepted or not. */
  onMove?: (m: ChainMove) => void;
  /** Wait between polls for the other party's move (ms; default 200). */
  pollMs?: number;
  /** How long the other party (moving from its own process) has before a dev chain is mined past its deadline (ms; default 3000). */
  graceMs?: number;
  /** Wall-clock limit (ms) for the whole game; default none. */
  timeoutMs?: number;
}

export interface PlayedGame {
  game: ChainGame;
  moves: ChainMove[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The move the phase expects from the party whose turn it is (as dispute/referee.ts `expectedMove`). */
export function expectedMove(g: ChainGame): Move["kind"] {
  if (g.phase === "reveal") return "reveal";
  if (g.phase === "prove") return "prove";
  return g.posted ? "choose" : "bisect";
}

/**
 * Play game `gameId` to its end. `agents` are the parties this process plays (one or both roles);
 * each moves with its own wallet role. Returns the final game and every move made here.
 */
export async function playGame(client: RefereeClient, gameId: number, agents: Partial<Record<Role, Agent>>, opts: PlayOptions = {}): Promise<PlayedGame> {
  const moves: ChainMove[] = [];
  const started = Date.now();
  const record = (m: ChainMove, tx?: SentTx) => {
    if (tx) Object.assign(m, { txHash: tx.hash, gasUsed: tx.gasUsed, calldataBytes: tx.calldataBytes, block: Number(tx.blockNumber) });
    moves.push(m);
    opts.onMove?.(m);
  };
  const anyRole = (Object.keys(agents) as Role[])[0];
  if (!anyRole) throw new Error("playGame needs at least one agent");
  for (;;) {
    if (opts.timeoutMs !== undefined && Date.now() - started > opts.timeoutMs) throw new Error(`game ${gameId} did not end within ${opts.timeoutMs} ms`);
    const g = await client.game(gameId);
    if (g.phase === "over") return { game: g, moves };
    const agent = agents[g.turn];
    const kind = expectedMove(g);
    const base: ChainMove = { role: g.turn, kind, phase: g.phase, lo: g.lo, hi: g.hi };
    let moved = false;
    if (agent) {
      const mv = agent.act(g, kind, client.params.degree);
      if (mv) {
        base.kind = mv.kind;
        try {
          record(base, await client.move(g.turn, gameId, mv, g.posted?.slice(1, -1)));
          moved = true;
        } catch (e) {
          if (!(e instanceof ChainRejection)) throw e;
          record({ ...base, rejected: e.errorName });
        }
      }
    }
    if (moved) continue;
    const head = Number(await client.conn.publicClient.getBlockNumber());
    if (head > g.deadline) {
      try {
        record({ role: anyRole, kind: "timeout", phase: g.phase, lo: g.lo, hi: g.hi }, await client.timeout(anyRole, gameId));
      } catch (e) {
        if (!(e instanceof ChainRejection)) throw e; // the other party moved in the same block: read again
      }
      continue;
    }
    // Our party cannot move, or the other party moves from its own process and has not yet: wait.
    // A dev chain mines only when asked, so there the deadline is mined past (after a grace period
    // for the other process); on a real chain blocks come by themselves.
    if (!agent && (await changedWithin(client, g, opts.pollMs ?? 200, opts.graceMs ?? 3000))) continue;
    if (client.conn.dev) await client.conn.mine(g.deadline - head + 1);
    else await sleep(opts.pollMs ?? 200);
  }
}

/** Whether the game moved on within `ms` (the other party's process made its move). */
async function changedWithin(client: RefereeClient, g: ChainGame, pollMs: number, graceMs: number): Promise<boolean> {
  const deadlineAt = Date.now() + graceMs;
  while (Date.now() < deadlineAt) {
    await sleep(pollMs);
    const now = await client.game(g.id);
    if (now.phase !== g.phase || now.lo !== g.lo || now.hi !== g.hi || now.turn !== g.turn) return true;
  }
  return false;
}
