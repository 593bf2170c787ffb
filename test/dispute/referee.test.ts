/**
 * The referee's rules, move by move, on the MLP fixture: claims and their commitments, the
 * challenge window, turns, deadlines and timeouts, move formats, the reveal checks, proof checks,
 * and bond accounting. A rejected call must throw a RefereeError with its code and change nothing.
 */
import { describe, expect, test } from "vitest";
import {
  claimFromBoundary, initialBoundary, modelRecordOf, Referee, sameHash, splitPoints, altered, haltedProof, type Game, type Move,
} from "../../dispute/index.js";
import { boundaryHash, STATE_FIELDS, stateHash, verifyProof } from "../../vm/index.js";
import { expectReject, loadFixture } from "./fixtures.js";

const { view } = loadFixture("mlp");
const model = modelRecordOf(view.session);
const S = view.segments;
const honestClaim = claimFromBoundary(model, view.boundary(S));


/** A referee with a registered model, funded parties "S" and "C", the honest claim 0 challenged at block 2 (game 0). */
function started(degree = 2): Referee {
  const r = new Referee({ degree, bond: 100n, moveBlocks: 5, challengeBlocks: 10 });
  r.registerModel(model);
  r.deposit("S", 1000n);
  r.deposit("C", 1000n);
  r.submit("S", honestClaim, 1);
  r.challenge(0, "C", 2);
  return r;
}

const snapshot = (g: Readonly<Game>): string => JSON.stringify(g, (_, v) => (v instanceof Uint8Array ? Array.from(v) : v));

