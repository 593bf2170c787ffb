/**
 * `detml register model.wasm [--chain ... --referee ...]`: register a compiled module's constants
 * (code root and size, memory size, initial memory root, segment count, step budget) with the
 * Referee, signed by the submitter's key. Prints the model id the contract computed, which is the
 * module's one id (the one its manifest names), and the transaction; a model already registered
 * is not registered again.
 */
import type { CommandModule } from "yargs";
import { ensureModel } from "../../chain/worker.js";
import { loadModelRuns, oneLineErrors, openTarget, refereeOptions, type RefereeArgs } from "./chain.js";

interface RegisterArgs extends RefereeArgs {
  model: string;
  "step-budget"?: number;
}

export const registerCommand: CommandModule<object, RegisterArgs> = {
  command: "register <model>",
  describe: "Register a compiled model with the on-chain Referee (prints its model id)",
  builder: (y) =>
    refereeOptions(y)
      .positional("model", { type: "string", demandOption: true, describe: "A compiled detml .wasm" })
      .option("step-budget", { type: "number", describe: "Step budget for a module that does not commit to one" })
      .example("$0 register mnist.wasm", "Register with the Referee of ./detml-chain.json"),
  handler: (args) => oneLineErrors(async () => {
    const runs = loadModelRuns(args.model, args["step-budget"]);
    const { conn, client } = await openTarget(args);
    try {
      const { modelId, tx } = await ensureModel(client, "submitter", runs);
      if (args.json) {
        console.log(JSON.stringify({ model_id: modelId, registered: tx !== undefined, tx: tx?.hash ?? null, gas: tx?.gasUsed.toString() ?? null, referee: client.address }));
      } else {
        console.log(`model ${modelId}`);
        console.log(tx ? `registered in tx ${tx.hash} (gas ${tx.gasUsed}) with the Referee at ${client.address}` : `already registered with the Referee at ${client.address}`);
      }
    } finally {
      await conn.close();
    }
  }),
};
