/**
 * Soundness of the referee and the honest agent against hostile callers and unusual runs: the
 * referee checks and copies everything it is given (block numbers, hashes, claims, revealed
 * states) and a rejected call changes nothing; trap claims cannot carry an output; split points
 * are exact near 2^53; the honest agent compares every field of a claim. Then randomized games on
 * modules at the edges (thousands of segments, deep call chains, 600 locals, an empty input, a
 * run that exhausts its step budget, a trap of every kind, the VM's own resource traps): the
 * honest party wins every one, on either side.
 */
import { describe, expect, test } from "vitest";
import {
  HonestView, LyingView, modelRecordOf, Referee, runDispute, sameClaim, splitPoints, trapClaim, ZERO, Agent, type Cheat, type Role,
} from "../../dispute/index.js";
import { Session, Status, toHex, type StateFields } from "../../vm/index.js";
import { Rng } from "../helpers/random.js";
import { expectReject } from "./fixtures.js";
import { module, UNBOUNDED, wat } from "../vm/helpers.js";
import { frameProgram } from "../vm/programs.js";
import { callChain, infiniteLoop, manySegments, trapsAtEnd } from "../vm/special-modules.js";

const ONE_CHUNK = new Uint8Array(32).fill(1);


/** A referee with a registered model, two funded parties and a challenged false claim. */
function openGame(view: HonestView) {
  const referee = new Referee({ degree: 4 });
  referee.deposit("s", 10_000n);
  referee.deposit("c", 10_000n);
  const model = modelRecordOf(view.session);
  referee.registerModel(model);
  const last = view.segments - 1;
  const claim = new Agent("submitter", new LyingView(view, last, view.steps(last), "output")).claim(model);
  return { referee, model, claim };
}

