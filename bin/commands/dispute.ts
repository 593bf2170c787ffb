/**
 * `detml dispute model.wasm --input x.npy [--cheat ...] [--cheat-side submitter|challenger]`:
 * play a whole dispute game in-process (dispute/): one side cheats as told, the honest agent
 * plays the other, the referee decides. Prints the rounds as they happen, the disputed op and
 * step, the deciding proof, the winner and the bond transfers; `--json` prints one object with
 * "winner": "submitter" | "challenger". With `--chain local|anvil|URL` the referee is the
 * Referee contract and every move a transaction (chain/onchain-dispute.ts): each move is printed
 * with its transaction hash and gas, and `--json` adds them. `detml dispute MODEL --prompt "..."
 * --token K` disputes one generated token of a language model instead: it generates on the VM,
 * one chained claim per run, up to token K, and plays the game over the run that produced it (the
 * game of `detml generate --dispute K`, bin/commands/generate.ts, in-process).
 */
import type { CommandModule } from "yargs";
import { HonestView, parseCheat, runDispute, type Cheat, type MoveRecord, type Role } from "../../dispute/index.js";
import { proofToJson, Session, STATE_FIELDS, toHex } from "../../vm/index.js";
import { languageModelShape, generateTokens } from "../../verify/generate.js";
import { chainedVmRunner, disputeGeneratedToken, inputSizes, openModel, runOfToken, vocabularyFor } from "./generate.js";
import { humanCount } from "./options.js";
import { loadVmModel, vmInputOptions, type VmInputArgs } from "./trace.js";

interface DisputeArgs extends VmInputArgs {
  cheat?: string;
  chain?: string;
  referee?: string;
  "cheat-side": Role;
  degree: number;
  json: boolean;
  prompt?: string;
  token?: number;
  vocab?: string;
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
      .option("prompt", { type: "string", describe: "With --token: the text a language model continues (MODEL may then be .onnx, .detml or .wasm)" })
      .option("token", { type: "number", describe: "Dispute generated token K (0 = the first) of --prompt: the game over the chained claim of the run that produced it" })
      .option("vocab", { type: "string", describe: "With --token: the model's vocabulary (default: vocab.json beside the model, else GPT-2's)" })
      .example("$0 dispute mnist.wasm --input digits.npy --cheat op:3", "A submitter who alters op 3 loses to the honest challenger")
      .example("$0 dispute mnist.wasm --input digits.npy --cheat output --chain local", "The same game through transactions on an in-process chain, with the gas of every move")
      .example("$0 dispute mnist.wasm --input digits.npy --cheat output --cheat-side challenger --json", "A challenger disputing a correct output loses")
      .example("$0 dispute small_gpt_kv.onnx --prompt 'A fool' --token 2 --cheat output", "Dispute the claim of generated token 2"),
  handler: async (args) => {
    if (args.token !== undefined || args.prompt !== undefined) return disputeToken(args);
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

/** `dispute --prompt ... --token K`: generate on the VM up to token K, then the game over its run (in-process). */
async function disputeToken(args: DisputeArgs): Promise<void> {
  if (args.token === undefined || args.prompt === undefined) throw new Error("--prompt and --token go together: the game is over generated token K of the prompt's continuation");
  const refused = ["input", "raw-input", "chain", "step-budget"].find((flag) => args[flag as keyof DisputeArgs] !== undefined);
  if (refused) throw new Error(`--${refused} does not go with --token: the runs come from --prompt on the model's own module, and the game is played in-process`);
  const k = args.token;
  if (args.cheat !== undefined) parseCheat(args.cheat); // a bad --cheat fails before any work
  const vocab = await vocabularyFor(args.model, args.vocab);
  const prompt = vocab.encode(args.prompt);
  const opened = openModel(args.model, "vm");
  const { context } = languageModelShape(opened.graph);
  if (prompt.length === 0) throw new Error("--prompt has no tokens");
  const room = context - prompt.length;
  if (!(Number.isInteger(k) && k >= 0 && k < room)) {
    throw new Error(`--token ${k}: ${room > 0 ? `tokens 0..${room - 1} fit` : "no token fits"} in the model's context of ${context} after the ${prompt.length}-token prompt`);
  }
  const started = performance.now();
  const { graph } = opened;
  const { wasm, cacheInModule } = opened.module();
  const { chain, run } = chainedVmRunner(wasm, args.model);
  const generation = await generateTokens(graph, run, prompt, k + 1, { cacheInModule });
  const t = runOfToken(graph, prompt.length, k);
  const r = disputeGeneratedToken(chain, graph, prompt.length, k, { cheat: args.cheat, cheatSide: args["cheat-side"], degree: args.degree });
  const ms = performance.now() - started;
  const summary = {
    module: args.model, prompt: args.prompt, prompt_tokens: generation.prompt, tokens: generation.tokens, token: k, token_id: generation.tokens[k], text: vocab.decode([generation.tokens[k]]),
    run: t, parent_run: t === 0 ? null : t - 1, runs: chain.runs.length, input_bytes: chain.runs[t].input.length, steps: chain.runs[t].steps,
    cheat: args.cheat ?? null, cheat_side: args.cheat ? args["cheat-side"] : null, winner: r.winner, reason: r.reason, rounds: r.rounds, moves: r.moves,
    disputed: r.segment === undefined ? null : { op: r.segment, step: r.step ?? null }, conserved: r.conserved, ms: Number(ms.toFixed(1)),
  };
  if (args.json) {
    console.log(JSON.stringify(summary));
    return;
  }
  console.log(`${args.model}: ${JSON.stringify(args.prompt + vocab.decode(generation.tokens))} on the VM, ${chain.runs.length} runs as chained claims, input ${inputSizes(chain)} per run`);
  console.log(`token ${k} (${JSON.stringify(summary.text)}, id ${summary.token_id}) came from run ${t}${t > 0 ? `, whose claim names run ${t - 1}'s as parent` : ""}: ${humanCount(summary.steps)} VM steps`);
  console.log(args.cheat ? `the ${args["cheat-side"]} cheats (${args.cheat}); the other side plays honestly` : "both sides are honest");
  if (r.segment !== undefined) console.log(`disputed op: ${r.segment}${r.step !== undefined ? `, step ${r.step}` : ""}`);
  console.log(`${r.rounds} bisection rounds, ${r.moves} moves, ${ms.toFixed(0)} ms`);
  console.log(`winner: ${r.winner} (${r.reason})`);
}

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
