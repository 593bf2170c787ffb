/**
 * Fault injection: many randomized games on the fixture models (the MLP and LeNet), each with one
 * dishonest party (random cheat, random parameters, random side) against the honest agent, under
 * a random bisection degree. Every dishonest party must lose and every honest one win, a staller
 * by timeout, a liar about the computation by the one-step proof when it is the submitter (also
 * one that reveals a wrong step count for the disputed op); bonds
 * move from loser to winner and nothing is created or lost; rounds stay within the bisection bound.
 */
import { describe, expect, test } from "vitest";
import { Agent, altered, claimFromBoundary, modelRecordOf, Referee, runDispute, type Cheat, type Role, type View } from "../../dispute/index.js";
import { boundaryAfter, boundaryHash, stateHash } from "../../vm/index.js";
import { Rng } from "../helpers/random.js";
import { loadFixture, FIXTURES } from "./fixtures.js";

/** Rounds needed to shrink an interval of length L to 1 when each round keeps ceil(L / degree). */
function roundsFor(length: number, degree: number): number {
  let r = 0;
  for (let l = length; l > 1; l = Math.ceil(l / degree)) r++;
  return r;
}

function randomCheat(rng: Rng, segments: number, totalSteps: number): Cheat {
  switch (rng.int(0, 5)) {
    case 0: return { kind: "output" };
    case 1: return { kind: "op", op: rng.int(0, segments - 1) };
    case 2: return { kind: "step", step: rng.int(0, totalSteps - 1) };
    case 3: return { kind: "round", round: rng.int(1, 12) };
    case 4: return { kind: "random", seed: rng.int(1, 1 << 30) };
    default: return { kind: "stall", move: rng.int(1, 10) };
  }
}

const GAMES: Record<keyof typeof FIXTURES, number> = { mlp: 700, lenet: 400 };