describe("the referee trusts no caller", () => {
  const view = new HonestView(new Session(wat(manySegments(6)), ONE_CHUNK, { snapshotEvery: 16 }));
  const model = modelRecordOf(view.session);
  const honest = new Agent("submitter", view).claim(model);

  test("block numbers: NaN, undefined, negative, fractional and stale blocks are refused", () => {
    const referee = new Referee();
    referee.deposit("s", 10_000n);
    referee.deposit("c", 10_000n);
    referee.registerModel(model);
    for (const bad of [NaN, undefined, -1, 1.5, Infinity]) expectReject(() => referee.submit("s", honest, bad as number), "BAD_BLOCK");
    const id = referee.submit("s", honest, 10);
    expectReject(() => referee.finalize(id, undefined as unknown as number), "BAD_BLOCK");
    expectReject(() => referee.challenge(id, "c", 9), "BAD_BLOCK"); // before the referee's clock
    const g = referee.challenge(id, "c", 11);
    expectReject(() => referee.timeout(g, NaN), "BAD_BLOCK");
    expect(referee.claim(id).status).toBe("open");
    expect(referee.game(g).phase).toBe("ops");
  });

  test("a trap claim cannot carry an output, output chunks or a final memory root", () => {
    const trapped: StateFields = { ...view.finalState(2), status: Status.UNREACHABLE };
    const referee = new Referee();
    referee.deposit("s", 10_000n);
    referee.registerModel(model);
    const claim = trapClaim(model, trapped);
    expectReject(() => referee.submit("s", { ...claim, outputAcc: new Uint8Array(32).fill(3) }, 1), "BAD_CLAIM");
    expectReject(() => referee.submit("s", { ...claim, outputChunks: 1 }, 1), "BAD_CLAIM");
    expectReject(() => referee.submit("s", { ...claim, finalMemoryRoot: new Uint8Array(32).fill(4) }, 1), "BAD_CLAIM");
    expect(referee.balanceOf("s")).toBe(10_000n);
    expect(() => referee.submit("s", claim, 1)).not.toThrow();
  });

  test("the honest agent challenges a claim that differs from its own in any field", () => {
    const agent = new Agent("challenger", view);
    expect(agent.wantsToChallenge(honest, model)).toBe(false);
    for (const k of ["inputRoot", "outputAcc", "finalMemoryRoot", "finalBoundary", "modelId"] as const) {
      expect(agent.wantsToChallenge({ ...honest, [k]: new Uint8Array(32).fill(7) }, model), k).toBe(true);
    }
    expect(agent.wantsToChallenge({ ...honest, outputChunks: honest.outputChunks + 1 }, model)).toBe(true);
    const trapped: StateFields = { ...view.finalState(2), status: Status.UNREACHABLE };
    expect(sameClaim(trapClaim(model, trapped), trapClaim(model, { ...trapped, status: Status.DIV_ZERO }))).toBe(false);
    expect(agent.wantsToChallenge(trapClaim(model, trapped), model)).toBe(true);
  });

  test("posted hashes and claims are copied: a caller mutating its arrays afterwards changes nothing", () => {
    const { referee, claim } = openGame(view);
    const id = referee.submit("s", claim, 1);
    const stored = toHex(referee.claim(id).claim.outputAcc);
    claim.outputAcc[0] ^= 0xff;
    expect(toHex(referee.claim(id).claim.outputAcc)).toBe(stored);
    const g = referee.challenge(id, "c", 2);
    const hashes = [view.boundaryHash(2), view.boundaryHash(4), view.boundaryHash(6)].map((h) => h.slice());
    const points = splitPoints(0, view.segments, 4).slice(1, -1);
    expect(points.length).toBe(3);
    referee.move(g, "s", { kind: "bisect", hashes }, 3);
    const posted = referee.game(g).posted!.map(toHex);
    hashes[0][0] ^= 1; // rewritten after posting
    referee.game(g).posted![1][0] ^= 1; // and through the game record the referee handed out
    expect(referee.game(g).posted!.map(toHex)).toEqual(posted);
  });

  test("a rejected reveal changes nothing (a 31-byte stack hash, a missing field, a wrong count)", () => {
    const { referee, claim } = openGame(view);
    const id = referee.submit("s", claim, 1);
    const g = referee.challenge(id, "c", 2);
    let block = 3;
    // Bisect honestly down to one op, the challenger always taking the last sub-interval.
    while (referee.game(g).phase === "ops") {
      const game = referee.game(g);
      const pts = splitPoints(game.lo, game.hi, 4);
      referee.move(g, "s", { kind: "bisect", hashes: pts.slice(1, -1).map((p) => view.boundaryHash(p)) }, block++);
      referee.move(g, "c", { kind: "choose", index: pts.length - 2 }, block++);
    }
    const before = JSON.stringify(referee.game(g), (_, v) => (v instanceof Uint8Array ? toHex(v) : v));
    const k = referee.game(g).lo;
    const final = view.finalState(k);
    const bad: StateFields[] = [
      { ...final, stackHash: final.stackHash.slice(0, 31) },
      { ...final, step: -1 },
      { ...final, pc: 1.5 },
      { ...final, localsRoot: undefined as unknown as Uint8Array },
    ];
    for (const f of bad) expectReject(() => referee.move(g, "s", { kind: "reveal", boundary: view.boundary(k), final: f }, block), "BAD_FORMAT");
    expectReject(() => referee.move(g, "s", { kind: "reveal", boundary: { ...view.boundary(k), memoryRoot: new Uint8Array(31) }, final }, block), "BAD_FORMAT");
    expectReject(() => referee.move(g, "s", { kind: "trapped", state: { ...final, status: Status.UNREACHABLE, codeRoot: new Uint8Array(5) } }, block), "BAD_FORMAT");
    expect(JSON.stringify(referee.game(g), (_, v) => (v instanceof Uint8Array ? toHex(v) : v))).toBe(before);
  });

  test("split points are exact near 2^53", () => {
    const hi = 2 ** 53 - 1;
    const exact = (j: number, parts: number): number => Number((BigInt(j) * BigInt(hi)) / BigInt(parts));
    const points = splitPoints(0, hi, 5);
    expect(points).toEqual([0, 1, 2, 3, 4, 5].map((j) => exact(j, 5)));
    expect(points[5]).toBe(hi);
    for (let i = 1; i < points.length; i++) expect(points[i]).toBeGreaterThan(points[i - 1]);
    expect(splitPoints(hi - 3, hi, 4)).toEqual([hi - 3, hi - 2, hi - 1, hi]);
  });

  test("an empty input is a valid claim and can be disputed", () => {
    const empty = new HonestView(new Session(wat(manySegments(3, false)), new Uint8Array(0), { snapshotEvery: 16 }));
    expect(empty.boundary(0).inputChunks).toBe(0);
    expect(runDispute(empty)).toMatchObject({ challenged: false, winner: "submitter" });
    for (const side of ["submitter", "challenger"] as const) {
      const r = runDispute(empty, { cheat: { kind: "output" }, cheatSide: side });
      expect(r.winner).toBe(side === "submitter" ? "challenger" : "submitter");
      expect(r.conserved).toBe(true);
    }
  });
});

