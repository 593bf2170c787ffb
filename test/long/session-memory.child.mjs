/**
 * Child process of session-memory.long.ts, so that its peak RSS is one process's own: loads the
 * compiled VM (dist/, `npx tsc -p tsconfig.json` first) and a module and input from files, then
 * in mode `session` runs a proving Session over them (new Session, stateAt the end of segment 0,
 * prove and verify every step of segment 0, each pre-state checked against stateAt, then a whole
 * dispute with a lying submitter, which the honest challenger must win) and in mode
 * `parts` the pieces alone (a Machine, its memory touched as a session's re-entry does, a run,
 * a memory Merkle tree over it), printing the RSS after each phase and the peak, in MiB, as one
 * JSON line.
 */
import { readFileSync } from "node:fs";

const [mode, wasmPath, inputPath] = process.argv.slice(2);
const vm = await import(new URL("../../dist/vm/index.js", import.meta.url).href);
const bytes = readFileSync(wasmPath), input = readFileSync(inputPath);
const MiB = 1024 * 1024;
const rss = () => Math.round(process.memoryUsage().rss / MiB);
const out = { mode, baseline: rss() };
const started = performance.now();
const mark = (name) => {
  out[name] = rss();
  out[`${name}Ms`] = Math.round(performance.now() - started);
};

if (mode === "session") {
  const session = new vm.Session(bytes, input);
  mark("session");
  const steps = session.segmentSteps()[0];
  const end = session.stateAt(0, steps);
  mark("stateAt");
  out.steps = steps;
  out.proofs = 0;
  for (let step = 0; step < steps; step++) {
    const pre = session.stateAt(0, step).hash;
    const proof = session.prove(0, step);
    const post = vm.verifyProof(pre, vm.proofBytes(proof));
    if (vm.toHex(post) !== vm.toHex(proof.postHash)) throw new Error(`step ${step}: the verifier's post-state differs from the prover's`);
    if (step === steps - 1 && vm.toHex(post) !== vm.toHex(end.hash)) throw new Error("the last proof does not reach stateAt(end)");
    out.proofs++;
  }
  mark("proved");
  // A whole dispute over the same run: a submitter lying about the output against the honest challenger.
  const dispute = await import(new URL("../../dist/dispute/index.js", import.meta.url).href);
  const game = dispute.runDispute(new dispute.HonestView(session), { cheat: { kind: "output" } });
  if (game.winner !== "challenger" || !game.conserved) throw new Error(`the honest challenger did not win: ${game.reason}`);
  out.disputeRounds = game.rounds;
  mark("disputed");
} else {
  const machine = new vm.Machine(vm.decodeModule(bytes), input);
  mark("machine");
  machine.memory.fill(0); // a session re-entering a segment writes the whole memory
  mark("touched");
  machine.runAll();
  mark("run");
  const tree = new vm.MerkleTree("memoryLeaf", "memoryNode", machine.memory);
  mark("tree");
  out.root = vm.toHex(tree.root());
}
out.peak = Math.round((process.resourceUsage().maxRSS * 1024) / MiB);
console.log(JSON.stringify(out));