describe("referee", () => {
  test("split points cover the interval in min(degree, length) increasing parts", () => {
    expect(splitPoints(0, 9, 2)).toEqual([0, 4, 9]);
    expect(splitPoints(3, 5, 8)).toEqual([3, 4, 5]);
    expect(splitPoints(0, 100, 4)).toEqual([0, 25, 50, 75, 100]);
    for (let len = 1; len < 50; len++) for (const d of [2, 3, 7]) {
      const p = splitPoints(10, 10 + len, d);
      expect(p.length).toBe(Math.min(d, len) + 1);
      p.slice(1).forEach((x, i) => expect(x).toBeGreaterThan(p[i]));
    }
  });

  test("claims: unknown model, inconsistent final boundary and missing funds are rejected", () => {
    const r = new Referee({ bond: 100n });
    expectReject(() => r.submit("S", honestClaim, 1), "UNKNOWN_MODEL");
    r.registerModel(model);
    expectReject(() => r.submit("S", honestClaim, 1), "INSUFFICIENT_FUNDS");
    r.deposit("S", 100n);
    expectReject(() => r.submit("S", { ...honestClaim, outputAcc: altered(honestClaim.outputAcc, "x") }, 1), "BAD_CLAIM");
    expect(r.submit("S", honestClaim, 1)).toBe(0);
    expect([r.balanceOf("S"), r.escrow(), r.conserved()]).toEqual([0n, 100n, true]);
  });

  test("challenge window, one game per challenge, finalization only after every game", () => {
    const r = new Referee({ bond: 100n, challengeBlocks: 10, moveBlocks: 5 });
    r.registerModel(model);
    r.deposit("S", 500n);
    r.deposit("C", 500n);
    r.submit("S", honestClaim, 1);
    expectReject(() => r.finalize(0, 11), "STILL_OPEN");
    expectReject(() => r.challenge(0, "S", 2), "BAD_FORMAT");
    expectReject(() => r.challenge(0, "C", 12), "CHALLENGE_CLOSED");
    expect(r.challenge(0, "C", 11)).toBe(0);
    expectReject(() => r.challenge(0, "D", 11), "INSUFFICIENT_FUNDS");
    r.deposit("D", 100n);
    expect(r.challenge(0, "D", 11)).toBe(1);
    expect([r.escrow(), r.conserved()]).toEqual([300n, true]);
    expectReject(() => r.finalize(0, 12), "STILL_OPEN");
    r.timeout(0, 17); // the submitter did not move in game 0: the claim is rejected, game 1 ends with its bond refunded
    expect([r.claim(0).status, r.game(1).phase, r.game(1).cancelled]).toEqual(["rejected", "over", true]);
    expect([r.balanceOf("S"), r.balanceOf("C"), r.balanceOf("D"), r.escrow(), r.conserved()]).toEqual([400n, 600n, 100n, 0n, true]);
    expectReject(() => r.challenge(0, "D", 11), "BAD_BLOCK"); // block 11 is past: the referee is at block 17
    expectReject(() => r.challenge(0, "D", 18), "NOT_CHALLENGEABLE");
    r.submit("S", honestClaim, 20);
    r.finalize(1, 31);
    expect([r.claim(1).status, r.balanceOf("S"), r.conserved()]).toEqual(["accepted", 400n, true]);
  });

  test("a challenger of the submitter's own that loses on purpose does not shield a false claim", () => {
    const r = new Referee({ bond: 100n, challengeBlocks: 10, moveBlocks: 5 });
    r.registerModel(model);
    for (const who of ["S", "P", "C"]) r.deposit(who, 1000n);
    const fb = view.boundary(S);
    const falseClaim = claimFromBoundary(model, { ...fb, outputAcc: altered(fb.outputAcc, "lie") });
    r.submit("S", falseClaim, 1);
    const puppet = r.challenge(0, "P", 2);
    const honest = r.challenge(0, "C", 3);
    r.move(puppet, "S", { kind: "bisect", hashes: splitPoints(0, S, 4).slice(1, -1).map((p) => boundaryHash(view.boundary(p))) }, 4);
    r.timeout(puppet, 10); // the puppet "loses": its bond goes to the submitter
    expect(r.claim(0).status).toBe("open");
    expectReject(() => r.finalize(0, 12), "STILL_OPEN"); // the honest game is still running
    r.timeout(honest, 10); // the submitter cannot defend the false claim (here: does not move)
    expect([r.claim(0).status, r.game(honest).winner]).toEqual(["rejected", "challenger"]);
    expect([r.balanceOf("S"), r.balanceOf("P"), r.balanceOf("C"), r.conserved()]).toEqual([1000n, 900n, 1100n, true]);
  });

  test("chained claims: start from the parent's final memory, wait for the parent, fall with it", () => {
    const r = new Referee({ bond: 100n, challengeBlocks: 10, moveBlocks: 5 });
    r.registerModel(model);
    for (const who of ["S", "C"]) r.deposit(who, 1000n);
    r.submit("S", honestClaim, 1); // claim 0
    expectReject(() => r.submit("S", honestClaim, 2, 7), "UNKNOWN_CLAIM");
    expectReject(() => r.submit("S", honestClaim, 2, -1), "BAD_FORMAT");
    const child = r.submit("S", honestClaim, 2, 0); // claim 1: the next token, from claim 0's final memory
    expect(r.claim(child).parent).toBe(0);
    const game = r.challenge(child, "C", 3);
    const start = initialBoundary(model, honestClaim.inputRoot, honestClaim.inputChunks, honestClaim.finalMemoryRoot);
    expect(Array.from(r.game(game).loHash)).toEqual(Array.from(boundaryHash(start)));
    expect(sameHash(r.game(game).loHash, boundaryHash(view.boundary(0)))).toBe(false);
    r.timeout(game, 9); // the submitter does not defend the child: rejected
    expectReject(() => r.submit("S", honestClaim, 10, child), "BAD_CLAIM"); // a rejected claim is no parent
    const grandchild = r.submit("S", honestClaim, 10, 0);
    expectReject(() => r.finalize(grandchild, 21), "STILL_OPEN"); // its parent, claim 0, is still open at block 21
    r.finalize(0, 21);
    r.finalize(grandchild, 21);
    expect([r.claim(0).status, r.claim(grandchild).status, r.conserved()]).toEqual(["accepted", "accepted", true]);
    // A child whose parent is rejected is rejected by finalize, its bond refunded.
    r.submit("S", { ...honestClaim }, 22); // claim 3
    const orphan = r.submit("S", honestClaim, 23, 3);
    r.timeout(r.challenge(3, "C", 24), 30);
    const before = r.balanceOf("S");
    r.finalize(orphan, 34);
    expect([r.claim(orphan).status, r.balanceOf("S") - before, r.escrow(), r.conserved()]).toEqual(["rejected", 100n, 0n, true]);
  });

  test("turns, move kinds, formats and deadlines; a rejected move changes nothing", () => {
    const r = started();
    const g = r.game(0);
    expect([g.phase, g.turn, g.lo, g.hi]).toEqual(["ops", "submitter", 0, S]);
    const mid = splitPoints(0, S, 2)[1];
    const good: Move = { kind: "bisect", hashes: [boundaryHash(view.boundary(mid))] };
    const before = snapshot(r.game(0));
    expectReject(() => r.move(0, "C", good, 3), "NOT_YOUR_TURN");
    expectReject(() => r.move(0, "S", { kind: "choose", index: 0 }, 3), "WRONG_MOVE");
    expectReject(() => r.move(0, "S", { kind: "bisect", hashes: [] }, 3), "BAD_FORMAT");
    expectReject(() => r.move(0, "S", { kind: "bisect", hashes: [new Uint8Array(31)] }, 3), "BAD_FORMAT");
    expectReject(() => r.move(0, "S", good, 8), "DEADLINE_PASSED");
    expectReject(() => r.timeout(0, 7), "NOT_TIMED_OUT");
    expect(snapshot(r.game(0))).toBe(before);
    r.move(0, "S", good, 7);
    expect([r.game(0).turn, r.game(0).deadline, r.game(0).rounds]).toEqual(["challenger", 12, 1]);
    expectReject(() => r.move(0, "C", { kind: "choose", index: 2 }, 8), "BAD_FORMAT");
    expectReject(() => r.move(0, "C", { kind: "choose", index: 0.5 }, 8), "BAD_FORMAT");
    r.move(0, "C", { kind: "choose", index: 1 }, 8);
    expect([r.game(0).lo, r.game(0).hi, r.game(0).turn]).toEqual([mid, S, "submitter"]);
  });

  test("timeout: the party to move loses and the winner takes both bonds", () => {
    const r = started();
    r.timeout(0, 8);
    const g = r.game(0);
    expect([g.phase, g.winner, r.claim(0).status]).toEqual(["over", "challenger", "rejected"]);
    expect([r.balanceOf("S"), r.balanceOf("C"), r.escrow(), r.conserved()]).toEqual([900n, 1100n, 0n, true]);
    expectReject(() => r.timeout(0, 20), "GAME_OVER");
    expectReject(() => r.move(0, "S", { kind: "bisect", hashes: [] }, 9), "GAME_OVER");
  });

  test("reveal checks the agreed boundary and the connection of the halted end state", () => {
    const r = started(16); // one round: the challenger picks [k, k + 1] at once
    const pts = splitPoints(0, S, 16);
    r.move(0, "S", { kind: "bisect", hashes: pts.slice(1, -1).map((p) => boundaryHash(view.boundary(p))) }, 3);
    const k = 1;
    r.move(0, "C", { kind: "choose", index: k }, 4);
    expect(r.game(0).phase).toBe("reveal");
    const b = view.boundary(k);
    const final = view.finalState(k);
    expectReject(() => r.move(0, "S", { kind: "reveal", boundary: view.boundary(k + 1), final }, 5), "BAD_FORMAT");
    expectReject(() => r.move(0, "S", { kind: "reveal", boundary: { ...b, memoryRoot: altered(b.memoryRoot, "x") }, final }, 5), "HASH_MISMATCH");
    expectReject(() => r.move(0, "S", { kind: "reveal", boundary: b, final: { ...final, memoryRoot: altered(final.memoryRoot, "x") } }, 5), "HASH_MISMATCH");
    expectReject(() => r.move(0, "S", { kind: "reveal", boundary: b, final: { ...final, status: 0 } }, 5), "BAD_FORMAT");
    r.move(0, "S", { kind: "reveal", boundary: b, final }, 5);
    const g = r.game(0);
    expect([g.phase, g.segment, g.lo, g.hi]).toEqual(["steps", k, 0, view.steps(k)]);
    expect(Array.from(g.loHash)).toEqual(Array.from(view.stateHash(k, 0)));
    expect(Array.from(g.hiHash)).toEqual(Array.from(stateHash(final)));
  });

  test("prove: an invalid proof is rejected, a valid one decides by the post-state", () => {
    const r = started(16);
    r.move(0, "S", { kind: "bisect", hashes: splitPoints(0, S, 16).slice(1, -1).map((p) => boundaryHash(view.boundary(p))) }, 3);
    r.move(0, "C", { kind: "choose", index: 0 }, 4);
    r.move(0, "S", { kind: "reveal", boundary: view.boundary(0), final: view.finalState(0) }, 5);
    let block = 6;
    while (r.game(0).phase === "steps") {
      const g = r.game(0);
      const pts = splitPoints(g.lo, g.hi, 16);
      r.move(0, "S", { kind: "bisect", hashes: pts.slice(1, -1).map((p) => view.stateHash(0, p)) }, block++);
      r.move(0, "C", { kind: "choose", index: 0 }, block++);
    }
    const g = r.game(0);
    expect([g.phase, g.lo, g.hi]).toEqual(["prove", 0, 1]);
    const proof = view.proof(0, 0);
    const bad = proof.slice();
    bad[bad.length - 1] ^= 1;
    expectReject(() => r.move(0, "S", { kind: "prove", proof: bad }, block), "INVALID_PROOF");
    expectReject(() => r.move(0, "S", { kind: "prove", proof: proof.subarray(0, 64) }, block), "INVALID_PROOF");
    r.move(0, "S", { kind: "prove", proof }, block);
    expect([r.game(0).winner, r.balanceOf("S"), r.balanceOf("C"), r.escrow(), r.conserved()]).toEqual(["submitter", 1000n, 900n, 100n, true]);
    r.finalize(0, block + 20);
    expect([r.claim(0).status, r.balanceOf("S"), r.escrow(), r.conserved()]).toEqual(["accepted", 1100n, 0n, true]);
  });

  test("the proof from a halted state is its 18 state words and leaves the state unchanged", () => {
    const final = view.finalState(0);
    const h = stateHash(final);
    expect(Array.from(verifyProof(h, haltedProof(final)))).toEqual(Array.from(h));
    expect(view.proof(0, view.steps(0) + 5).length).toBe(STATE_FIELDS.length * 32);
  });
});
