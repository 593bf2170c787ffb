/**
 * Differential test of the Referee contract against its executable specification
 * (dispute/referee.ts): randomized games on the MLP fixture between honest and dishonest agents
 * (dispute/agent.ts strategies and lying views), either side cheating, sometimes with a second
 * challenger, with wrong calls mixed in (wrong party, wrong move, malformed moves, reveals that do
 * not hash, early timeouts and finalizations, late moves, unknown ids, moves on ended games), and
 * a sequence of chained and trap claims. Every
 * call, accepted or rejected, goes to both referees at the same block (fixtures/twin.ts) and must
 * get the same verdict; after every game both must name the same winners and hold the same
 * balances and escrow, funds conserved on both. Gas per call kind is measured on the way.
 */
import { describe, expect, test } from "vitest";
import {
  Agent, cheater, LyingView, modelRecordOf, seeded, splitPoints, trapClaim, type Cheat, type Game, type Move, type Role,
} from "../../dispute/index.js";
import { Status, toHex } from "../../vm/index.js";
import { loadFixture } from "../dispute/fixtures.js";
import { CLAIM_STATUS, DEV_PARAMS, ETHER, PARTIES, WINNER } from "./fixtures/referee-driver.js";
import { claimedOutput, PostableLie, Twin } from "./fixtures/twin.js";
import { TX_GAS_CAP } from "./referee-harness.js";

const { view: truth, fixture } = loadFixture("mlp");
const model = modelRecordOf(truth.session);
const S = truth.segments;

interface Scenario {
  cheatSide?: Role;
  cheat?: Cheat;
  /** A second challenger: honest when the submitter cheats, another liar (answering at random) otherwise. */
  second?: boolean;
  /** Probability of a wrong call before each move. */
  noise: number;
}

const ADDRESS: Record<Role, `0x${string}`> = { submitter: PARTIES.submitter, challenger: PARTIES.challenger };

/** The agents of a scenario: a lie about memory is made postable (its claim keeps the true output). */
function agentsOf(sc: Scenario): Record<Role, Agent> {
  const honest = (role: Role): Agent => new Agent(role, truth);
  if (!sc.cheat || !sc.cheatSide) return { submitter: honest("submitter"), challenger: honest("challenger") };
  let bad = cheater(truth, sc.cheat);
  if (sc.cheatSide === "submitter" && (sc.cheat.kind === "op" || sc.cheat.kind === "step")) {
    const lie = bad.view as LyingView;
    bad = { view: new PostableLie(new LyingView(truth, lie.segment, lie.fromStep), truth), strategy: {} };
  }
  const cheating = new Agent(sc.cheatSide, bad.view, bad.strategy);
  return sc.cheatSide === "submitter" ? { submitter: cheating, challenger: honest("challenger") } : { submitter: honest("submitter"), challenger: cheating };
}

/** A well-shaped move of the kind the game expects (for calls by the wrong party). */
function dummyMove(g: Game, kind: Move["kind"], degree: number): Move {
  const parts = splitPoints(g.lo, g.hi, degree).length - 1;
  switch (kind) {
    case "bisect": return { kind, hashes: Array.from({ length: parts - 1 }, () => new Uint8Array(32)) };
    case "choose": return { kind, index: 0 };
    case "reveal": case "trapped": return { kind: "reveal", boundary: truth.boundary(g.lo), final: truth.finalState(g.lo) };
    case "prove": return { kind, proof: new Uint8Array(0) };
  }
}

/** A move of another kind than the one expected. */
const WRONG_KIND: Record<Move["kind"], Move> = {
  bisect: { kind: "choose", index: 0 }, choose: { kind: "bisect", hashes: [] }, reveal: { kind: "prove", proof: new Uint8Array(0) },
  trapped: { kind: "prove", proof: new Uint8Array(0) }, prove: { kind: "bisect", hashes: [] },
};

