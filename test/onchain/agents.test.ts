/**
 * The on-chain agents as library objects on the embedded chain, in one process: a `Watcher`
 * (validator, dev account 1) against a submitter that defends its claims (a `ModelParty` with the
 * cheater's agent, dev account 0), and a `Worker` serving requests. Two wrong claims and a true
 * one posted at once: both wrong ones are challenged (concurrent transactions from one wallet),
 * their games won and their bonds lost, the true one left alone and finalized. A watcher replaced
 * mid-game by a new object resumes from chain state and wins. A claim is acted on only once
 * `confirmations` blocks are above it; removed by a reorg and replaced by a true one with the
 * same id, it is forgotten and the new one is not challenged. On an input whose run traps, the
 * honest trap claim stands and a result claim is challenged and loses. A worker answers a
 * request, collects the fee after the window, and resultOf returns the output bytes. Every test
 * checks that the contract's ether is its escrow plus the balances.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import type { Hex } from "viem";
import { connectChain, type ChainConnection } from "../../chain/index.js";
import { RefereeClient } from "../../chain/referee-client.js";
import { ModelParty, ModelRuns, Watcher, type PartyEvent, type PartyOptions } from "../../chain/watcher.js";
import { ensureModel, postClaim, Worker } from "../../chain/worker.js";
import { Agent } from "../../dispute/index.js";
import { compile } from "../../compiler/compile.js";
import { packInputs } from "../../abi/tensors.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { buildPickModel } from "../helpers/models.js";
import { loadFixture } from "../dispute/fixtures.js";

const BOND = 10n ** 18n;
// Both parties live in this process: a short wait before a window is mined past (`play` lets the
// watcher look first), and the default grace before a slow mover is timed out (a loaded machine).
const FAST: PartyOptions = { pollMs: 50, windowGraceMs: 400 };

let conn: ChainConnection;
let client: RefereeClient;
let runs: ModelRuns;
const { fixture } = loadFixture("mlp");

beforeAll(async () => {
  conn = await connectChain("local");
  // Degree 16: the fewest moves per game (each transaction on the embedded chain costs ~0.1-0.5 s).
  client = (await RefereeClient.deploy(conn, { bond: BOND, challengeBlocks: 20, moveBlocks: 10, degree: 16 })).client;
  runs = new ModelRuns(fixture.wasm);
  await ensureModel(client, "submitter", runs);
});
afterAll(async () => conn?.close());
// A failed test must not leave its parties polling.
const parties: ModelParty[] = [];
afterEach(async () => {
  await Promise.all(parties.splice(0).map((p) => p.stop()));
});
function track<T extends ModelParty>(p: T): T {
  parties.push(p);
  return p;
}

/** A submitter party that defends each claim with the agent it was posted with (the cheater's, for a cheat). */
function submitterParty(agents: Map<number, Agent>): ModelParty {
  return track(new ModelParty(client, runs, { ...FAST, agentFor: (role, claimId, input) => agents.get(claimId) ?? new Agent(role, runs.view(input)) }));
}

/** The watcher looks at the chain first (so no window closes before it has), then every party runs until settled. */
async function play(first: Watcher, ...others: ModelParty[]): Promise<void> {
  await first.poll();
  await Promise.all([first, ...others].map((p) => p.run({ once: true })));
}

function watcher(events: PartyEvent[]): Watcher {
  return track(new Watcher(client, runs, { ...FAST, onEvent: (e) => events.push(e) }));
}

const accounts = () => [conn.wallet("submitter").account.address, conn.wallet("challenger").account.address, conn.wallet(2).account.address];
const balances = () => Promise.all(accounts().map((a) => client.balanceOf(a)));

async function gamesOf(claimId: number) {
  const logs = await client.logs("Challenged", 0n, await conn.publicClient.getBlockNumber(), { claimId: BigInt(claimId) });
  return Promise.all(logs.map((l) => client.game(Number(l.args.gameId as bigint))));
}

