/**
 * `detml dispute model.wasm --input x.npy [--cheat ...] [--cheat-side submitter|challenger]`:
 * play a whole dispute game in-process (dispute/): one side cheats as told, the honest agent
 * plays the other, the referee decides. Prints the rounds as they happen, the disputed op and
 * step, the deciding proof, the winner and the bond transfers; `--json` prints one object with
 * "winner": "submitter" | "challenger". With `--chain local|anvil|URL` the referee is the
 * Referee contract and every move a transaction (chain/onchain-dispute.ts): each move is printed
 * with its transaction hash and gas, and `--json` adds them.
 */
import type { CommandModule } from "yargs";
import { HonestView, parseCheat, runDispute, type Cheat, type MoveRecord, type Role } from "../../dispute/index.js";
import { proofToJson, Session, STATE_FIELDS, toHex } from "../../vm/index.js";
import { humanCount } from "./options.js";
import { loadVmModel, vmInputOptions, type VmInputArgs } from "./trace.js";

interface DisputeArgs extends VmInputArgs {
  cheat?: string;
  chain?: string;
  referee?: string;
  "cheat-side": Role;
  degree: number;
  json: boolean;
}

function describeMove(m: MoveRecord, names: (k: number) => string): string {
  const where = m.phase === "ops" ? `ops ${names(m.lo)}..${names(m.hi)}` : m.phase === "reveal" ? `op ${names(m.lo)}` : `steps ${m.lo}..${m.hi}`;
  const what = m.kind === "timeout" ? "does not move" : `${m.kind} (${m.bytes} bytes)`;
  return `block ${String(m.block).padStart(4)}  ${m.role.padEnd(10)} ${what.padEnd(22)} ${where}${m.rejected ? `  REJECTED ${m.rejected}` : ""}`;
}

export const disputeCommand: CommandModule<object, DisputeArgs> = {
  command: "dispute <model>",
  describe: "Play a dispute game (bisection over ops, then VM steps, then a one-step proof) between a cheater and the honest agent",
  builder: (y) =>
    vmInputOptions(y)
      .option("cheat", { type: "string", describe: "How the dishonest side cheats: output | op:K | step:N | round:R | random[:SEED] | stall[:M] (none: both honest)" })
      .option("cheat-side", { choices: ["submitter", "challenger"] as const, default: "submitter" as Role, describe: "Which side cheats" })
      .option("degree", { type: "number", default: 4, describe: "Bisection degree: sub-intervals per round (2 = binary)" })
      .option("json", { type: "boolean", default: false, describe: "Print the result as JSON" })
      .option("chain", { type: "string", describe: "Play through transactions: local (an in-process chain), anvil (started and stopped here) or a JSON-RPC URL (keys from DETML_PRIVATE_KEY and DETML_CHALLENGER_KEY)" })
      .option("referee", { type: "string", describe: "With --chain: the Referee contract to use (default: deploy a new StepVerifier and Referee)" })
      .example("$0 dispute mnist.wasm --input digits.npy --cheat op:3", "A submitter who alters op 3 loses to the honest challenger")
      .example("$0 dispute mnist.wasm --input digits.npy --cheat output --chain local", "The same game through transactions on an in-process chain, with the gas of every move")
      .example("$0 dispute mnist.wasm --input digits.npy --cheat output --cheat-side challenger --json", "A challenger disputing a correct output loses"),
  handler: async (args) => {
    const cheat = args.cheat === undefined ? undefined : parseCheat(args.cheat);
    if (args.referee !== undefined && args.chain === undefined) throw new Error("--referee needs --chain");
    if (args.chain !== undefined) return disputeThroughChain(args, cheat);
    const { bytes, input, decode } = loadVmModel(args);
    const started = performance.now();
    const session = new Session(bytes, input, decode);
    const view = new HonestView(session);
    // Steps of segment k, traced in the VM on demand: a game traces only the ops it disputes.
    const opSteps = (k: number): number => session.traceSegment(k).steps;
    const trap = session.run.trap;
    const names = (k: number): string => (k < session.segmentCount ? `${k} (${session.mod.segments[k].export})` : `${k} (end)`);
    if (!args.json) {
      console.log(`${args.model}: ${session.segmentCount} ops (segments), the VM ran ${humanCount(session.run.totalSteps)} steps in ${session.run.ms.toFixed(0)} ms; bisection degree ${args.degree}`);
      console.log(cheat ? `the ${args["cheat-side"]} cheats (${args.cheat}); the other side plays honestly` : "both sides are honest");
      if (trap) console.log(`the run traps in op ${names(trap.segment)} (${trap.message}): the honest claim is that it traps`);
    }
    const r = runDispute(view, {
      cheat, cheatSide: args["cheat-side"], params: { degree: args.degree },
      onMove: args.json ? undefined : (m) => console.log(describeMove(m, names)),
    });
    const ms = performance.now() - started;
    const proof = r.proof && r.segment !== undefined && r.step !== undefined
      ? { bytes: r.proof.bytes, pre_state_hash: toHex(r.proof.preStateHash), instruction: r.step < opSteps(r.segment) ? proofToJson(session.prove(r.segment, r.step)).instruction : `(stopped state: ${STATE_FIELDS.length} words)` }
      : undefined;
    const bonds = Object.fromEntries((["submitter", "challenger"] as const).map((k) => [k, {
      before: r.balances[k].before.toString(), after: r.balances[k].after.toString(), change: (r.balances[k].after - r.balances[k].before).toString(),
    }]));
    if (args.json) {
      console.log(JSON.stringify({
        module: args.model, segments: session.segmentCount, degree: args.degree,
        cheat: args.cheat ?? null, cheat_side: cheat ? args["cheat-side"] : null, traps: trap ? { op: trap.segment, export: session.mod.segments[trap.segment].export, message: trap.message } : null,
        challenged: r.challenged, winner: r.winner, reason: r.reason,
        rounds: r.rounds, moves: r.moves.length, move_bytes: r.moveBytes,
        disputed: r.segment === undefined ? null : { op: r.segment, export: session.mod.segments[r.segment].export, step: r.step ?? null, op_steps: opSteps(r.segment) },
        proof: proof ?? null, bonds, conserved: r.conserved, ms: Number(ms.toFixed(1)),
      }));
      return;
    }
    if (r.segment !== undefined) console.log(`disputed op: ${names(r.segment)}${r.step !== undefined ? `, step ${r.step} of ${opSteps(r.segment)}` : ""}`);
    if (proof) console.log(`proof: ${proof.bytes} bytes (${proof.bytes / 32} words), ${proof.instruction}, from state ${proof.pre_state_hash}`);
    console.log(`${r.rounds} bisection rounds, ${r.moves.length} moves, ${r.moveBytes} bytes of moves${proof ? ` (proof included)` : ""}, ${ms.toFixed(0)} ms`);
    console.log(`winner: ${r.winner} (${r.reason})`);
    for (const [k, b] of Object.entries(bonds)) console.log(`  ${k.padEnd(10)} ${b.before} -> ${b.after} (${b.change.startsWith("-") ? b.change : `+${b.change}`})`);
  },
};

