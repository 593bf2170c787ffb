/**
 * `detml submit model.wasm --input x.npy [--cheat output|op:K|...] [--request ID] [--wait]`:
 * post the claim of a VM run with its bond, signed by the submitter's key: the module is
 * registered first if it is not, the run gives the output bytes, final memory root and final
 * boundary (or the trapped state of a run that traps), and the claim goes out as a claim of its
 * own or, with `--request`, as the answer to that request (whose input, taken from its event, is
 * the one run). A cheat posts a dishonest claim, for demos and tests, as `detml dispute --cheat`
 * does. Prints the claim id, transaction and gas. It does not wait for the challenge window: a
 * worker or a watcher with the same key defends the claim; `--wait` does that here, playing every
 * game over it and finalizing it once the window has closed.
 */
import type { CommandModule } from "yargs";
import { Agent, parseCheat } from "../../dispute/index.js";
import { ModelParty, ModelRuns } from "../../chain/watcher.js";
import { ensureModel, postClaim, requestInput } from "../../chain/worker.js";
import { loadVmModel, vmInputOptions, type VmInputArgs } from "./trace.js";
import { eventPrinter, loadModelRuns, oneLineErrors, openTarget, refereeOptions, untilSignal, type RefereeArgs } from "./chain.js";

interface SubmitArgs extends VmInputArgs, RefereeArgs {
  cheat?: string;
  request?: number;
  wait: boolean;
}

export const submitCommand: CommandModule<object, SubmitArgs> = {
  command: "submit <model>",
  describe: "Post the claim of a VM run (with its bond) to the on-chain Referee, or answer a request",
  builder: (y) =>
    refereeOptions(vmInputOptions(y))
      .option("cheat", { type: "string", describe: "Post a dishonest claim (for demos and tests): output | op:K | step:N | round:R | random[:SEED] | stall[:M]" })
      .option("request", { type: "number", describe: "Answer this request (its input comes from the chain)" })
      .option("wait", { type: "boolean", default: false, describe: "Defend the claim in every game and finalize it after the window" })
      .example("$0 submit mnist.wasm --input digits.npy --sample 3", "Claim the output for digit 3")
      .example("$0 submit mnist.wasm --input digits.npy --cheat output --wait", "A wrong claim, defended here: a watcher takes its bond"),
  handler: (args) => oneLineErrors(async () => {
    const cheat = args.cheat === undefined ? undefined : parseCheat(args.cheat);
    if (args.request !== undefined && (args.input?.length || args["raw-input"] !== undefined)) throw new Error("--request answers on the request's own input: drop --input / --raw-input");
    if (args.request !== undefined && !(Number.isSafeInteger(args.request) && args.request > 0)) throw new Error(`--request ${args.request} is not a request id`);
    const loaded = args.request === undefined ? loadVmModel(args) : undefined;
    const runs = loaded ? new ModelRuns(loaded.bytes, loaded.decode) : loadModelRuns(args.model, args["step-budget"]);
    const { conn, client, confirmations } = await openTarget(args);
    try {
      const input = loaded?.input ?? await requestInput(client, runs, args.request!);
      const registered = await ensureModel(client, "submitter", runs);
      const posted = await postClaim(client, "submitter", runs, input, { cheat, requestId: args.request });
      const summary = {
        claim_id: posted.claimId, kind: posted.kind, model_id: runs.modelId, request_id: args.request ?? null, cheat: args.cheat ?? null,
        tx: posted.tx.hash, gas: posted.tx.gasUsed.toString(), registered_tx: registered.tx?.hash ?? null, referee: client.address,
      };
      if (!args.json) {
        if (registered.tx) console.log(`registered model ${runs.modelId} in tx ${registered.tx.hash} (gas ${registered.tx.gasUsed})`);
        const what = args.request === undefined ? `claim ${posted.claimId}` : `claim ${posted.claimId} answering request ${args.request}`;
        console.log(`${what}: ${posted.kind}${cheat ? ` (dishonest: ${args.cheat})` : ""}, tx ${posted.tx.hash}, gas ${posted.tx.gasUsed}`);
      }
      if (!args.wait) {
        if (args.json) console.log(JSON.stringify(summary));
        return;
      }
      const party = new ModelParty(client, runs, {
        confirmations,
        agentFor: (role, claimId, claimInput) => (claimId === posted.claimId ? posted.agent : new Agent(role, runs.view(claimInput))),
        onEvent: args.json ? undefined : eventPrinter(false),
      });
      const signal = untilSignal(() => void party.stop());
      await party.run({ once: true });
      signal.cancel();
      const status = (await client.claim(posted.claimId)).status;
      if (args.json) console.log(JSON.stringify({ ...summary, status }));
      else console.log(`claim ${posted.claimId}: ${status}`);
    } finally {
      await conn.close();
    }
  }),
};
