/**
 * `detml check-proof proof.json`: run the one-step verifier (vm/verifier.ts) on a proof file.
 * Prints the post-state hash when the proof is valid and matches its claim; otherwise fails
 * with the verifier's reason (exit code 1).
 */
import type { CommandModule } from "yargs";
import { readFileOrFail } from "../../lib/model-files.js";
import { checkProofJson, parseProofJson, ProofError, toHex } from "../../vm/index.js";

interface CheckArgs {
  proof: string;
  json: boolean;
}

export const checkProofCommand: CommandModule<object, CheckArgs> = {
  command: "check-proof <proof>",
  describe: "Verify a one-step proof file and print the post-state hash (exit 1 with the reason if it is rejected)",
  builder: (y) =>
    y
      .positional("proof", { type: "string", demandOption: true, describe: "A proof.json written by 'detml prove'" })
      .option("json", { type: "boolean", default: false, describe: "Print the result as JSON" })
      .example("$0 check-proof proof.json", "Check a proof"),
  handler: (args) => {
    const text = new TextDecoder().decode(readFileOrFail(args.proof, "proof file"));
    let post: Uint8Array;
    try {
      post = checkProofJson(text);
    } catch (err) {
      if (err instanceof ProofError) throw new Error(`proof rejected: ${err.message}`);
      throw err;
    }
    const p = parseProofJson(text);
    if (args.json) {
      console.log(JSON.stringify({ valid: true, segment: p.segment, step: p.step, pre_state_hash: toHex(p.preStateHash), post_state_hash: toHex(post) }));
      return;
    }
    console.log(`valid: step ${p.step} of segment ${p.segment}`);
    console.log(`post-state ${toHex(post)}`);
  },
};