describe("watcher and worker on the embedded chain (MLP)", () => {
  test("two wrong claims and a true one at once: both wrong ones challenged and lose their bonds, the true one finalized", async () => {
    const [s0, c0] = await balances();
    const agents = new Map<number, Agent>();
    for (const cheat of [{ kind: "output" } as const, { kind: "op", op: 0 } as const]) {
      const c = await postClaim(client, "submitter", runs, fixture.input, { cheat });
      agents.set(c.claimId, c.agent);
    }
    const right = await postClaim(client, "submitter", runs, fixture.input);
    const seen: PartyEvent[] = [];
    await play(watcher(seen), submitterParty(agents));
    for (const id of agents.keys()) {
      expect((await client.claim(id)).status).toBe("rejected");
      expect((await gamesOf(id)).map((g) => g.outcome)).toEqual(["challenger"]);
    }
    // Both challenges went out in one poll, so their transactions (and then the games' moves) were in flight together.
    expect(seen.filter((e) => e.event === "challenge").map((e) => e.claimId).sort()).toEqual([...agents.keys()].sort());
    expect(seen.some((e) => e.event === "move" && e.detail?.startsWith("choose"))).toBe(true);
    expect(seen.filter((e) => e.event === "error")).toEqual([]);
    expect((await client.claim(right.claimId)).status).toBe("accepted");
    expect(await gamesOf(right.claimId)).toEqual([]);
    // Bonds are paid with the calls: the cheater's two deposits are gone, its true claim's bond came
    // back; the challenger has its two bonds back and the cheater's two.
    const [s1, c1] = await balances();
    expect([s1 - s0, c1 - c0]).toEqual([BOND, 4n * BOND]);
    expect(await client.conserved(accounts())).toBe(true);
  }, 60_000);

  test("a watcher replaced mid-game by a new object resumes from chain state and wins", async () => {
    const agents = new Map<number, Agent>();
    const wrong = await postClaim(client, "submitter", runs, fixture.input, { cheat: { kind: "op", op: 1 } });
    agents.set(wrong.claimId, wrong.agent);
    const before = watcher([]);
    await before.poll();
    void before.run();
    const defending = submitterParty(agents).run({ once: true });
    // Stop the first watcher once the game has gone a few rounds.
    for (let rounds = 0; rounds < 2;) {
      await new Promise((r) => setTimeout(r, 20));
      const [g] = await gamesOf(wrong.claimId);
      rounds = g?.rounds ?? 0;
    }
    await before.stop();
    const [mid] = await gamesOf(wrong.claimId);
    expect(mid.phase).not.toBe("over");
    const second: PartyEvent[] = [];
    await Promise.all([watcher(second).run({ once: true }), defending]);
    const [game] = await gamesOf(wrong.claimId);
    expect(game.outcome).toBe("challenger");
    expect(second.filter((e) => e.event === "challenge")).toEqual([]); // resumed the game, did not bond again
    expect(second.some((e) => e.event === "move" && e.gameId === game.id)).toBe(true);
    expect(await client.conserved(accounts())).toBe(true);
  }, 60_000);

  test("a reorg: a wrong claim seen (2 confirmations) and challenged, then rewound and replaced by a true claim with the same id", async () => {
    const [, c0] = await balances();
    const snapshot = await conn.snapshot();
    const wrong = await postClaim(client, "submitter", runs, fixture.input, { cheat: { kind: "output" } });
    const seen: PartyEvent[] = [];
    const w = track(new Watcher(client, runs, { ...FAST, confirmations: 2, onEvent: (e) => seen.push(e) }));
    await w.poll();
    await conn.mine(1);
    await w.poll();
    expect(seen.filter((e) => e.claimId === wrong.claimId)).toEqual([]); // one block above the claim is not two
    await conn.mine(1);
    await w.poll();
    expect(seen.some((e) => e.event === "challenge" && e.claimId === wrong.claimId)).toBe(true);
    await conn.revert(snapshot);
    const right = await postClaim(client, "submitter", runs, fixture.input);
    expect(right.claimId).toBe(wrong.claimId);
    await play(w, submitterParty(new Map()));
    expect(seen.some((e) => e.event === "gone" && e.claimId === wrong.claimId)).toBe(true);
    expect((await client.claim(right.claimId)).status).toBe("accepted");
    expect(await gamesOf(right.claimId)).toEqual([]);
    expect((await balances())[1]).toBe(c0);
    expect(await client.conserved(accounts())).toBe(true);
  }, 60_000);

  test("a run that traps (a Gather out of range): the honest trap claim stands, a result claim on that input is challenged and loses", async () => {
    const { wasm, manifest } = compile(buildPickModel());
    const input = packInputs(manifest.inputs, { x: Tensor.fromFloat(Array.from({ length: 8 }, (_, i) => i / 8), [1, 8], 16), idx: Tensor.fromInts([1, 9], [2]) });
    const trapping = new ModelRuns(wasm);
    expect(trapping.view(input).session.run.trap).toBeDefined();
    await ensureModel(client, "submitter", trapping);
    const denial = await postClaim(client, "submitter", trapping, input, { cheat: { kind: "output" } });
    const trap = await postClaim(client, "submitter", trapping, input);
    expect([denial.kind, trap.kind]).toEqual(["result", "trap"]);
    const agents = new Map([[denial.claimId, denial.agent]]);
    const seen: PartyEvent[] = [];
    await play(
      track(new Watcher(client, trapping, { ...FAST, onEvent: (e) => seen.push(e) })),
      track(new ModelParty(client, trapping, { ...FAST, agentFor: (role, id, input) => agents.get(id) ?? new Agent(role, trapping.view(input)) })),
    );
    expect(seen.filter((e) => e.event === "challenge").map((e) => e.claimId)).toEqual([denial.claimId]);
    expect((await client.claim(denial.claimId)).status).toBe("rejected");
    expect((await gamesOf(denial.claimId)).map((g) => g.outcome)).toEqual(["challenger"]);
    expect((await client.claim(trap.claimId)).status).toBe("accepted");
    expect(await gamesOf(trap.claimId)).toEqual([]);
    expect(await client.conserved(accounts())).toBe(true);
  }, 60_000);

  test("a worker answers a request, the fee goes to it after the window, and resultOf returns the output", async () => {
    const fee = 10n ** 17n;
    const [s0] = await balances();
    const { requestId } = await client.request(2, runs.modelId as Hex, fixture.input, fee);
    expect(await client.resultOf(requestId)).toMatchObject({ isFinal: false });
    const served: PartyEvent[] = [];
    await play(watcher([]), track(new Worker(client, runs, { ...FAST, onEvent: (e) => served.push(e) })));
    const answer = served.find((e) => e.event === "answer");
    expect(answer?.requestId).toBe(requestId);
    expect(served.some((e) => e.event === "finalize" && e.claimId === answer?.claimId)).toBe(true);
    expect((await balances())[0] - s0).toBe(BOND + fee);
    const result = await client.resultOf(requestId);
    expect(result).toMatchObject({ isFinal: true, trapped: false });
    expect(result.output).toEqual(runs.view(fixture.input).session.run.output);
    expect(await client.conserved(accounts())).toBe(true);
  }, 60_000);
});