/** `dispute --chain`: the same game with the Referee contract deciding, move by move in transactions. */
async function disputeThroughChain(args: DisputeArgs, cheat: Cheat | undefined): Promise<void> {
  const { bytes, input, decode } = loadVmModel(args);
  const session = new Session(bytes, input, decode);
  const view = new HonestView(session);
  const { connectChain, RefereeClient, DEV_REFEREE_PARAMS, disputeOnChain } = await import("../../chain/index.js");
  const conn = await connectChain(args.chain!);
  try {
    const client = args.referee !== undefined ? await RefereeClient.attach(conn, args.referee as `0x${string}`) : undefined;
    if (!args.json) {
      console.log(`${args.model}: ${session.segmentCount} ops, ${humanCount(session.run.totalSteps)} VM steps; chain ${args.chain} (chain id ${conn.chainId})`);
      console.log(cheat ? `the ${args["cheat-side"]} cheats (${args.cheat}); the other side plays honestly` : "both sides are honest");
    }
    const r = await disputeOnChain(conn, view, input, {
      cheat, cheatSide: args["cheat-side"], client, params: { ...DEV_REFEREE_PARAMS, degree: args.degree },
      onTx: args.json ? undefined : (t) => console.log(`${t.role.padEnd(10)} ${t.what.padEnd(13)} ${t.txHash}  gas ${String(t.gasUsed).padStart(7)}  ${String(t.calldataBytes).padStart(5)} calldata bytes${t.rejected ? `  REJECTED ${t.rejected}` : ""}`),
    });
    const gasBy = (role: Role) => r.transactions.filter((t) => t.role === role).reduce((a, t) => a + t.gasUsed, 0n);
    const bonds = Object.fromEntries((["submitter", "challenger"] as const).map((k) => [k, {
      before: r.balances[k].before.toString(), after: r.balances[k].after.toString(), change: (r.balances[k].after - r.balances[k].before).toString(),
    }]));
    if (args.json) {
      console.log(JSON.stringify({
        module: args.model, chain: args.chain, chain_id: conn.chainId, referee: r.referee, model_id: r.modelId, claim: r.claimId, game: r.gameId ?? null,
        cheat: args.cheat ?? null, cheat_side: cheat ? args["cheat-side"] : null, challenged: r.challenged, winner: r.winner, outcome: r.outcome, rounds: r.rounds,
        transactions: r.transactions.map((t) => ({ role: t.role, move: t.what, tx: t.txHash, gas: Number(t.gasUsed), calldata_bytes: t.calldataBytes, rejected: t.rejected ?? null })),
        gas: { submitter: Number(gasBy("submitter")), challenger: Number(gasBy("challenger")) }, bonds, conserved: r.conserved, blocks: r.blocks, ms: r.wallMs,
      }));
      return;
    }
    console.log(`${r.rounds} bisection rounds, ${r.transactions.length} transactions over ${r.blocks} blocks, ${r.wallMs} ms; gas: submitter ${gasBy("submitter")}, challenger ${gasBy("challenger")}`);
    console.log(`winner: ${r.winner} (${r.outcome}); Referee ${r.referee}`);
    for (const [k, b] of Object.entries(bonds)) console.log(`  ${k.padEnd(10)} ${b.before} -> ${b.after} wei (${b.change.startsWith("-") ? b.change : `+${b.change}`})`);
  } finally {
    await conn.close();
  }
}
