/**
 * `detml prove model.wasm --input x.npy --step N -o proof.json`: the one-step proof of VM step N
 * of a run (counted over the whole run, or within segment K with --segment K), written as
 * proof.json (0x-hex words in the order the verifier reads them) and optionally as the raw
 * binary word stream (--bin). Prints the step's instruction, the pre- and post-state hashes and
 * the proof size.
 */
import { writeFileSync } from "node:fs";
import type { CommandModule } from "yargs";
import { proofBytes, proofToJson, Session, toHex } from "../../vm/index.js";
import { loadVmModel, vmInputOptions, type VmInputArgs } from "./trace.js";

interface ProveArgs extends VmInputArgs {
  step: number;
  segment?: number;
  output: string;
  bin?: string;
  json: boolean;
}

export const proveCommand: CommandModule<object, ProveArgs> = {
  command: "prove <model>",
  describe: "Write the one-step proof of VM step N of a run (proof.json for check-proof and the referee)",
  builder: (y) =>
    vmInputOptions(y)
      .option("step", { type: "number", demandOption: true, describe: "Step to prove: the transition from state N to state N+1 (over the whole run, or within --segment)" })
      .option("segment", { type: "number", describe: "Count --step within this segment (0 = load_inputs, k+1 = op_k, last = store_outputs)" })
      .option("output", { alias: "o", type: "string", default: "proof.json", describe: "Where to write proof.json" })
      .option("bin", { type: "string", describe: "Also write the binary proof (the verifier's input) to this path" })
      .option("json", { type: "boolean", default: false, describe: "Print the result as JSON" })
      .example("$0 prove mnist.wasm -i digit.npy --step 5000000 -o proof.json", "Prove one step of a LeNet run"),
  handler: (args) => {
    if (!Number.isSafeInteger(args.step) || args.step < 0) throw new Error(`--step must be a non-negative integer, got ${args.step}`);
    const { bytes, input, mod, decode } = loadVmModel(args);
    const started = performance.now();
    const session = new Session(bytes, input, decode);
    const where = args.segment === undefined ? session.locate(args.step) : { segment: args.segment, step: args.step };
    const proof = session.prove(where.segment, where.step);
    const ms = performance.now() - started;
    const json = proofToJson(proof, mod.segments[where.segment].export);
    writeFileSync(args.output, `${JSON.stringify(json, null, 1)}\n`);
    if (args.bin) writeFileSync(args.bin, proofBytes(proof));
    if (args.json) {
      console.log(JSON.stringify({ output: args.output, segment: where.segment, step: where.step, instruction: json.instruction,
        pre_state_hash: json.preStateHash, post_state_hash: json.postStateHash, words: json.words.length, bytes: json.words.length * 32, ms: Number(ms.toFixed(3)) }));
      return;
    }
    console.log(`step ${where.step} of segment ${where.segment} (${mod.segments[where.segment].export}): ${json.instruction}`);
    console.log(`pre-state  ${toHex(proof.preHash)}`);
    console.log(`post-state ${toHex(proof.postHash)}`);
    console.log(`proof ${json.words.length} words (${json.words.length * 32} bytes) in ${ms.toFixed(1)} ms; wrote ${args.output}${args.bin ? ` and ${args.bin}` : ""}`);
  },
};
