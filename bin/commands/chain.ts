/**
 * `detml chain [--port N] [--json] [--out detml-chain.json] [--bond ETH --challenge-blocks N
 * --move-blocks N --degree D] [--block-time S]`: a local chain for the on-chain commands. Starts
 * anvil on 127.0.0.1 (Osaka, the EIP-7825 gas cap enforced), deploys the StepVerifier and the
 * Referee, prints the RPC URL, chain id, addresses, parameters and the accounts that sign, writes
 * the deployment file the other commands read, and stays up until SIGINT/SIGTERM, then stops
 * anvil; `--json` prints the same as one JSON object. Without `--block-time` anvil mines only
 * when a transaction comes, and the agents mine past windows and deadlines themselves when they
 * wait on them (chain/watcher.ts). Also home of what register, submit, serve and watch share:
 * the options that name the chain and Referee (`refereeOptions`, opened by `openTarget`), loading
 * a module's honest runs (`loadModelRuns`), printing agent events as lines or JSON lines, stopping
 * on a signal, and keeping a failure's message to one line (`oneLineErrors`).
 */
import type { Argv, CommandModule } from "yargs";
import { connectChain } from "../../chain/connect.js";
import { DEFAULT_DEPLOYMENT_FILE, deploymentRecord, formatEth, openReferee, parseEth, writeDeployment, type Target } from "../../chain/deployment.js";
import { DEV_REFEREE_PARAMS, RefereeClient, type ChainRefereeParams } from "../../chain/referee-client.js";
import { eventJson, formatEvent, ModelRuns, type PartyEvent } from "../../chain/watcher.js";
import { checkOutputFolder } from "./options.js";
import { loadVmModule } from "./trace.js";

export interface RefereeArgs {
  chain?: string;
  referee?: string;
  deployment?: string;
  confirmations?: number;
  json: boolean;
}

/** The options of every command that talks to a deployed Referee. */
export function refereeOptions<T>(y: Argv<T>) {
  return y
    .option("chain", { type: "string", describe: "The http(s) URL of a JSON-RPC node, or anvil: the one detml chain started (the default, from the deployment file)" })
    .option("referee", { type: "string", describe: "The Referee's address (default: env DETML_REFEREE, then the deployment file's)" })
    .option("deployment", { type: "string", describe: `The deployment file detml chain wrote (default ./${DEFAULT_DEPLOYMENT_FILE})` })
    .option("confirmations", { type: "number", describe: "Blocks above a log before it is acted on (default 0 on dev chains, 2 elsewhere)" })
    .option("json", { type: "boolean", default: false, describe: "Print JSON (one object, or one per line for a running agent)" });
}

export function openTarget(args: RefereeArgs): Promise<Target> {
  return openReferee({ chain: args.chain, referee: args.referee, deployment: args.deployment, confirmations: args.confirmations });
}

/** A compiled module's honest runs (with its weights image); a canonical build's manifest must name the module's id. */
export function loadModelRuns(path: string, stepBudget?: number): ModelRuns {
  const { bytes, decode } = loadVmModule(path, stepBudget);
  return new ModelRuns(bytes, decode);
}

/** Runs a handler, keeping viem's short message of a failure: its full messages run over many lines. */
export async function oneLineErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    const short = (e as { shortMessage?: string }).shortMessage;
    if (short) throw new Error(short.split("\n")[0]);
    throw e;
  }
}

/** Prints agent events: one line each, or one JSON object per line. */
export function eventPrinter(json: boolean): (e: PartyEvent) => void {
  return (e) => console.log(json ? eventJson(e) : formatEvent(e));
}

/** Resolves on the first SIGINT or SIGTERM (then removes its listeners). */
export function untilSignal(onSignal: () => void = () => {}): { done: Promise<void>; cancel: () => void } {
  let cancel = () => {};
  const done = new Promise<void>((resolve) => {
    const handler = () => {
      cancel();
      onSignal();
      resolve();
    };
    process.once("SIGINT", handler);
    process.once("SIGTERM", handler);
    cancel = () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    };
  });
  return { done, cancel };
}