/** A wrong call on the game at its turn, chosen at random: what each is rejected for is the specification's business. */
function noiseCall(twin: Twin, id: number, g: Game, kind: Move["kind"], rnd: () => number): Promise<unknown> {
  const degree = twin.ts.params.degree;
  const mover = ADDRESS[g.turn];
  const other = g.turn === "submitter" ? g.challenger as `0x${string}` : PARTIES.submitter;
  const posted = g.posted?.slice(1, -1) ?? [];
  const parts = splitPoints(g.lo, g.hi, degree).length - 1;
  const send = (label: string, from: `0x${string}`, mv: Move, gameId = id): Promise<unknown> =>
    twin.both(`noise ${label} g${gameId}`, () => twin.ts.move(gameId, from, mv, twin.block), () => twin.sol.move(from, gameId + 1, mv, posted), gameId);
  const malformed: Record<Move["kind"], Move> = {
    bisect: { kind: "bisect", hashes: Array.from({ length: parts }, () => new Uint8Array(32)) },
    choose: { kind: "choose", index: parts },
    reveal: { kind: "reveal", boundary: { ...truth.boundary(Math.min(g.lo + 1, S)), segment: g.lo + 1 }, final: truth.finalState(Math.min(g.lo, S - 1)) },
    trapped: { kind: "trapped", state: truth.finalState(0) },
    prove: { kind: "prove", proof: new Uint8Array(64).fill(7) },
  };
  const calls = [
    () => send("other-party", other, dummyMove(g, kind, degree)),
    () => send("wrong-kind", mover, WRONG_KIND[kind]),
    () => send("malformed", mover, malformed[kind]),
    () => send("unknown-game", mover, dummyMove(g, kind, degree), 999),
    () => twin.both(`noise early-timeout g${id}`, () => twin.ts.timeout(id, twin.block), () => twin.sol.send(PARTIES.other, "timeout", [BigInt(id + 1)]), id),
  ];
  if (kind === "reveal" && g.lo < S) {
    const b = truth.boundary(g.lo);
    calls.push(() => send("reveal-mismatch", mover, { kind: "reveal", boundary: { ...b, memoryRoot: new Uint8Array(32).fill(1) }, final: truth.finalState(g.lo) }));
    calls.push(() => send("trapped-not-trap", mover, { kind: "trapped", state: truth.finalState(g.lo) }));
  }
  return calls[Math.floor(rnd() * calls.length)]();
}

interface Played {
  accepted: boolean;
  /** Games ended because another game rejected the claim (settled lazily on chain). */
  cancelled: number;
}

/** Play one scenario on both referees, checking agreement call by call. */
async function play(twin: Twin, sc: Scenario, seed: number): Promise<Played> {
  const rnd = seeded(seed);
  const { params } = twin.ts;
  const agents = agentsOf(sc);
  const claim = agents.submitter.claim(model);
  const output = claimedOutput(truth, claim);
  const submitted = await twin.both("submit", () => twin.ts.submit(PARTIES.submitter, claim, twin.block), () => twin.sol.submit(PARTIES.submitter, model, claim, fixture.input, output));
  const claimId = submitted.value!;
  const claimBlock = twin.block;
  twin.block += 1;
  if (rnd() < sc.noise) await twin.both("noise self-challenge", () => twin.ts.challenge(claimId, PARTIES.submitter, twin.block), () => twin.sol.send(PARTIES.submitter, "challenge", [BigInt(claimId + 1)]));
  if (rnd() < sc.noise) await twin.both("noise early-finalize", () => twin.ts.finalize(claimId, twin.block), () => twin.sol.send(PARTIES.other, "finalize", [BigInt(claimId + 1)]));
  const players: { id: number; agents: Record<Role, Agent>; challenger: `0x${string}` }[] = [];
  const open = async (challenger: `0x${string}`, mine: Record<Role, Agent>): Promise<void> => {
    const r = await twin.both("challenge", () => twin.ts.challenge(claimId, challenger, twin.block), () => twin.sol.send(challenger, "challenge", [BigInt(claimId + 1)]));
    if (r.value === undefined) return;
    players.push({ id: r.value, agents: mine, challenger });
    twin.block += 1;
  };
  if (agents.challenger.wantsToChallenge(claim, model)) await open(PARTIES.challenger, agents);
  if (sc.second) {
    const second = sc.cheatSide === "submitter" ? new Agent("challenger", truth) : new Agent("challenger", truth, { random: seeded(seed + 1) });
    await open(PARTIES.other, { submitter: agents.submitter, challenger: second });
  }
  for (;;) {
    const live = players.filter((p) => twin.ts.game(p.id).phase !== "over");
    if (live.length === 0) break;
    // The game whose deadline comes first moves first: deadlines differ (one accepted call per block), so
    // running the clock past this one's deadline never makes a party of another game late.
    const p = live.reduce((a, b) => (twin.ts.game(b.id).deadline < twin.ts.game(a.id).deadline ? b : a));
    const g = twin.ts.game(p.id);
    const kind = twin.ts.expectedMove(g);
    const from = g.turn === "submitter" ? PARTIES.submitter : p.challenger;
    if (rnd() < sc.noise) {
      await noiseCall(twin, p.id, g, kind, rnd);
      if (twin.ts.game(p.id).phase === "over") continue;
    }
    const now = twin.ts.game(p.id);
    const mv = p.agents[now.turn].act(now, kind, params.degree);
    const posted = now.posted?.slice(1, -1) ?? [];
    if (mv?.kind === "prove") {
      const { chain, verifier, verifierAbi } = twin.sol.d;
      twin.gas.set("verifier", [...(twin.gas.get("verifier") ?? []), await chain.callGas(verifierAbi, verifier, "verify", [toHex(now.loHash), toHex(mv.proof)])]);
    }
    if (mv) {
      const r = await twin.both(`${mv.kind} g${p.id}`, () => twin.ts.move(p.id, from, mv, twin.block), () => twin.sol.move(from, p.id + 1, mv, posted), p.id);
      if (r.code === undefined) {
        twin.block += 1;
        continue;
      }
    }
    // The party did not move (or its move was rejected): its deadline passes, a late move fails, anyone times it out.
    twin.block = Math.max(twin.block, now.deadline + 1);
    if (mv) await twin.both(`late ${mv.kind} g${p.id}`, () => twin.ts.move(p.id, from, mv, twin.block), () => twin.sol.move(from, p.id + 1, mv, posted), p.id);
    if (sc.noise > 0) {
      const wrong = WRONG_KIND[kind];
      await twin.both(`late-wrong-kind g${p.id}`, () => twin.ts.move(p.id, from, wrong, twin.block), () => twin.sol.move(from, p.id + 1, wrong, posted), p.id);
      await noiseCall(twin, p.id, twin.ts.game(p.id), kind, rnd);
    }
    await twin.both(`timeout g${p.id}`, () => twin.ts.timeout(p.id, twin.block), () => twin.sol.send(PARTIES.other, "timeout", [BigInt(p.id + 1)]), p.id);
  }
  // Games the specification ended when the claim was rejected: touching them settles them on chain.
  for (const p of players) {
    const how = rnd() < 0.5 ? "settle" : "timeout";
    await twin.both(`${how} g${p.id}`, () => twin.ts.timeout(p.id, twin.block), () => twin.sol.send(PARTIES.other, how, [BigInt(p.id + 1)]), p.id);
  }
  if (twin.ts.claim(claimId).status === "open") {
    twin.block = Math.max(twin.block, claimBlock + params.challengeBlocks + 1);
  }
  await twin.both("finalize", () => twin.ts.finalize(claimId, twin.block), () => twin.sol.send(PARTIES.other, "finalize", [BigInt(claimId + 1)]));
  twin.block += 1;
  for (const p of players) {
    const spec = twin.ts.game(p.id);
    const expected = spec.cancelled ? WINNER.cancelled : WINNER[spec.winner!];
    expect((await twin.sol.game(p.id + 1)).winner, `winner of game ${p.id}`).toBe(expected);
  }
  const accepted = twin.ts.claim(claimId).status === "accepted";
  expect(await twin.sol.claimStatus(claimId + 1)).toBe(accepted ? CLAIM_STATUS.accepted : CLAIM_STATUS.rejected);
  await twin.expectSameFunds();
  return { accepted, cancelled: players.filter((p) => twin.ts.game(p.id).cancelled).length };
}

