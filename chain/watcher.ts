/**
 * The validator of detml on chain, and the party logic every on-chain agent shares. A
 * `ModelParty` is one wallet's view of the Referee for one model: on every poll it re-reads the
 * chain (claim logs of the model up to head - confirmations, then each claim's and game's current
 * state from the contract), plays one move in each unfinished game it is a party to, and
 * finalizes its own claims once their window has closed. It keeps nothing it has to trust between
 * polls: a restarted party resumes from chain state, a claim that a reorg removed is forgotten,
 * and a transaction that a reorg dropped is sent again because the state it was meant to change
 * is read again. Moves of several games go out at once from one wallet (the connection's nonce
 * manager orders them). A `Watcher` adds the validator's duty: it recomputes every open claim of
 * the model on the claim's input (the input bytes are in the claim's event, or in the Requested
 * event for an answer; one VM run per input, cached) and challenges every claim that differs in
 * any field. On a dev chain, which mines only when asked, a party that waits on the other side
 * mines past its deadline once the game has not moved for `graceMs` (as playGame does), and one
 * that waits on a challenge window (or on confirmations) mines past it once nothing has happened
 * for `windowGraceMs`.
 */
import type { Address, Hex } from "viem";
import { Agent, HonestView, type ModelRecord, type Role } from "../dispute/index.js";
import { decodeModule, fromHex, keccak256, moduleConstants, moduleHash, Session, toHex, type DecodeOptions } from "../vm/index.js";
import { expectedMove } from "./onchain-game.js";
import { ChainRejection, type ChainClaim, type RefereeClient, type SentTx } from "./referee-client.js";
import type { WalletRole } from "./connect.js";

/** The honest runs of one model: one VM session per input (keyed by the input's keccak), the newest few kept. */
export class ModelRuns {
  readonly record: ModelRecord;
  readonly modelId: Hex;
  private readonly views = new Map<string, HonestView>();

  constructor(readonly wasm: Uint8Array, readonly decode: DecodeOptions = {}, private readonly keep = 4) {
    this.record = moduleConstants(decodeModule(wasm, decode));
    this.modelId = toHex(moduleHash(this.record)) as Hex;
  }

  view(input: Uint8Array): HonestView {
    const key = toHex(keccak256(input));
    let v = this.views.get(key);
    if (v === undefined) {
      v = new HonestView(new Session(this.wasm, input, this.decode));
      if (this.views.size >= this.keep) this.views.delete(this.views.keys().next().value!);
    } else {
      this.views.delete(key);
    }
    this.views.set(key, v);
    return v;
  }
}

/** One thing a party did or saw, printed as a line (or a JSON line) by serve and watch. */
export interface PartyEvent {
  event: "claim" | "gone" | "challenge" | "move" | "game-over" | "finalize" | "decided" | "answer" | "error";
  claimId?: number;
  gameId?: number;
  requestId?: number;
  txHash?: Hex;
  gasUsed?: bigint;
  detail?: string;
}

export function formatEvent(e: PartyEvent): string {
  const where = [e.requestId && `request ${e.requestId}`, e.claimId && `claim ${e.claimId}`, e.gameId && `game ${e.gameId}`].filter(Boolean).join(" ");
  const tx = e.txHash ? `  tx ${e.txHash}${e.gasUsed !== undefined ? ` gas ${e.gasUsed}` : ""}` : "";
  return `${e.event.padEnd(9)} ${where}${e.detail ? `: ${e.detail}` : ""}${tx}`;
}

export function eventJson(e: PartyEvent): string {
  return JSON.stringify(e, (_, v) => (typeof v === "bigint" ? v.toString() : v));
}