/** Cheats for a view: every kind, with parameters drawn for this run. */
function cheats(view: HonestView, rng: Rng, random: number): Cheat[] {
  const total = view.session.segmentSteps().reduce((a, b) => a + b, 0);
  const list: Cheat[] = [
    { kind: "output" }, { kind: "op", op: rng.int(0, view.segments - 1) }, { kind: "step", step: rng.int(0, total - 1) },
    { kind: "round", round: rng.int(1, 6) }, { kind: "stall", move: rng.int(1, 8) },
  ];
  for (let i = 0; i < random; i++) list.push({ kind: "random", seed: rng.int(1, 1 << 30) });
  return list;
}

function expectHonestWins(view: HonestView, seed: number, random = 3): number {
  const rng = new Rng(seed);
  expect(runDispute(view)).toMatchObject({ challenged: false, winner: "submitter", conserved: true });
  let games = 0;
  for (const side of ["submitter", "challenger"] as Role[]) {
    for (const cheat of cheats(view, rng, random)) {
      const degree = rng.pick([2, 4, 8]);
      const r = runDispute(view, { cheat, cheatSide: side, params: { degree } });
      const what = `${JSON.stringify(cheat)} by the ${side}, degree ${degree}: ${r.reason}`;
      expect(r.winner, what).toBe(side === "submitter" ? "challenger" : "submitter");
      expect(r.conserved, what).toBe(true);
      games++;
    }
  }
  return games;
}

