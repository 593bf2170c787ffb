/**
 * `detml check-proof proof.json`: run the one-step verifier (vm/spec/verifier.ts) on a proof file.
 * When the proof is valid and matches its claim, prints what it proves, all of it decoded from
 * the verified words (the segment, step, status and pc of the pre-state words, the instruction
 * word proven against their code root) and the two state hashes; otherwise fails with the
 * verifier's reason (exit code 1). The file's annotations (segment, step, instruction, labels)
 * are never read: an edited annotation cannot make the command report something the proof does
 * not prove, and a proof whose annotations are wrong is still the valid proof its words are.
 */
import type { CommandModule } from "yargs";
import { readFileOrFail } from "../../lib/model-files.js";
import { ProofError, Status, statusText, toHex } from "../../vm/index.js";
import { checkProofJson, describeInstruction, type ProvenStep } from "../../vm/proof-codec.js";

interface CheckArgs {
  proof: string;
  json: boolean;
}

/** One line saying what the step does, from the proof's own words. */
function whatHappens(p: ProvenStep): string {
  if (p.instruction) return describeInstruction(p.instruction);
  if (p.status !== Status.RUNNING) return `nothing: the machine is stopped (${statusText(p.status)}), the post-state is the pre-state`;
  return `no instruction: the segment has used its step budget of ${p.stepBudget}, so the step traps`;
}

export const checkProofCommand: CommandModule<object, CheckArgs> = {
  command: "check-proof <proof>",
  describe: "Verify a one-step proof file and print what it proves (exit 1 with the reason if it is rejected)",
  builder: (y) =>
    y
      .positional("proof", { type: "string", demandOption: true, describe: "A proof.json written by 'detml prove'" })
      .option("json", { type: "boolean", default: false, describe: "Print the result as JSON" })
      .example("$0 check-proof proof.json", "Check a proof")
      .epilogue(
        "Only the proof's words and its pre- and post-state hashes are read. The segment, step, status, pc and instruction " +
        "printed are decoded from the verified words; the file's own segment, step, instruction and labels are annotations " +
        "for people and are ignored (not checked, not printed).",
      ),
  handler: (args) => {
    const text = new TextDecoder().decode(readFileOrFail(args.proof, "proof file"));
    let p: ProvenStep;
    try {
      p = checkProofJson(text);
    } catch (err) {
      if (err instanceof ProofError) throw new Error(`proof rejected: ${err.message}`);
      throw err;
    }
    if (args.json) {
      console.log(JSON.stringify({
        valid: true, segment: p.segment, step: p.step, pc: p.pc, status: statusText(p.status),
        instruction: p.instruction ? describeInstruction(p.instruction) : null,
        pre_state_hash: toHex(p.preStateHash), post_state_hash: toHex(p.postStateHash),
      }));
      return;
    }
    console.log(`valid: step ${p.step} of segment ${p.segment} at pc ${p.pc}: ${whatHappens(p)}`);
    console.log(`pre-state  ${toHex(p.preStateHash)}`);
    console.log(`post-state ${toHex(p.postStateHash)}`);
  },
};
