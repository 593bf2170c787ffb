/**
 * Builds the golden one-step vectors (test/vm/golden/README.md) in memory. The WAT cases of
 * cases.ts become modules, one segment per case (`load_inputs`, `op_0 .. op_{n-1}`,
 * `store_outputs`), assembled with Binaryen and run through the VM's Session; the step each case
 * names is found by walking its segment in a Machine and proven by the Session's prover. The
 * stopped, step-budget, limit-trap and rejection vectors are derived from those proofs in
 * crafted.ts. `buildGoldenVectors()` returns them in a fixed order, so the committed
 * vectors.json can be compared with a fresh build word for word.
 */
import { allowedOpcodes, Machine, Session, Status, type DecodedModule, type StepProof } from "../../../vm/index.js";
import { module, UNBOUNDED, wat } from "../helpers.js";
import { controlCases, DATA, HELPER_FUNCS, hostAndTrapCases, INPUT, memoryCases, numericCases, type StepCase } from "./cases.js";
import { craftedVectors } from "./crafted.js";
import { proofVector, type GoldenVector } from "./vector.js";

/** WASM opcode number by the name vm/subset.ts gives it. */
function opcodeOf(name: string): number {
  const op = allowedOpcodes().find((o) => o.name === name);
  if (!op) throw new Error(`no allowed opcode named ${name}`);
  return op.code;
}

/** A module with one segment per case, after load_inputs; the segment of case i is i + 1. */
function caseModule(cases: readonly StepCase[]): Uint8Array<ArrayBuffer> {
  const ops = cases.map((c, i) => `(func (export "op_${i}") ${c.locals ?? ""} ${c.body})`);
  return wat(module(`
    (global $g32 i32 (i32.const -7))
    (global $g64 i64 (i64.const 0x123456789))
    (data (i32.const 0) "${DATA}")
    ${HELPER_FUNCS}
    (func (export "load_inputs"))
    ${ops.join("\n")}
    (func (export "store_outputs"))`));
}

/**
 * The step of segment `segment` at which the `nth` execution of `target` begins. The walker
 * enters the segment with its own memory, which is enough: no case branches on memory.
 */
function findStep(m: Machine, mod: DecodedModule, segment: number, c: StepCase): number {
  m.startSegment(segment);
  let seen = 0;
  while (m.status === Status.RUNNING) {
    if (mod.program.op[m.pc] === c.target && seen++ === (c.nth ?? 0)) return m.steps;
    m.step();
  }
  throw new Error(`golden case '${c.name}': segment ${segment} stops (status ${m.status}) before execution ${c.nth ?? 0} of opcode 0x${c.target.toString(16)}`);
}

/** Prove the target step of every case, all in one module (none of them may trap). */
function proveCases(cases: readonly StepCase[]): StepProof[] {
  const bytes = caseModule(cases);
  const session = new Session(bytes, INPUT, { ...UNBOUNDED, snapshotEvery: 0 });
  const walker = new Machine(session.mod, INPUT);
  walker.jit = false;
  return cases.map((c, i) => session.prove(i + 1, findStep(walker, session.mod, i + 1, c)));
}

export interface ProvenCase {
  case: StepCase;
  proof: StepProof;
}

/** Every case proven: the ones that do not trap share a module per group, each trapping case has its own. */
export function proveAllCases(): ProvenCase[] {
  const groups = [numericCases(opcodeOf), memoryCases(opcodeOf), controlCases(), hostAndTrapCases()];
  const proven: ProvenCase[] = [];
  for (const group of groups) {
    const running = group.filter((c) => !c.traps);
    const proofs = proveCases(running);
    running.forEach((c, i) => proven.push({ case: c, proof: proofs[i] }));
    for (const c of group.filter((c) => c.traps)) proven.push({ case: c, proof: proveCases([c])[0] });
  }
  for (const { case: c, proof } of proven) {
    const trapped = proof.post.status !== Status.RUNNING && proof.post.status !== Status.HALTED;
    if (trapped !== !!c.traps) throw new Error(`golden case '${c.name}': the step ${trapped ? "traps" : "does not trap"} (status ${proof.post.status})`);
  }
  return proven;
}

/** All golden vectors, in their committed order. */
export function buildGoldenVectors(): GoldenVector[] {
  const proven = proveAllCases();
  const vectors = proven.map(({ case: c, proof }) => proofVector(c.name, c.traps ? "trap" : "step", proof));
  return [...vectors, ...craftedVectors(proven)];
}

/** Opcode names of the subset with no VM instruction of their own (structure only, or nothing at all). */
export const NO_STEP_OPCODES = ["nop", "block", "loop", "end"];
