/**
 * The commitments of docs/vm-state.md sections 4 and 5, as plain functions of words: the state
 * hash over the 18 state fields, stack pushes and frame records, the output accumulator, boundary
 * hashes and the canonical segment start, the trapped-run hash and the module id. Nothing here
 * knows about a running machine (vm/state.ts computes these fields from one). Numeric fields are
 * uint64 in the protocol: the verifier holds them as bigint, the machine as exact JS numbers
 * (its step budget is at most 2^53 - 1); both hash to the same big-endian words.
 */
import { hashWords, ZERO_HASH, type Hash } from "./hash.js";

/** A numeric state field: a JS number (the machine, exact below 2^53) or a bigint (the verifier). */
export type Count = number | bigint;

export interface StateFields<N extends Count = number> extends DataCommitments<N> {
  segment: N;
  step: N;
  status: N;
  pc: N;
  stackHash: Hash;
  stackHeight: N;
  localsRoot: Hash;
  framesHash: Hash;
  callDepth: N;
}

/** The 18 state words in hashing (and proof) order. */
export const STATE_FIELDS = [
  "codeRoot", "codeSize", "memoryRoot", "memoryBytes", "stepBudget", "inputRoot", "inputChunks", "outputAcc", "outputChunks",
  "segment", "step", "status", "pc", "stackHash", "stackHeight", "localsRoot", "framesHash", "callDepth",
] as const satisfies readonly (keyof StateFields)[];

export function stateHash<N extends Count>(s: StateFields<N>): Hash {
  return hashWords("state", ...STATE_FIELDS.map((k) => s[k]));
}

/** A stack value (i32 zero-extended or i64) as a 32-byte word: big-endian uint256. */
export function valueWord(lo: number, hi: number): Uint8Array {
  const w = new Uint8Array(32);
  const v = new DataView(w.buffer);
  v.setUint32(24, hi >>> 0);
  v.setUint32(28, lo >>> 0);
  return w;
}

export function pushValue(below: Hash, value: Uint8Array): Hash {
  return hashWords("stack", below, value);
}

export interface FrameRecord {
  returnPc: number;
  callerStackHash: Hash;
  callerStackHeight: number;
  callerLocalsRoot: Hash;
}

export function frameHash(below: Hash, f: FrameRecord): Hash {
  return hashWords("frame", below, f.returnPc, f.callerStackHash, f.callerStackHeight, f.callerLocalsRoot);
}

/** The output accumulator after absorbing `bytes` (whole chunks) from `acc`. */
export function absorbOutput(acc: Hash, bytes: Uint8Array): Hash {
  let h = acc;
  for (let i = 0; i < bytes.length; i += 32) h = hashWords("output", h, bytes.subarray(i, i + 32));
  return h;
}

/** The commitments that do not depend on the machine's registers. */
export interface DataCommitments<N extends Count = number> {
  codeRoot: Hash;
  codeSize: N;
  memoryRoot: Hash;
  memoryBytes: N;
  /** Steps a segment may execute; its next step traps STEP_LIMIT (a constant of the module). */
  stepBudget: N;
  inputRoot: Hash;
  inputChunks: N;
  outputAcc: Hash;
  outputChunks: N;
}


/** The locals root of a frame with no locals (the segment stub's frame). */
export const EMPTY_LOCALS_ROOT: Hash = hashWords("local", ZERO_HASH);

/** Boundary k: the state before segment k (k = segment count: after the last segment). */
export type BoundaryFields = DataCommitments & { segment: number };

export const BOUNDARY_FIELDS = [
  "codeRoot", "codeSize", "memoryRoot", "memoryBytes", "stepBudget", "inputRoot", "inputChunks", "outputAcc", "outputChunks", "segment",
] as const satisfies readonly (keyof BoundaryFields)[];

export function boundaryHash(b: BoundaryFields): Hash {
  return hashWords("boundary", ...BOUNDARY_FIELDS.map((k) => b[k]));
}

/** A boundary with its hash and the segment export that starts there (none after the last). */
export interface Boundary {
  fields: BoundaryFields;
  hash: Hash;
  export?: string;
}

/** The canonical state at step 0 of segment k, from boundary k (its stub CALL is at pc 2k). */
export function segmentStartState(b: BoundaryFields): StateFields {
  return {
    ...b, step: 0, status: 0, pc: 2 * b.segment, stackHash: ZERO_HASH, stackHeight: 0,
    localsRoot: EMPTY_LOCALS_ROOT, framesHash: ZERO_HASH, callDepth: 0,
  };
}

/** The boundary after a segment that halted in state s. */
export function boundaryAfter(s: StateFields): BoundaryFields {
  const { codeRoot, codeSize, memoryRoot, memoryBytes, stepBudget, inputRoot, inputChunks, outputAcc, outputChunks } = s;
  return { codeRoot, codeSize, memoryRoot, memoryBytes, stepBudget, inputRoot, inputChunks, outputAcc, outputChunks, segment: s.segment + 1 };
}

/**
 * What every boundary after a segment that trapped commits to: H("detml.vm.trapped:", state
 * hash of the trapped state). A run that traps has no later op boundaries, and this hash is not
 * the boundary hash of any fields (another prefix), so no result claim can match it and no
 * boundary can be opened from it: a claimed result for an input that traps always loses to it,
 * and a trap claim (dispute/claim.ts) carries it as its final boundary.
 */
export function trappedRunHash(trapped: StateFields): Hash {
  return hashWords("trapped", stateHash(trapped));
}

/** The constants of a module that its identity commits to (dispute/claim.ts registers them). */
export interface ModuleConstants {
  codeRoot: Hash;
  codeSize: number;
  memoryBytes: number;
  initialMemoryRoot: Hash;
  segments: number;
  stepBudget: number;
}

/**
 * The one identity of a module: the hash of its code, memory size, initial memory (data segments,
 * so its weights), segment count and step budget. Custom sections (the manifest) are not part of it.
 */
export function moduleHash(m: ModuleConstants): Hash {
  return hashWords("module", m.codeRoot, m.codeSize, m.memoryBytes, m.initialMemoryRoot, m.segments, m.stepBudget);
}
