/**
 * The Referee contract rule by rule, on a test chain (referee-harness.ts): its size under the
 * Osaka code limit, its commitments against vm/'s, every custom error triggered once with nothing
 * changed (storage, escrow and ether as before), trap claims and the `trapped` move, chained
 * claims, lazily settled games, requests and their results, withdrawals, and the example
 * MnistConsumer. Claims here are over a made-up model (no game in this file reaches a real proof:
 * referee-diff.test.ts plays real games on the MLP fixture).
 */
import { beforeAll, describe, expect, test } from "vitest";
import type { Hex } from "viem";
import { claimedFinalBoundary, initialBoundary, modelId, ZERO, type Claim, type ModelRecord } from "../../dispute/index.js";
import {
  absorbOutput, boundaryHash, inputTree, keccak256, padInput, Status, toHex, trappedRunHash, type Hash, type StateFields,
} from "../../vm/index.js";
import {
  boundaryWords, CLAIM_STATUS, deployReferee, DEV_PARAMS, ETHER, PARTIES, PHASE, RefereeCalls, stateWords, WINNER, type Deployed,
} from "./fixtures/referee-driver.js";
import { loadArtifacts, type Outcome } from "./referee-harness.js";

const { submitter: S, challenger: C, other: D } = PARTIES;
const tag = (t: string): Hash => keccak256(new TextEncoder().encode(t));
const MODEL: ModelRecord = { codeRoot: tag("code"), codeSize: 300, memoryBytes: 65536, initialMemoryRoot: tag("memory"), segments: 4, stepBudget: 1 << 20 };
const INPUT = new Uint8Array(100).map((_, i) => i + 1);

/** A result claim of MODEL on `input` with the given output bytes and final memory. */
function claimOf(input: Uint8Array, output: Uint8Array, finalMemoryRoot = tag("final"), m = MODEL): Claim {
  const padded = padInput(input);
  const c = {
    modelId: modelId(m), inputRoot: inputTree(padded).root(), inputChunks: padded.length / 32, outputAcc: absorbOutput(ZERO, output),
    outputChunks: output.length / 32, finalMemoryRoot,
  };
  return { ...c, finalBoundary: boundaryHash(claimedFinalBoundary(m, c)) };
}

/** A trapped state of MODEL on `input` in `segment`. */
function trappedState(input: Uint8Array, segment: number, status: number = Status.OUT_OF_BOUNDS): StateFields {
  const c = claimOf(input, new Uint8Array(0));
  return {
    codeRoot: MODEL.codeRoot, codeSize: MODEL.codeSize, memoryRoot: tag("trap memory"), memoryBytes: MODEL.memoryBytes, stepBudget: MODEL.stepBudget,
    inputRoot: c.inputRoot, inputChunks: c.inputChunks, outputAcc: ZERO, outputChunks: 0, segment, step: 17, status, pc: 40,
    stackHash: tag("stack"), stackHeight: 3, localsRoot: tag("locals"), framesHash: ZERO, callDepth: 1,
  };
}

const OUTPUT = new Uint8Array(64).map((_, i) => 200 - i);

async function fresh(): Promise<{ d: Deployed; r: RefereeCalls }> {
  const d = await deployReferee();
  const r = new RefereeCalls(d);
  await r.registerModel(MODEL);
  return { d, r };
}

function ok(o: Outcome): Outcome {
  expect(o.ok ? "ok" : o.error).toBe("ok");
  return o;
}

/** `call` must revert with `error` and leave storage, escrow and every ether balance as they were. */
async function rejects(r: RefereeCalls, error: string, call: () => Promise<Outcome>): Promise<void> {
  const { chain, referee } = r.d;
  const accounts = [referee, ...Object.values(PARTIES)];
  const snapshot = async (): Promise<string> => JSON.stringify([chain.storage(referee), ...(await Promise.all(accounts.map((a) => chain.etherOf(a))))].map(String));
  const before = await snapshot();
  const o = await call();
  expect(o.ok ? "ok" : o.error).toBe(error);
  expect(await snapshot()).toBe(before);
}

