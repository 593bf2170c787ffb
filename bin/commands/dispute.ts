/**
 * `detml dispute model.wasm --input x.npy [--cheat ...] [--cheat-side submitter|challenger]`:
 * play a whole dispute game in-process (dispute/): one side cheats as told, the honest agent
 * plays the other, the referee decides. Prints the rounds as they happen, the disputed op and
 * step, the deciding proof, the winner and the bond transfers; `--json` prints one object with
 * "winner": "submitter" | "challenger".
 */
import type { CommandModule } from "yargs";
import { HonestView, parseCheat, runDispute, type MoveRecord, type Role } from "../../dispute/index.js";
import { proofToJson, Session, STATE_FIELDS, toHex } from "../../vm/index.js";
import { humanCount } from "./options.js";
import { loadVmModel, vmInputOptions, type VmInputArgs } from "./trace.js";

interface DisputeArgs extends VmInputArgs {
  cheat?: string;
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
      .example("$0 dispute mnist.wasm --input digits.npy --cheat op:3", "A submitter who alters op 3 loses to the honest challenger")
      .example("$0 dispute mnist.wasm --input digits.npy --cheat output --cheat-side challenger --json", "A challenger disputing a correct output loses"),
  handler: (args) => {
    const cheat = args.cheat === undefined ? undefined : parseCheat(args.cheat);
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
