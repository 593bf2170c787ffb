/**
 * Claims and their commitments: what a submitter posts on-chain and what the referee can derive
 * from it without running anything. A model is registered once by its constants (code root and
 * size, memory size, initial memory root, segment count); its id is the VM's module hash. A claim
 * names the model, commits to the input (input tree root and chunk count) and to the result
 * (output accumulator and chunk count, final memory root), and carries the final boundary hash,
 * which the referee recomputes from those fields. A run that traps has no result: its claim is
 * a trap claim instead, carrying the trapped state (the referee checks that it is trapped, in
 * this model and on this input) and, as final boundary, the trapped-run hash of vm/state.ts.
 * Boundary 0 of a run follows from the model and the input commitment alone, except for a chained
 * claim (the next token of a language model), whose run starts from its parent claim's final
 * memory. All hashes are 32 bytes, all numbers fit a uint256 word.
 */
import { boundaryHash, moduleHash, stateHash, trappedRunHash, type BoundaryFields, type Hash, type ModuleConstants, type Session, type StateFields } from "../vm/index.js";

export const ZERO: Hash = new Uint8Array(32);

export function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The constants of a compiled module, registered once (in a contract: one storage record). */
export type ModelRecord = ModuleConstants;

export interface Claim {
  modelId: Hash;
  inputRoot: Hash;
  inputChunks: number;
  outputAcc: Hash;
  outputChunks: number;
  finalMemoryRoot: Hash;
  /** Boundary S (after the last segment): must equal boundaryHash of the fields above, or for a trap claim trappedRunHash(trapState). */
  finalBoundary: Hash;
  /** A trap claim: the state in which the run traps (output and final memory are then ZERO). */
  trapState?: StateFields;
}

export function modelId(m: ModelRecord): Hash {
  return moduleHash(m);
}

/**
 * Boundary 0 of a run: the model's initial memory (or, for a chained claim, its parent's final
 * memory), the committed input, no output yet.
 */
export function initialBoundary(m: ModelRecord, inputRoot: Hash, inputChunks: number, memoryRoot: Hash = m.initialMemoryRoot): BoundaryFields {
  return {
    codeRoot: m.codeRoot, codeSize: m.codeSize, memoryRoot, memoryBytes: m.memoryBytes, stepBudget: m.stepBudget,
    inputRoot, inputChunks, outputAcc: ZERO, outputChunks: 0, segment: 0,
  };
}

/** Boundary S as a claim describes it. */
export function claimedFinalBoundary(m: ModelRecord, c: Omit<Claim, "finalBoundary" | "modelId">): BoundaryFields {
  return {
    codeRoot: m.codeRoot, codeSize: m.codeSize, memoryRoot: c.finalMemoryRoot, memoryBytes: m.memoryBytes, stepBudget: m.stepBudget,
    inputRoot: c.inputRoot, inputChunks: c.inputChunks, outputAcc: c.outputAcc, outputChunks: c.outputChunks, segment: m.segments,
  };
}

/** The model record of a session's module. */
export function modelRecordOf(s: Session): ModelRecord {
  return {
    codeRoot: s.base.codeRoot, codeSize: s.base.codeSize, memoryBytes: s.mod.memoryBytes,
    initialMemoryRoot: s.boundaries[0].fields.memoryRoot, segments: s.segmentCount, stepBudget: s.mod.stepBudget,
  };
}

/** A claim whose result is the given final boundary (fields must be the model's boundary S). */
export function claimFromBoundary(m: ModelRecord, b: BoundaryFields): Claim {
  return {
    modelId: modelId(m), inputRoot: b.inputRoot, inputChunks: b.inputChunks, outputAcc: b.outputAcc, outputChunks: b.outputChunks,
    finalMemoryRoot: b.memoryRoot, finalBoundary: boundaryHash(b),
  };
}

/** The claim that the run on this input traps, in state `s` (a trap status, see vm/spec/isa.ts isTrap). */
export function trapClaim(m: ModelRecord, s: StateFields): Claim {
  return {
    modelId: modelId(m), inputRoot: s.inputRoot, inputChunks: s.inputChunks, outputAcc: ZERO, outputChunks: 0,
    finalMemoryRoot: ZERO, finalBoundary: trappedRunHash(s), trapState: s,
  };
}

/** Whether two claims agree in every field (a trap claim's state by its hash). */
export function sameClaim(a: Claim, b: Claim): boolean {
  const hashes = ["modelId", "inputRoot", "outputAcc", "finalMemoryRoot", "finalBoundary"] as const;
  if (!hashes.every((k) => sameHash(a[k], b[k])) || a.inputChunks !== b.inputChunks || a.outputChunks !== b.outputChunks) return false;
  if (!a.trapState || !b.trapState) return !a.trapState && !b.trapState;
  return sameHash(stateHash(a.trapState), stateHash(b.trapState));
}