describe("Referee contract", () => {
  let r: RefereeCalls;
  beforeAll(async () => ({ r } = await fresh()), 120_000); // compiling the contracts when their sources changed takes ~20 s

  test("every contract deploys under the 24,576-byte runtime limit", async () => {
    const arts = await loadArtifacts();
    for (const name of ["Referee", "StepVerifier", "MnistConsumer"]) expect(arts[name].runtimeBytes, name).toBeLessThanOrEqual(24576);
    expect([await r.read("bond"), await r.read("challengeBlocks"), await r.read("moveBlocks"), await r.read("degree")]).toEqual([ETHER, 20n, 10n, 4n]);
  });

  test("commitments computed on chain are vm's: model id, input tree, output accumulator", async () => {
    const reg = ok(await r.registerModel(MODEL));
    expect(reg.result).toBe(toHex(modelId(MODEL)));
    for (const n of [0, 1, 31, 32, 33, 100, 257]) {
      const x = new Uint8Array(n).map((_, i) => (i * 37 + 5) & 255);
      const padded = padInput(x);
      expect(await r.read("inputCommitment", [toHex(x)]), `${n} bytes`).toEqual([toHex(inputTree(padded).root()), BigInt(padded.length / 32)]);
    }
    expect(await r.read("outputCommitment", [toHex(OUTPUT)])).toEqual([toHex(absorbOutput(ZERO, OUTPUT)), 2n]);
    expect(await r.read("outputCommitment", ["0x"])).toEqual([toHex(ZERO), 0n]);
  });

  test("each custom error, triggered on chain, changes nothing", async () => {
    const { d, r } = await fresh();
    const claim = claimOf(INPUT, OUTPUT);
    d.chain.block = 10n;
    await rejects(r, "BadFormat", () => r.send(S, "deposit", []));
    await rejects(r, "BadFormat", () => r.registerModel({ ...MODEL, memoryBytes: 33 }));
    await rejects(r, "BadFormat", () => r.submit(S, MODEL, claim, INPUT, OUTPUT.subarray(0, 33), 0, ETHER));
    await rejects(r, "UnknownModel", () => r.submit(S, MODEL, { ...claim, modelId: tag("no model") }, INPUT, OUTPUT, 0, ETHER));
    await rejects(r, "BadClaim", () => r.submit(S, MODEL, claim, INPUT, OUTPUT.map((b) => b ^ 1), 0, ETHER));
    await rejects(r, "InsufficientFunds", () => r.submit(S, MODEL, claim, INPUT, OUTPUT, 0, ETHER - 1n));
    await rejects(r, "InsufficientFunds", () => r.send(S, "withdraw", [1n]));
    await rejects(r, "UnknownClaim", () => r.submit(S, MODEL, claim, INPUT, OUTPUT, 5, ETHER));
    ok(await r.submit(S, MODEL, claim, INPUT, OUTPUT, 0, ETHER)); // claim 1 at block 10
    await rejects(r, "UnknownClaim", () => r.send(C, "challenge", [99n], ETHER));
    await rejects(r, "StillOpen", () => r.send(D, "finalize", [1n]));
    await rejects(r, "BadFormat", () => r.send(S, "challenge", [1n], ETHER));
    d.chain.block = 11n;
    const challenged = ok(await r.send(C, "challenge", [1n], ETHER)); // game 1, deadline 21
    expect(challenged.result).toBe(1n);
    // The submitter posts boundary 1 and, at 2 and 3, the trapped-run hash of a trap in segment 1.
    const trap = trappedState(INPUT, 1);
    const T = trappedRunHash(trap);
    const hashes = [toHex(tag("boundary 1")), toHex(T), toHex(T)];
    await rejects(r, "UnknownGame", () => r.send(S, "bisect", [99n, hashes]));
    await rejects(r, "NotYourTurn", () => r.send(C, "bisect", [1n, hashes]));
    await rejects(r, "WrongMove", () => r.send(S, "choose", [1n, 0n, hashes]));
    await rejects(r, "BadFormat", () => r.send(S, "bisect", [1n, hashes.slice(1)]));
    await rejects(r, "StillOpen", () => r.send(D, "settle", [1n]));
    d.chain.block = 21n;
    await rejects(r, "NotTimedOut", () => r.send(D, "timeout", [1n]));
    d.chain.block = 22n;
    await rejects(r, "DeadlinePassed", () => r.send(S, "bisect", [1n, hashes]));
    d.chain.block = 12n;
    const bisected = ok(await r.send(S, "bisect", [1n, hashes]));
    expect(bisected.events[0]).toMatchObject({ eventName: "Bisected", args: { lo: 0n, hi: 4n, hashes } });
    await rejects(r, "BadFormat", () => r.send(C, "choose", [1n, 4n, hashes]));
    await rejects(r, "HashMismatch", () => r.send(C, "choose", [1n, 2n, [hashes[0], hashes[1], toHex(tag("not posted"))]]));
    d.chain.block = 13n;
    ok(await r.send(C, "choose", [1n, 2n, hashes])); // [2, 3]: both ends are the trapped-run hash
    const g = await r.game(1);
    expect([g.phase, g.lo, g.hi, g.loHash, g.hiHash]).toEqual([PHASE.reveal, 2n, 3n, toHex(T), toHex(T)]);
    const b2 = boundaryWords(initialBoundary(MODEL, claim.inputRoot, claim.inputChunks));
    await rejects(r, "BadFormat", () => r.send(S, "reveal", [1n, b2, stateWords(trap)])); // boundary of segment 0, not 2
    const atTwo = boundaryWords({ ...initialBoundary(MODEL, claim.inputRoot, claim.inputChunks), segment: 2 });
    await rejects(r, "HashMismatch", () => r.send(S, "reveal", [1n, atTwo, stateWords({ ...trap, segment: 2 })])); // no boundary hashes to T
    await rejects(r, "BadFormat", () => r.send(S, "trapped", [1n, stateWords({ ...trap, status: Status.HALTED })]));
    const hugeStep = stateWords(trap).map((w, i) => (i === 10 ? `0x${"ff".repeat(32)}` : w)); // a count word of 2^256 - 1
    await rejects(r, "BadFormat", () => r.send(S, "trapped", [1n, hugeStep]));
    await rejects(r, "HashMismatch", () => r.send(S, "trapped", [1n, stateWords({ ...trap, step: 18 })]));
    await rejects(r, "WrongMove", () => r.send(S, "prove", [1n, "0x"]));
    d.chain.block = 14n;
    const won = ok(await r.send(S, "trapped", [1n, stateWords(trap)]));
    expect(won.events.map((e) => e.eventName)).toEqual(["TrappedOpened", "GameEnded"]);
    expect((await r.game(1)).winner).toBe(WINNER.submitter);
    await rejects(r, "GameOver", () => r.send(D, "timeout", [1n]));
    await rejects(r, "GameOver", () => r.send(S, "bisect", [1n, hashes]));
    d.chain.block = 31n;
    await rejects(r, "ChallengeClosed", () => r.send(D, "challenge", [1n], ETHER));
    ok(await r.send(D, "finalize", [1n]));
    await rejects(r, "NotChallengeable", () => r.send(D, "finalize", [1n]));
    await rejects(r, "NotChallengeable", () => r.send(D, "challenge", [1n], ETHER));
    expect([await r.balanceOf(S), await r.balanceOf(C), await r.read("escrow")]).toEqual([2n * ETHER, 0n, 0n]);
    // A one-segment model: the game starts at the reveal, and after a one-step reveal comes the proof.
    const one = { ...MODEL, segments: 1 };
    ok(await r.registerModel(one));
    const c1 = claimOf(INPUT, OUTPUT, tag("final"), one);
    ok(await r.submit(S, one, c1, INPUT, OUTPUT, 0, 0n)); // claim 2, from the balance
    const game = (ok(await r.send(C, "challenge", [2n], ETHER)).result) as bigint;
    const b0 = initialBoundary(one, c1.inputRoot, c1.inputChunks);
    const halted: StateFields = { ...trappedState(INPUT, 0, Status.HALTED), ...claimedFinalBoundary(one, c1), segment: 0, step: 1 };
    ok(await r.send(S, "reveal", [game, boundaryWords(b0), stateWords(halted)]));
    expect((await r.game(Number(game))).phase).toBe(PHASE.prove);
    await rejects(r, "InvalidProof", () => r.send(S, "prove", [game, toHex(new Uint8Array(96).fill(3))]));
    // Requests.
    await rejects(r, "UnknownModel", () => r.send(D, "request", [toHex(tag("no model")), toHex(INPUT)], 5n));
    await rejects(r, "UnknownRequest", () => r.send(S, "answer", [1n, toHex(OUTPUT), toHex(tag("final")), toHex(claim.finalBoundary)], ETHER));
    ok(await r.send(D, "request", [toHex(modelId(MODEL)), toHex(INPUT)], 5n)); // request 1
    ok(await r.send(S, "answer", [1n, toHex(OUTPUT), toHex(tag("final")), toHex(claim.finalBoundary)], ETHER)); // claim 3
    await rejects(r, "RequestPending", () => r.send(C, "answer", [1n, toHex(OUTPUT), toHex(tag("final")), toHex(claim.finalBoundary)], ETHER));
    d.chain.block = 60n;
    ok(await r.send(D, "finalize", [3n]));
    await rejects(r, "RequestFinal", () => r.send(C, "answerTrap", [1n, stateWords(trappedState(INPUT, 0))], ETHER));
  });

  test("trap claims: the trapped state must be of the model, its input and a trap", async () => {
    const { r } = await fresh();
    const id = toHex(modelId(MODEL));
    const send = (s: StateFields, input = INPUT): Promise<Outcome> => r.send(S, "submitTrap", [id, toHex(input), stateWords(s), 0n], ETHER);
    const s = trappedState(INPUT, 2);
    await rejects(r, "BadClaim", () => send({ ...s, status: Status.HALTED }));
    await rejects(r, "BadClaim", () => send({ ...s, segment: MODEL.segments }));
    await rejects(r, "BadClaim", () => send({ ...s, stepBudget: 5 }));
    await rejects(r, "BadClaim", () => send(s, INPUT.subarray(1)));
    const o = ok(await send(s));
    expect(o.events.find((e) => e.eventName === "TrapClaimSubmitted")?.args.trappedState).toEqual(stateWords(s));
    const fields = await r.read<unknown[]>("claims", [1n]);
    // outputAcc, finalMemoryRoot ZERO, final boundary the trapped-run hash, trap flag set.
    expect([fields[2], fields[3], fields[4], fields[8]]).toEqual([toHex(ZERO), toHex(ZERO), toHex(trappedRunHash(s)), true]);
    await rejects(r, "BadClaim", () => r.submit(S, MODEL, claimOf(INPUT, OUTPUT), INPUT, OUTPUT, 1, ETHER)); // a trap claim is no parent
  });

  test("chained claims start from the parent's final memory and fall with it", async () => {
    const { d, r } = await fresh();
    const parent = claimOf(INPUT, OUTPUT, tag("after token 1"));
    ok(await r.submit(S, MODEL, parent, INPUT, OUTPUT, 0, ETHER)); // claim 1
    const child = claimOf(INPUT.subarray(0, 40), OUTPUT, tag("after token 2"));
    const input2 = INPUT.subarray(0, 40);
    ok(await r.submit(S, MODEL, child, input2, OUTPUT, 1, ETHER)); // claim 2, chained to 1
    ok(await r.submit(S, MODEL, child, input2, OUTPUT, 2, ETHER)); // claim 3, chained to 2
    const game = (ok(await r.send(C, "challenge", [1n], ETHER)).result) as bigint;
    const childGame = (ok(await r.send(D, "challenge", [2n], ETHER)).result) as bigint;
    const start = initialBoundary(MODEL, child.inputRoot, child.inputChunks, parent.finalMemoryRoot);
    expect((await r.game(Number(childGame))).loHash).toBe(toHex(boundaryHash(start)));
    ok(await r.send(S, "bisect", [childGame, [toHex(tag("a")), toHex(tag("b")), toHex(tag("c"))]]));
    d.chain.block = 12n;
    ok(await r.send(D, "timeout", [game])); // the parent is not defended: rejected
    d.chain.block = 30n;
    ok(await r.send(D, "timeout", [childGame])); // the child's challenger did not choose: the submitter wins
    await rejects(r, "BadClaim", () => r.submit(S, MODEL, child, input2, OUTPUT, 1, ETHER));
    await rejects(r, "StillOpen", () => r.send(D, "finalize", [3n])); // parent 2 undecided
    const before = await r.balanceOf(S);
    const rejected = ok(await r.send(D, "finalize", [2n]));
    expect(rejected.events.at(-1)).toMatchObject({ eventName: "ClaimFinalized", args: { accepted: false } });
    ok(await r.send(D, "finalize", [3n]));
    expect([await r.claimStatus(2), await r.claimStatus(3), (await r.balanceOf(S)) - before]).toEqual([CLAIM_STATUS.rejected, CLAIM_STATUS.rejected, 2n * ETHER]);
    expect(await r.conserved(Object.values(PARTIES))).toBe(true);
  });

  test("games over a rejected claim end lazily, one at a time, with their bonds refunded", async () => {
    const { d, r } = await fresh();
    ok(await r.submit(S, MODEL, claimOf(INPUT, OUTPUT), INPUT, OUTPUT, 0, ETHER));
    ok(await r.send(C, "challenge", [1n], ETHER));
    ok(await r.send(D, "challenge", [1n], ETHER));
    d.chain.block = 12n;
    ok(await r.send(C, "timeout", [1n]));
    expect([await r.claimStatus(1), (await r.game(2)).phase]).toEqual([CLAIM_STATUS.rejected, PHASE.ops]);
    expect([await r.balanceOf(C), await r.balanceOf(D), await r.read("escrow")]).toEqual([2n * ETHER, 0n, ETHER]);
    const settled = ok(await r.send(C, "settle", [2n]));
    expect(settled.events).toMatchObject([{ eventName: "GameEnded", args: { winner: WINNER.cancelled } }]);
    expect([await r.balanceOf(D), await r.read("escrow")]).toEqual([ETHER, 0n]);
    await rejects(r, "GameOver", () => r.send(C, "settle", [2n]));
    expect(await r.conserved(Object.values(PARTIES))).toBe(true);
    const paid = await d.chain.etherOf(D);
    ok(await r.send(D, "withdraw", [ETHER]));
    expect([(await d.chain.etherOf(D)) - paid, await r.balanceOf(D), await r.conserved(Object.values(PARTIES))]).toEqual([ETHER, 0n, true]);
  });

  test("requests: one answer at a time, a rejected answer replaced, the fee paid on acceptance", async () => {
    const { d, r } = await fresh();
    const id = toHex(modelId(MODEL));
    const requested = ok(await r.send(D, "request", [id, toHex(INPUT)], 7n));
    expect(requested.events[0]).toMatchObject({ eventName: "Requested", args: { requestId: 1n, fee: 7n, input: toHex(INPUT) } });
    const wrong = claimOf(INPUT, OUTPUT.map((b) => b ^ 1));
    const right = claimOf(INPUT, OUTPUT);
    const answer = (from: Hex, c: Claim, out: Uint8Array): Promise<Outcome> => r.send(from, "answer", [1n, toHex(out), toHex(c.finalMemoryRoot), toHex(c.finalBoundary)], ETHER);
    await rejects(r, "BadClaim", () => answer(S, right, OUTPUT.map((b) => b ^ 1)));
    ok(await answer(S, wrong, OUTPUT.map((b) => b ^ 1))); // claim 1
    expect(await r.read("resultOf", [1n])).toEqual([false, false, "0x"]);
    ok(await r.send(C, "challenge", [1n], ETHER));
    d.chain.block = 12n;
    ok(await r.send(C, "timeout", [1n])); // the wrong answer is rejected
    ok(await answer(C, right, OUTPUT)); // claim 2
    d.chain.block = 40n;
    const before = await r.balanceOf(C);
    ok(await r.send(D, "finalize", [2n]));
    expect([(await r.balanceOf(C)) - before, await r.read("resultOf", [1n])]).toEqual([ETHER + 7n, [true, false, toHex(OUTPUT)]]);
    expect(await r.conserved(Object.values(PARTIES))).toBe(true);
  });

  test("gas per call kind (the Referee's own: a verifier that checks nothing), all under 2^24", async () => {
    const d = await deployReferee(DEV_PARAMS, true);
    const r = new RefereeCalls(d);
    const one = { ...MODEL, segments: 1 };
    ok(await r.registerModel(one));
    const mnistInput = new Uint8Array(3136).map((_, i) => i & 255); // a 28x28 int32 image
    const c = claimOf(mnistInput, OUTPUT, tag("final"), one);
    const gas: Record<string, bigint> = {};
    gas.submit = ok(await r.submit(S, one, c, mnistInput, OUTPUT, 0, ETHER)).gas;
    gas.challenge = ok(await r.send(C, "challenge", [1n], ETHER)).gas;
    const halted: StateFields = { ...trappedState(mnistInput, 0, Status.HALTED), ...claimedFinalBoundary(one, c), segment: 0, step: 1 };
    gas.reveal = ok(await r.send(S, "reveal", [1n, boundaryWords(initialBoundary(one, c.inputRoot, c.inputChunks)), stateWords(halted)])).gas;
    const proved = ok(await r.send(S, "prove", [1n, toHex(new Uint8Array(34 * 32))])); // an arithmetic step's proof size
    gas.proveWithoutVerifier = proved.gas;
    // The identity verifier returns the start state's hash, not the claimed end state: the challenger wins.
    expect(proved.events.at(-1)).toMatchObject({ eventName: "GameEnded", args: { winner: WINNER.challenger } });
    gas.request = ok(await r.send(D, "request", [toHex(modelId(one)), toHex(mnistInput)], 1n)).gas;
    gas.answer = ok(await r.send(S, "answer", [1n, toHex(OUTPUT), toHex(c.finalMemoryRoot), toHex(c.finalBoundary)], ETHER)).gas;
    d.chain.block = 30n;
    gas.finalize = ok(await r.send(D, "finalize", [2n])).gas;
    console.log(`Referee gas, MNIST-sized input (3136 bytes) and 64-byte output:\n${Object.entries(gas).map(([k, v]) => `  ${k.padEnd(21)} ${v}`).join("\n")}`);
    for (const v of Object.values(gas)) expect(v).toBeLessThan(1n << 24n);
  });

  test("MnistConsumer: classify through a request, NotFinal until accepted, then the argmax digit", async () => {
    const { d, r } = await fresh();
    const arts = await loadArtifacts();
    const consumer = await d.chain.deploy(arts.MnistConsumer, [d.referee, toHex(modelId(MODEL))], PARTIES.deployer);
    const use = (fn: string, args: unknown[], value = 0n): Promise<Outcome> => d.chain.send(arts.MnistConsumer.abi, consumer, D, fn, args, value);
    // Ten little-endian int32 scores (negative ones included), digit 6 the largest, padded to whole chunks.
    const scores = [-5, 3, -100000, 7, 0, 6, 900, -1, 899, 2];
    const output = new Uint8Array(64);
    scores.forEach((v, i) => new DataView(output.buffer).setInt32(4 * i, v, true));
    const classified = ok(await use("classify", [toHex(INPUT)], 3n));
    expect(classified.result).toBe(1n);
    expect(await r.read("requests", [1n])).toMatchObject([toHex(modelId(MODEL)), expect.any(String), consumer, 4n, false, 3n, 0n]);
    const c = claimOf(INPUT, output);
    ok(await r.send(S, "answer", [1n, toHex(output), toHex(c.finalMemoryRoot), toHex(c.finalBoundary)], ETHER));
    expect((await use("settle", [1n])).error).toBe("NotFinal");
    d.chain.block = 30n;
    ok(await r.send(D, "finalize", [1n]));
    const settled = ok(await use("settle", [1n]));
    expect(settled.events.at(-1)).toMatchObject({ eventName: "Classified", args: { requestId: 1n, digit: 6 } });
    expect(await d.chain.read(arts.MnistConsumer.abi, consumer, "digitPlusOne", [1n])).toBe(7);
    expect((await use("settle", [2n])).error).toBe("UnknownRequest");
  });
});