export interface PartyOptions {
  /** Which wallet of the connection signs (default "submitter" for a party, "challenger" for a Watcher). */
  wallet?: WalletRole;
  /** Logs are acted on only once this many blocks are above them (default 0). */
  confirmations?: number;
  /** First block of the log scans (default: the client's, the Referee's deployment block). */
  fromBlock?: bigint;
  /** Wait between polls in ms (default 50 on dev chains, 2000 elsewhere). */
  pollMs?: number;
  /** Dev chains: how long the other party may take to move before its deadline is mined past (ms, default 3000). */
  graceMs?: number;
  /** Dev chains: how long nothing may happen before a challenge window is mined past (ms, default 10,000: time for watchers to start and look). */
  windowGraceMs?: number;
  /** Whether to mine on a dev chain as described above (default: on dev chains). */
  mine?: boolean;
  /** The agent that plays `role` in a game over claim `claimId` (default: the honest agent on the claim's input). */
  agentFor?: (role: Role, claimId: number, input: Uint8Array) => Agent;
  onEvent?: (e: PartyEvent) => void;
}

/** A claim of the model as its event shows it, with its input bytes. */
export interface SeenClaim {
  id: number;
  submitter: Address;
  requestId: number;
  input: Uint8Array;
  txHash: Hex;
}