describe("fault injection: the honest side always wins", () => {
  for (const name of Object.keys(GAMES) as (keyof typeof FIXTURES)[]) {
    test(`${GAMES[name]} randomized games on ${name}`, () => {
      const { view } = loadFixture(name);
      const steps = view.session.segmentSteps();
      const total = steps.reduce((a, b) => a + b, 0);
      const rng = new Rng(name === "mlp" ? 101 : 202);
      const seen = { timeouts: 0, proofs: 0, byKind: new Map<string, number>() };
      for (let i = 0; i < GAMES[name]; i++) {
        const cheat = randomCheat(rng, view.segments, total);
        const cheatSide: Role = rng.next() < 0.5 ? "submitter" : "challenger";
        const degree = rng.pick([2, 2, 3, 4, 8, 16]);
        const r = runDispute(view, { cheat, cheatSide, params: { degree } });
        const honest: Role = cheatSide === "submitter" ? "challenger" : "submitter";
        const what = `game ${i}: ${JSON.stringify(cheat)} by the ${cheatSide}, degree ${degree}: ${r.reason}`;
        expect(r.challenged, what).toBe(true);
        expect(r.winner, what).toBe(honest);
        expect(r.conserved, what).toBe(true);
        const bond = 1000n;
        expect(r.balances[honest].after - r.balances[honest].before, what).toBe(bond);
        expect(r.balances[cheatSide].after - r.balances[cheatSide].before, what).toBe(-bond);
        if (cheat.kind === "stall") {
          // A staller loses by timeout unless the game ended (by proof) before its stalling move.
          const own = r.moves.filter((m) => m.role === cheatSide && m.kind !== "timeout").length;
          if (!/did not move/.test(r.reason)) expect(own, what).toBeLessThan(cheat.move);
          else expect(r.moves[r.moves.length - 1], what).toMatchObject({ role: cheatSide, kind: "timeout" });
        }
        if (cheatSide === "submitter" && (cheat.kind === "output" || cheat.kind === "op" || cheat.kind === "step")) {
          expect(r.reason, what).toMatch(/not the claimed state/);
        }
        if (r.proof) {
          const bound = roundsFor(view.segments, degree) + roundsFor(steps[r.segment!], degree);
          expect(r.rounds, what).toBeLessThanOrEqual(bound);
        }
        if (/did not move/.test(r.reason)) seen.timeouts++;
        else seen.proofs++;
        seen.byKind.set(`${cheat.kind}/${cheatSide}`, (seen.byKind.get(`${cheat.kind}/${cheatSide}`) ?? 0) + 1);
      }
      // The sample covers every cheat on both sides and both ways a game ends.
      expect(seen.byKind.size).toBe(12);
      expect(seen.timeouts).toBeGreaterThan(0);
      expect(seen.proofs).toBeGreaterThan(0);
    });
  }

  test("a liar about op K (or step N) is caught inside that op (at that step)", () => {
    const { view } = loadFixture("mlp");
    const steps = view.session.segmentSteps();
    for (let k = 0; k < view.segments; k++) {
      for (const side of ["submitter", "challenger"] as const) {
        const r = runDispute(view, { cheat: { kind: "op", op: k }, cheatSide: side, params: { degree: 2 } });
        expect(r.segment).toBe(k);
        expect(r.step).toBe(Math.ceil(steps[k] / 2) - 1);
      }
    }
    const at = view.session.locate(10_000);
    const r = runDispute(view, { cheat: { kind: "step", step: 10_000 } });
    expect([r.segment, r.step]).toEqual([at.segment, at.step - 1]);
  });

  test("honest against honest: no challenge, the claim is accepted and the bond returned", () => {
    const { view } = loadFixture("lenet");
    const r = runDispute(view);
    expect([r.challenged, r.winner, r.conserved]).toEqual([false, "submitter", true]);
    expect(r.balances.submitter.after).toBe(r.balances.submitter.before);
  });

  test("a submitter that reveals a wrong step count for the disputed op loses", () => {
    const { view: truth } = loadFixture("mlp");
    const k = 2;
    const n = truth.steps(k);
    for (const claimed of [n - 3, n + 3, n + 1000]) {
      const fake = { ...truth.finalState(k), step: claimed, memoryRoot: altered(truth.finalState(k).memoryRoot, "m") };
      const boundary = (j: number) => (j <= k ? truth.boundary(j) : { ...boundaryAfter(fake), segment: j });
      const liar: View = {
        segments: truth.segments,
        boundary,
        boundaryHash: (j) => boundaryHash(boundary(j)),
        trappedAt: () => undefined,
        stateHash: (j, t) => (j === k && t >= claimed ? stateHash(fake) : truth.stateHash(j, t)),
        finalState: (j) => (j === k ? fake : truth.finalState(j)),
        proof: (j, t) => truth.proof(j, t),
      };
      for (const degree of [2, 5]) {
        const referee = new Referee({ degree });
        referee.deposit("S", 5000n);
        referee.deposit("C", 5000n);
        const model = modelRecordOf(truth.session);
        referee.registerModel(model);
        const id = referee.submit("S", claimFromBoundary(model, liar.boundary(truth.segments)), 1);
        const gid = referee.challenge(id, "C", 2);
        const agents = { submitter: new Agent("submitter", liar), challenger: new Agent("challenger", truth) };
        const address = { submitter: "S", challenger: "C" };
        let block = 3;
        while (referee.game(gid).phase !== "over") {
          const g = referee.game(gid);
          const mv = agents[g.turn].act(g, referee.expectedMove(g), degree)!;
          referee.move(gid, address[g.turn], mv, block++);
        }
        const g = referee.game(gid);
        expect([g.winner, g.segment], `claimed ${claimed} steps (true ${n}), degree ${degree}`).toEqual(["challenger", k]);
        expect(g.reason).toMatch(/not the claimed state/);
        expect(referee.conserved()).toBe(true);
      }
    }
  });
});
