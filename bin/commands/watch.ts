/**
 * `detml watch --model model.wasm [--once]`: the validator (chain/watcher.ts). It follows every
 * claim of the model, recomputes it from a VM run on the claim's input, challenges each claim that
 * differs in any field and plays the game to the end, and defends its own claims. It signs with
 * the challenger's key (DETML_CHALLENGER_KEY, else dev account 1), resumes from chain state after
 * a restart (logs from the deployment block), acts on logs only `--confirmations` blocks deep,
 * prints one line per event (JSON lines with --json) and runs until SIGINT/SIGTERM; `--once`
 * exits when every claim it saw is decided or past its window.
 */
import type { CommandModule } from "yargs";
import { Watcher } from "../../chain/watcher.js";
import { agentHandler, agentOptions, type AgentArgs } from "./serve.js";

export const watchCommand: CommandModule<object, AgentArgs> = {
  command: "watch",
  describe: "Validate the model's claims on chain: challenge every wrong one and win the game",
  builder: (y) => agentOptions(y).example("$0 watch --model mnist.wasm", "Watch the Referee of ./detml-chain.json"),
  handler: agentHandler("watching", (client, runs, opts) => new Watcher(client, runs, opts)),
};