interface ChainArgs {
  port?: number;
  json: boolean;
  out: string;
  bond: string;
  "challenge-blocks": number;
  "move-blocks": number;
  degree: number;
  "block-time"?: number;
}

function positiveInteger(value: number, flag: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${flag} ${value} is not a positive whole number`);
  return value;
}

async function referee(args: ChainArgs): Promise<ChainRefereeParams> {
  const bond = await parseEth(args.bond, "--bond");
  if (!Number.isInteger(args.degree) || args.degree < 2 || args.degree > 16) throw new Error(`--degree ${args.degree} must be a whole number from 2 to 16`);
  return { bond, challengeBlocks: positiveInteger(args["challenge-blocks"], "--challenge-blocks"), moveBlocks: positiveInteger(args["move-blocks"], "--move-blocks"), degree: args.degree };
}

export const chainCommand: CommandModule<object, ChainArgs> = {
  command: "chain",
  describe: "Start a local chain (anvil) with the StepVerifier and Referee deployed, for register, submit, serve and watch",
  builder: (y) =>
    y
      .option("port", { type: "number", describe: "Port of the RPC endpoint on 127.0.0.1 (default: a free one)" })
      .option("json", { type: "boolean", default: false, describe: "Print one JSON object (then stay up)" })
      .option("out", { type: "string", default: DEFAULT_DEPLOYMENT_FILE, describe: "Where to write the deployment file" })
      .option("bond", { type: "string", default: "1", describe: "Bond of every claim and challenge, in ETH" })
      .option("challenge-blocks", { type: "number", default: DEV_REFEREE_PARAMS.challengeBlocks, describe: "Blocks a claim can be challenged" })
      .option("move-blocks", { type: "number", default: DEV_REFEREE_PARAMS.moveBlocks, describe: "Blocks each party has per move" })
      .option("degree", { type: "number", default: DEV_REFEREE_PARAMS.degree, describe: "Bisection degree (2..16)" })
      .option("block-time", { type: "number", describe: "Mine a block every N seconds (default: only when a transaction comes)" })
      .example("$0 chain", "Start a chain and write ./detml-chain.json; the other commands find it there")
      .example("$0 chain --json --port 8545 --challenge-blocks 100", "A wider challenge window, as JSON"),
  handler: (args) => oneLineErrors(async () => {
    const params = await referee(args);
    if (args.port !== undefined) positiveInteger(args.port, "--port");
    const blockTime = args["block-time"] === undefined ? [] : ["--block-time", String(positiveInteger(args["block-time"], "--block-time"))];
    checkOutputFolder(args.out);
    const conn = await connectChain("anvil", { anvil: { port: args.port, args: blockTime } });
    try {
      const { verifier, referee: deployed } = await RefereeClient.deploy(conn, params);
      const record = deploymentRecord(conn.chainId, conn.url!, deployed.address, verifier.address, verifier.blockNumber, params);
      writeDeployment(args.out, record);
      const accounts = { submitter: conn.wallet("submitter").account.address, challenger: conn.wallet("challenger").account.address };
      if (args.json) {
        console.log(JSON.stringify({ ...record, runtimeBytes: { referee: deployed.runtimeBytes, verifier: verifier.runtimeBytes }, accounts, deployment: args.out }));
      } else {
        console.log(`anvil at ${record.url} (chain id ${record.chainId}, Osaka)`);
        console.log(`  StepVerifier  ${verifier.address} (${verifier.runtimeBytes} bytes)`);
        console.log(`  Referee       ${deployed.address} (${deployed.runtimeBytes} bytes), block ${record.deployBlock}`);
        console.log(`  parameters    bond ${await formatEth(params.bond)} ETH, challenge window ${params.challengeBlocks} blocks, ${params.moveBlocks} blocks per move, degree ${params.degree}`);
        console.log(`  submitter     ${accounts.submitter} (DETML_PRIVATE_KEY, else dev account 0): register, submit, serve`);
        console.log(`  challenger    ${accounts.challenger} (DETML_CHALLENGER_KEY, else dev account 1): watch`);
        console.log(`wrote ${args.out}; Ctrl-C stops the chain`);
      }
      await untilSignal().done;
    } finally {
      await conn.close();
    }
  }),
};