export interface PollContext {
  head: bigint;
  safe: bigint;
  /** Claims of the model up to the safe head, by id. */
  claims: Map<number, SeenClaim>;
  /** Whether this poll leaves nothing to wait for (see `isSettled`). */
  settled: boolean;
  /** Window ends this party waits on (a dev chain is mined past them when nothing moves). */
  windows: bigint[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A wallet's party for one model: defends and finalizes its own claims (see the overview). */
export class ModelParty {
  readonly wallet: WalletRole;
  readonly confirmations: number;
  readonly fromBlock: bigint;
  protected readonly opts: PartyOptions;
  private readonly agents = new Map<string, Agent>();
  private readonly reported = new Set<string>();
  private readonly known = new Map<number, Hex>();
  /** Per game (or "windows"): what it looked like and since when, for the dev-chain grace period. */
  private readonly unchanged = new Map<string, { key: string; since: number }>();
  private stopping = false;
  private running?: Promise<void>;
  /** Whether the current run ends when settled (then a watcher also waits out others' windows). */
  protected once = false;
  /** After a poll: nothing left to do (own claims decided, no game running, nothing to answer or watch). */
  private isSettled = false;

  constructor(readonly client: RefereeClient, readonly runs: ModelRuns, opts: PartyOptions = {}) {
    this.opts = opts;
    this.wallet = opts.wallet ?? "submitter";
    this.confirmations = opts.confirmations ?? 0;
    this.fromBlock = opts.fromBlock ?? client.fromBlock;
  }

  get address(): Address {
    return this.client.conn.wallet(this.wallet).account.address;
  }

  /** Poll until stopped (or, with `once`, until settled). Errors of one poll are reported and the next poll tries again. */
  run(options: { once?: boolean } = {}): Promise<void> {
    this.stopping = false;
    this.once = options.once ?? false;
    this.running = (async () => {
      for (;;) {
        try {
          await this.poll();
        } catch (e) {
          this.isSettled = false;
          this.emit({ event: "error", detail: (e as Error).message.split("\n")[0] });
        }
        if (this.stopping || (options.once && this.isSettled)) return;
        await sleep(this.opts.pollMs ?? (this.client.conn.dev ? 50 : 2000));
      }
    })();
    return this.running;
  }

  /** Stop after the current poll (its transactions are awaited). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /** One pass over the chain: read, then act (see the overview). */
  async poll(): Promise<void> {
    const head = await this.client.conn.publicClient.getBlockNumber();
    const safe = head - BigInt(this.confirmations);
    const ctx: PollContext = { head, safe, claims: await this.scanClaims(safe), settled: true, windows: [] };
    for (const [id, tx] of this.known) {
      if (ctx.claims.get(id)?.txHash !== tx) {
        this.known.delete(id);
        this.emit({ event: "gone", claimId: id, detail: "its transaction is no longer on the chain (reorg)" });
      }
    }
    if (this.once && this.confirmations > 0) await this.awaitConfirmations(ctx);
    await this.beforeClaims(ctx);
    await Promise.all([...ctx.claims.values()].map((c) => this.onClaim(ctx, c)));
    await this.playGames(ctx);
    await this.mineWindows(ctx);
    this.isSettled = ctx.settled;
  }

  /** Subclass hook, run first in every poll (a worker answers requests here). */
  protected async beforeClaims(_ctx: PollContext): Promise<void> {}

  /** Subclass hook for a claim of someone else (a watcher challenges it here). */
  protected async othersClaim(_ctx: PollContext, _seen: SeenClaim, _claim: ChainClaim): Promise<void> {}

  protected emit(e: PartyEvent): void {
    this.opts.onEvent?.(e);
  }

  /** Report an event once per key (a claim re-posted after a reorg has another key). */
  protected emitOnce(key: string, e: PartyEvent): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.emit(e);
  }

  /** Send a transaction; a contract rejection is reported and returns undefined (the next poll reads the state again). */
  protected async attempt(what: PartyEvent, send: () => Promise<SentTx>): Promise<SentTx | undefined> {
    try {
      const tx = await send();
      this.emit({ ...what, txHash: tx.hash, gasUsed: tx.gasUsed });
      return tx;
    } catch (e) {
      if (!(e instanceof ChainRejection)) throw e;
      this.emit({ ...what, event: "error", detail: `${what.event}${what.detail ? ` ${what.detail}` : ""} rejected: ${e.errorName}` });
      return undefined;
    }
  }

  /** Requests of the model up to `toBlock`: id -> input bytes. */
  protected async requestInputs(toBlock: bigint): Promise<Map<number, Uint8Array>> {
    const logs = toBlock < this.fromBlock ? [] : await this.client.logs("Requested", this.fromBlock, toBlock, { modelId: this.runs.modelId });
    return new Map(logs.map((l) => [Number(l.args.requestId as bigint), fromHex(l.args.input as Hex)]));
  }

  /**
   * A run that ends when settled must not end before it has seen the claims still under
   * confirmation: it waits for them (on a dev chain, mining them deep enough once all is quiet).
   */
  private async awaitConfirmations(ctx: PollContext): Promise<void> {
    const from = ctx.safe + 1n > this.fromBlock ? ctx.safe + 1n : this.fromBlock;
    const args = { modelId: this.runs.modelId };
    const fresh = [...await this.client.logs("ClaimSubmitted", from, ctx.head, args), ...await this.client.logs("TrapClaimSubmitted", from, ctx.head, args)];
    if (fresh.length === 0) return;
    ctx.settled = false;
    const newest = fresh.reduce((a, l) => (l.blockNumber > a ? l.blockNumber : a), 0n);
    ctx.windows.push(newest + BigInt(this.confirmations) - 1n);
  }

  private async scanClaims(safe: bigint): Promise<Map<number, SeenClaim>> {
    if (safe < this.fromBlock) return new Map();
    const args = { modelId: this.runs.modelId };
    const [results, traps, requests] = await Promise.all([
      this.client.logs("ClaimSubmitted", this.fromBlock, safe, args),
      this.client.logs("TrapClaimSubmitted", this.fromBlock, safe, args),
      this.requestInputs(safe),
    ]);
    const claims = new Map<number, SeenClaim>();
    for (const l of [...results, ...traps]) {
      const requestId = Number(l.args.requestId as bigint);
      const input = requestId === 0 ? fromHex(l.args.input as Hex) : requests.get(requestId);
      if (input === undefined) continue; // an answer to a request of another model cannot happen: the request fixes the model
      claims.set(Number(l.args.claimId as bigint), { id: Number(l.args.claimId as bigint), submitter: l.args.submitter as Address, requestId, input, txHash: l.transactionHash });
    }
    return claims;
  }

  private async onClaim(ctx: PollContext, seen: SeenClaim): Promise<void> {
    const claim = await this.client.claim(seen.id);
    if (claim.status === "none") return; // reorged away between the log scan and this read
    const mine = claim.submitter.toLowerCase() === this.address.toLowerCase();
    if (!this.known.has(seen.id)) {
      this.known.set(seen.id, seen.txHash);
      this.emitOnce(`claim ${seen.id} ${seen.txHash}`, { event: "claim", claimId: seen.id, requestId: seen.requestId || undefined, detail: `${claim.trap ? "trap claim" : "result claim"} by ${mine ? "this party" : claim.submitter}` });
    }
    if (claim.status !== "open") {
      this.emitOnce(`decided ${seen.id} ${seen.txHash}`, { event: "decided", claimId: seen.id, detail: claim.status });
      return;
    }
    const closes = BigInt(claim.blockNumber + this.client.params.challengeBlocks);
    if (!mine) return this.othersClaim(ctx, seen, claim);
    ctx.settled = false;
    if (claim.openGames > 0) return;
    // Calls are estimated at the head's block number: finalize needs the head itself past the window.
    if (ctx.head <= closes) {
      ctx.windows.push(closes);
      return;
    }
    await this.attempt({ event: "finalize", claimId: seen.id }, () => this.client.finalize(this.wallet, seen.id));
  }

  /** One move (or timeout, or settle) in every unfinished game this party plays, all at once. */
  private async playGames(ctx: PollContext): Promise<void> {
    const me = this.address.toLowerCase();
    const challenged = ctx.head < this.fromBlock ? [] : await this.client.logs("Challenged", this.fromBlock, ctx.head);
    const games: { id: number; role: Role; seen: SeenClaim }[] = [];
    for (const l of challenged) {
      const seen = ctx.claims.get(Number(l.args.claimId as bigint));
      if (seen === undefined) continue;
      const role: Role | undefined = (l.args.challenger as Address).toLowerCase() === me ? "challenger" : seen.submitter.toLowerCase() === me ? "submitter" : undefined;
      if (role !== undefined) games.push({ id: Number(l.args.gameId as bigint), role, seen });
    }
    await Promise.all(games.map((g) => this.stepGame(ctx, g.id, g.role, g.seen)));
  }

  private async stepGame(ctx: PollContext, gameId: number, role: Role, seen: SeenClaim): Promise<void> {
    const g = await this.client.game(gameId);
    if (g.phase === "over") {
      this.unchanged.delete(`game ${gameId}`);
      this.emitOnce(`over ${gameId} ${seen.txHash}`, { event: "game-over", gameId, claimId: seen.id, detail: g.outcome === "cancelled" ? "cancelled (the claim was rejected in another game), bond refunded" : `${g.outcome} won (this party: ${role})` });
      return;
    }
    ctx.settled = false;
    const lost = (await this.client.claim(seen.id)).status === "rejected";
    if (lost) {
      // The claim fell in another game: settle this one so its bond comes back.
      await this.attempt({ event: "move", gameId, claimId: seen.id, detail: "settle" }, () => this.client.send(this.wallet, "settle", [BigInt(gameId)]));
      return;
    }
    // A move is mined in the next block, which must not be past the deadline; a timeout is
    // estimated at the head, which must be.
    const deadline = BigInt(g.deadline);
    if (ctx.head > deadline) {
      // Whoever's turn it is has missed the deadline (if it is ours, the game is lost anyway: end it).
      await this.attempt({ event: "move", gameId, claimId: seen.id, detail: `timeout (the ${g.turn} missed block ${g.deadline})` }, () => this.client.timeout(this.wallet, gameId));
      return;
    }
    if (g.turn === role && ctx.head < deadline) {
      const agent = this.agent(role, gameId, seen);
      const mv = agent.act(g, expectedMove(g), this.client.params.degree);
      if (mv === undefined) return; // a stalling agent (fault injection)
      await this.attempt({ event: "move", gameId, claimId: seen.id, detail: `${mv.kind} (${g.phase} ${g.lo}..${g.hi})` }, () => this.client.move(this.wallet, gameId, mv, g.posted?.slice(1, -1)));
      return;
    }
    await this.mineIfQuiet(`game ${gameId}`, `${g.phase} ${g.lo} ${g.hi} ${g.turn} ${g.rounds}`, BigInt(g.deadline), ctx.head, this.opts.graceMs ?? 3000);
  }

  private agent(role: Role, gameId: number, seen: SeenClaim): Agent {
    const key = `${gameId} ${seen.txHash}`;
    let a = this.agents.get(key);
    if (a === undefined) {
      a = this.opts.agentFor?.(role, seen.id, seen.input) ?? new Agent(role, this.runs.view(seen.input));
      this.agents.set(key, a);
    }
    return a;
  }

  /** Dev chains: once nothing has moved for graceMs, mine until the head is past `target`. */
  private async mineIfQuiet(what: string, state: string, target: bigint, head: bigint, graceMs: number): Promise<void> {
    const conn = this.client.conn;
    if (!(this.opts.mine ?? conn.dev) || !conn.dev) return;
    const now = Date.now();
    const last = this.unchanged.get(what);
    if (last === undefined || last.key !== state) {
      this.unchanged.set(what, { key: state, since: now });
      return;
    }
    if (now - last.since < graceMs) return;
    this.unchanged.delete(what);
    if (target >= head) await conn.mine(Number(target - head) + 1);
  }

  private async mineWindows(ctx: PollContext): Promise<void> {
    if (ctx.windows.length === 0) return;
    const nearest = ctx.windows.reduce((a, b) => (a < b ? a : b));
    // Keyed by the head too: any transaction (a challenge, a move) restarts the grace period.
    await this.mineIfQuiet("windows", `${nearest} ${ctx.head}`, nearest, ctx.head, this.opts.windowGraceMs ?? 10_000);
  }
}

/** The validator: a party that also challenges every claim of the model that differs from its own run. */
export class Watcher extends ModelParty {
  private readonly failed = new Set<string>();