const CHEATS: Cheat[] = [
  { kind: "output" }, ...Array.from({ length: S }, (_, op) => ({ kind: "op", op }) as Cheat), { kind: "step", step: 5 },
  { kind: "round", round: 1 }, { kind: "round", round: 3 }, { kind: "random", seed: 7 }, { kind: "stall", move: 1 }, { kind: "stall", move: 3 },
];

describe("Referee contract against dispute/referee.ts", () => {
  const gasSeen = new Map<string, bigint[]>();

  test.each([4, 3, 2])("randomized games at degree %i: same verdict on every call, same winners, same balances", async (degree) => {
    const twin = await Twin.create({ ...DEV_PARAMS, degree });
    for (const who of Object.values(PARTIES)) await twin.deposit(who, 50n * ETHER);
    const reg = await twin.both("registerModel", () => twin.ts.registerModel(model), () => twin.sol.registerModel(model));
    expect(reg.outcome.events[0].args.modelId).toBe(toHex(reg.value!));
    const rnd = seeded(degree * 1000 + 1);
    const scenarios: Scenario[] = [{ noise: 0.3 }];
    for (const cheat of CHEATS) {
      for (const cheatSide of ["submitter", "challenger"] as const) {
        if (rnd() < (degree === 4 ? 1 : 0.35)) scenarios.push({ cheat, cheatSide, second: rnd() < 0.3, noise: rnd() < 0.5 ? 0.25 : 0 });
      }
    }
    let rejectedCalls = 0;
    let cancelled = 0;
    for (const [i, sc] of scenarios.entries()) {
      const before = twin.log.length;
      const played = await play(twin, sc, degree * 100 + i);
      const accepted = played.accepted;
      cancelled += played.cancelled;
      // The honest side wins whatever the dishonest one does.
      expect(accepted, JSON.stringify(sc)).toBe(sc.cheatSide !== "submitter");
      rejectedCalls += twin.log.slice(before).filter((r) => r.ts !== "ok").length;
    }
    expect(rejectedCalls).toBeGreaterThan(5);
    expect(cancelled).toBeGreaterThan(0);
    console.log(`degree ${degree}: ${scenarios.length} scenarios, ${twin.log.length} calls, ${rejectedCalls} rejected, ${cancelled} games settled lazily`);
    for (const [k, v] of twin.gas) gasSeen.set(k, [...(gasSeen.get(k) ?? []), ...v]);
    for (const r of twin.log) expect(r.gas, r.what).toBeLessThan(TX_GAS_CAP);
  });

  test("chained and trap claims: same verdicts, same boundary 0, same balances", async () => {
    const twin = await Twin.create();
    for (const who of Object.values(PARTIES)) await twin.deposit(who, 20n * ETHER);
    await twin.both("registerModel", () => twin.ts.registerModel(model), () => twin.sol.registerModel(model));
    const claim = new Agent("submitter", truth).claim(model);
    const output = truth.session.run.output;
    const submit = (parent?: number, c = claim): Promise<{ value?: number }> => twin.both(`submit parent ${parent}`,
      () => twin.ts.submit(PARTIES.submitter, c, twin.block, parent), () => twin.sol.submit(PARTIES.submitter, model, c, fixture.input, output, parent === undefined ? 0 : parent + 1));
    const challenge = async (id: number): Promise<number> => (await twin.both(`challenge ${id}`,
      () => twin.ts.challenge(id, PARTIES.challenger, twin.block), () => twin.sol.send(PARTIES.challenger, "challenge", [BigInt(id + 1)]))).value!;
    const timeout = (g: number): Promise<unknown> => twin.both(`timeout ${g}`, () => twin.ts.timeout(g, twin.block), () => twin.sol.send(PARTIES.other, "timeout", [BigInt(g + 1)]), g);
    const finalize = (id: number): Promise<unknown> => twin.both(`finalize ${id}`, () => twin.ts.finalize(id, twin.block), () => twin.sol.send(PARTIES.other, "finalize", [BigInt(id + 1)]));
    const a = (await submit()).value!;
    const b = (await submit(a)).value!;
    const orphan = (await submit(b)).value!; // b's child, before b falls
    await submit(41); // no such parent
    const game = await challenge(b);
    expect((await twin.sol.game(game + 1)).loHash).toBe(toHex(twin.ts.game(game).loHash));
    twin.block += DEV_PARAMS.moveBlocks + 1;
    await timeout(game); // b is not defended: rejected
    await submit(b); // a rejected parent
    const c = (await submit(a)).value!;
    twin.block += DEV_PARAMS.challengeBlocks + 1;
    await finalize(c); // its parent a is still open
    await finalize(a);
    await finalize(c);
    await finalize(orphan); // its parent b was rejected: rejected, bond refunded
    expect([twin.ts.claim(c).status, twin.ts.claim(orphan).status]).toEqual(["accepted", "rejected"]);
    expect([await twin.sol.claimStatus(c + 1), await twin.sol.claimStatus(orphan + 1)]).toEqual([CLAIM_STATUS.accepted, CLAIM_STATUS.rejected]);
    // A trap claim: a trapped state of this model and input; a halted one is no trap.
    const trap = { ...truth.finalState(1), status: Status.OUT_OF_BOUNDS };
    await submit(undefined, trapClaim(model, { ...trap, status: Status.HALTED }));
    const t = (await submit(undefined, trapClaim(model, trap))).value!;
    await submit(t); // a trap claim is no parent
    twin.block += DEV_PARAMS.challengeBlocks + 1;
    await finalize(t);
    expect(twin.log.filter((r) => r.ts !== "ok").map((r) => r.ts)).toEqual(["UNKNOWN_CLAIM", "BAD_CLAIM", "STILL_OPEN", "BAD_CLAIM", "BAD_CLAIM"]);
    await twin.expectSameFunds();
  });

  test("gas per call kind stays under the 2^24 cap", () => {
    const rows = [...gasSeen].map(([k, v]) => `${k.padEnd(10)} n=${String(v.length).padStart(3)} mean=${v.reduce((a, b) => a + b, 0n) / BigInt(v.length)} max=${v.reduce((a, b) => (b > a ? b : a), 0n)}`);
    console.log(`gas per accepted call (MLP fixture, real StepVerifier; "verifier": StepVerifier.verify's execution gas for each proof posted):\n${rows.join("\n")}`);
    for (const k of ["submit", "challenge", "bisect", "choose", "reveal", "prove", "verifier", "timeout", "finalize"]) expect(gasSeen.has(k), k).toBe(true);
  });
});
