/**
 * `detml serve --model model.wasm [--once]`: the worker (chain/worker.ts). It follows the
 * Requested events of the model, answers each open request whose answer is missing or rejected
 * with the honest claim of a VM run on the request's input, defends its claims in every game and
 * finalizes them after the window, which pays it the fee. It signs with the submitter's key
 * (DETML_PRIVATE_KEY, else dev account 0), prints one line per event (JSON lines with --json) and
 * runs until SIGINT/SIGTERM; `--once` exits when what is on the chain is served and its claims
 * are final.
 */
import type { CommandModule } from "yargs";
import { Worker } from "../../chain/worker.js";
import { eventPrinter, loadModelRuns, oneLineErrors, openTarget, refereeOptions, untilSignal, type RefereeArgs } from "./chain.js";

export interface AgentArgs extends RefereeArgs {
  model: string;
  "step-budget"?: number;
  once: boolean;
}

/** The options serve and watch share besides the chain's. */
export function agentOptions<T>(y: import("yargs").Argv<T>) {
  return refereeOptions(y)
    .option("model", { type: "string", demandOption: true, describe: "The compiled detml .wasm whose claims to serve or watch" })
    .option("step-budget", { type: "number", describe: "Step budget for a module that does not commit to one" })
    .option("once", { type: "boolean", default: false, describe: "Exit when everything on the chain is decided (for tests and scripts)" });
}

/** An agent the serve and watch commands run until a signal (or, with --once, until all is decided). */
interface RunningAgent {
  readonly address: string;
  run(opts: { once: boolean }): Promise<void>;
  stop(): void;
}

/** The handler serve and watch share: open the chain, make the agent, run it, close. */
export function agentHandler(verb: string, make: (client: Awaited<ReturnType<typeof openTarget>>["client"], runs: ReturnType<typeof loadModelRuns>, opts: { confirmations: number; onEvent: ReturnType<typeof eventPrinter> }) => RunningAgent) {
  return (args: AgentArgs) => oneLineErrors(async () => {
    const runs = loadModelRuns(args.model, args["step-budget"]);
    const { conn, client, confirmations } = await openTarget(args);
    try {
      const agent = make(client, runs, { confirmations, onEvent: eventPrinter(args.json) });
      if (!args.json) console.log(`${verb} model ${runs.modelId} on ${conn.url} as ${agent.address} (Referee ${client.address})`);
      const signal = untilSignal(() => void agent.stop());
      await agent.run({ once: args.once });
      signal.cancel();
    } finally {
      await conn.close();
    }
  });
}

export const serveCommand: CommandModule<object, AgentArgs> = {
  command: "serve",
  describe: "Answer the model's inference requests on chain, defend the answers and collect the fees",
  builder: (y) => agentOptions(y).example("$0 serve --model mnist.wasm", "Serve requests for the Referee of ./detml-chain.json"),
  handler: agentHandler("serving", (client, runs, opts) => new Worker(client, runs, opts)),
};