describe("randomized games at the edges: the honest party always wins", () => {
  test("4,100 op segments (the state-hash cache keeps (segment, step) apart)", () => {
    const view = new HonestView(new Session(wat(manySegments(4098)), ONE_CHUNK, { snapshotEvery: 0 }));
    expect(view.segments).toBe(4100);
    // (segment 0, step 1) and (segment 4096, step 0) once shared a cache slot.
    const a = view.stateHash(0, 1);
    const b = view.stateHash(4096, 0);
    expect(toHex(a)).toBe(toHex(view.session.stateAt(0, 1).hash));
    expect(toHex(b)).toBe(toHex(view.session.stateAt(4096, 0).hash));
    expect(toHex(view.stateHash(0, 1))).toBe(toHex(a));
    const r = runDispute(view, { cheat: { kind: "op", op: 4097 }, cheatSide: "challenger" });
    expect(r.winner).toBe("submitter");
    expect(expectHonestWins(view, 41, 2)).toBe(14);
  });

  test("a deep call chain with many locals per frame", () => {
    const view = new HonestView(new Session(wat(callChain(300, 40)), new Uint8Array(0), { snapshotEvery: 512 }));
    expectHonestWins(view, 42);
  });

  test("a run that exhausts its step budget: the honest trap claim stands, every claimed result loses", () => {
    const view = new HonestView(new Session(wat(infiniteLoop()), new Uint8Array(0), { stepBudget: 3000, snapshotEvery: 256 }));
    expect(view.session.run.trap?.status).toBe(Status.STEP_LIMIT);
    expect(view.trappedAt(view.segments)?.status).toBe(Status.STEP_LIMIT);
    expectHonestWins(view, 43);
  });

  test("a trap at the end of memory in the middle op, and the same module on an input that does not trap", () => {
    const input = new Uint8Array(32);
    input[0] = 1;
    const trapping = new HonestView(new Session(wat(trapsAtEnd()), input, { snapshotEvery: 64 }));
    expect(trapping.session.run.trap).toMatchObject({ segment: 2, status: Status.OUT_OF_BOUNDS });
    expectHonestWins(trapping, 44);
    expectHonestWins(new HonestView(new Session(wat(trapsAtEnd()), new Uint8Array(32), { snapshotEvery: 64 })), 45);
  });

  test("the VM's own resource traps (a module outside the call bounds): the VM decides, the honest party wins", () => {
    const deep = new HonestView(new Session(wat(callChain(1100, 1)), new Uint8Array(0), { ...UNBOUNDED, snapshotEvery: 1024 }));
    expect(deep.session.run.trap?.status).toBe(Status.CALL_DEPTH);
    expectHonestWins(deep, 46, 2);
    const wide = new HonestView(new Session(wat(callChain(40, 1700)), new Uint8Array(0), { ...UNBOUNDED, snapshotEvery: 1024 }));
    expect(wide.session.run.trap?.status).toBe(Status.STACK_OVERFLOW);
    expectHonestWins(wide, 47, 2);
  });

  test("a function with 600 locals (frames kept in the machine's arrays by the JIT)", () => {
    const view = new HonestView(new Session(wat(frameProgram(600, 8, 3)), ONE_CHUNK, { snapshotEvery: 256 }));
    expect(view.session.mod.functions.some((f) => f.locals === 600)).toBe(true);
    expectHonestWins(view, 48, 2);
  });

  test("a trap of every other kind (unreachable, divide by zero, overflow, bad host call) in op_0", () => {
    const traps: [string, number][] = [
      ["(unreachable)", Status.UNREACHABLE],
      ["(drop (i32.div_u (i32.const 7) (i32.load (i32.const 32))))", Status.DIV_ZERO],
      ["(drop (i64.div_s (i64.const -9223372036854775808) (i64.const -1)))", Status.INT_OVERFLOW],
      ["(call $read_input (i32.const 5) (i32.const 0))", Status.BAD_HOST_CALL],
    ];
    for (const [i, [body, status]] of traps.entries()) {
      const bytes = wat(module(`
        (func (export "load_inputs") (call $read_input (i32.const 0) (i32.const 0)))
        (func (export "op_0") (i32.store (i32.const 64) (i32.const 3)) ${body})
        (func (export "op_1") (i32.store (i32.const 64) (i32.const 4)))
        (func (export "store_outputs") (call $write_output (i32.const 64)))`));
      const view = new HonestView(new Session(bytes, ONE_CHUNK, { snapshotEvery: 16 }));
      expect(view.session.run.trap).toMatchObject({ segment: 1, status });
      expectHonestWins(view, 50 + i, 1);
    }
  });

  test("trap claims carry ZERO output fields", () => {
    const view = new HonestView(new Session(wat(infiniteLoop()), new Uint8Array(0), { stepBudget: 100 }));
    const claim = new Agent("submitter", view).claim(modelRecordOf(view.session));
    expect(claim.trapState?.status).toBe(Status.STEP_LIMIT);
    expect([toHex(claim.outputAcc), claim.outputChunks, toHex(claim.finalMemoryRoot)]).toEqual([toHex(ZERO), 0, toHex(ZERO)]);
  });
});