  constructor(client: RefereeClient, runs: ModelRuns, opts: PartyOptions = {}) {
    super(client, runs, { ...opts, wallet: opts.wallet ?? "challenger" });
  }

  protected override async othersClaim(ctx: PollContext, seen: SeenClaim, claim: ChainClaim): Promise<void> {
    const closes = BigInt(claim.blockNumber + this.client.params.challengeBlocks);
    if (ctx.head + 1n > closes) return; // nothing more a validator can do about it
    ctx.settled = false;
    // Our own challenge is looked up at the head, not the safe head: never bond twice for one claim.
    const ours = await this.client.logs("Challenged", this.fromBlock, ctx.head, { claimId: BigInt(seen.id), challenger: this.address });
    if (ours.length > 0) return;
    const key = `${seen.id} ${seen.txHash}`;
    if (claim.parent !== 0) {
      // A chained claim's run starts from its parent's final memory, which this party's runs
      // (from the model's initial memory) do not model: leave it alone rather than lose a bond.
      this.emitOnce(`chained ${key}`, { event: "claim", claimId: seen.id, detail: `continues claim ${claim.parent}: chained claims are not checked here` });
      return;
    }
    let view: HonestView;
    try {
      view = this.runs.view(seen.input);
    } catch (e) {
      if (!this.failed.has(key)) this.emit({ event: "error", claimId: seen.id, detail: `cannot run the model on its input: ${(e as Error).message.split("\n")[0]}` });
      this.failed.add(key);
      return;
    }
    const record = await this.client.claimRecord(seen.id);
    const honest = this.opts.agentFor?.("challenger", seen.id, seen.input) ?? new Agent("challenger", view);
    if (!honest.wantsToChallenge(record, this.runs.record)) {
      this.emitOnce(`agrees ${key}`, { event: "claim", claimId: seen.id, detail: "agrees with this party's run: not challenged" });
      // A run that ends when settled waits the window out; a standing watcher leaves the clock alone.
      if (this.once) ctx.windows.push(closes);
      return;
    }
    await this.attempt({ event: "challenge", claimId: seen.id, detail: "differs from this party's run" }, () => this.client.challenge(this.wallet, seen.id).then((r) => r.tx));
  }
}

