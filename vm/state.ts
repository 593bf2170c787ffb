/**
 * The state commitment (docs/vm-state.md is the normative description). The state hash is
 * keccak("detml.vm.state:" ‖ 18 words) over: the code root and size, the memory root and size,
 * the step budget, the input root and chunk count, the output accumulator and chunk count, segment, step, status,
 * pc, the value-stack hash and height, the locals root, the frames hash and the call depth.
 * The value stack of the current frame is a hash chain (push: keccak(stack ‖ below ‖ value)),
 * the current frame's locals a Merkle tree, caller frames a hash chain of frame records that
 * save the caller's stack hash, stack height and locals root. Op boundaries (phase 1 of the
 * dispute) are committed by boundary hashes over memory, I/O and the segment index.
 */
import type { DecodedModule } from "./decode.js";
import { hashWords, ZERO_HASH, type Hash } from "./hash.js";
import { encodeInstruction, instructionAt, treeDepth, type Program } from "./isa.js";
import { MerkleTree } from "./merkle.js";

export interface StateFields extends DataCommitments {
  segment: number;
  step: number;
  status: number;
  pc: number;
  stackHash: Hash;
  stackHeight: number;
  localsRoot: Hash;
  framesHash: Hash;
  callDepth: number;
}

/** The 18 state words in hashing (and proof) order. */
export const STATE_FIELDS = [
  "codeRoot", "codeSize", "memoryRoot", "memoryBytes", "stepBudget", "inputRoot", "inputChunks", "outputAcc", "outputChunks",
  "segment", "step", "status", "pc", "stackHash", "stackHeight", "localsRoot", "framesHash", "callDepth",
] as const satisfies readonly (keyof StateFields)[];

export function stateHash(s: StateFields): Hash {
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

/** Hash chain over slots [from, to) of a machine's value arrays (bottom first). */
export function stackHashOf(lo: Int32Array, hi: Int32Array, from: number, to: number): Hash {
  let h = ZERO_HASH;
  for (let i = from; i < to; i++) h = pushValue(h, valueWord(lo[i], hi[i]));
  return h;
}

/** The locals Merkle tree over slots [from, from+n) (depth ceil(log2 n); zero padding). */
export function localsTree(lo: Int32Array, hi: Int32Array, from: number, n: number): MerkleTree {
  const data = new Uint8Array(n * 32);
  for (let i = 0; i < n; i++) data.set(valueWord(lo[from + i], hi[from + i]), i * 32);
  return new MerkleTree("local", "localsNode", data, treeDepth(n));
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

/** The code Merkle tree: one leaf per instruction (its 32-byte encoding). */
export function codeTree(p: Program): MerkleTree {
  const data = new Uint8Array(p.length * 32);
  for (let pc = 0; pc < p.length; pc++) encodeInstruction(instructionAt(p, pc), data, pc * 32);
  return new MerkleTree("codeLeaf", "codeNode", data);
}

/** The input Merkle tree over the zero-padded input's 32-byte chunks. */
export function inputTree(paddedInput: Uint8Array): MerkleTree {
  return new MerkleTree("inputLeaf", "inputNode", paddedInput);
}

/** The output accumulator after absorbing `bytes` (whole chunks) from `acc`. */
export function absorbOutput(acc: Hash, bytes: Uint8Array): Hash {
  let h = acc;
  for (let i = 0; i < bytes.length; i += 32) h = hashWords("output", h, bytes.subarray(i, i + 32));
  return h;
}

/** The machine's control part: stack, locals and frames commitments (registers included). */
export interface ControlState {
  stackHash: Hash;
  stackHeight: number;
  localsRoot: Hash;
  framesHash: Hash;
  callDepth: number;
}

/** Commit to a machine's stack, locals and frames (hashes O(stack + locals) values). */
/** The registers and slot arrays the control commitments are computed from (vm/machine.ts's Machine has them). */
export interface FrameRegisters {
  lo: Int32Array;
  hi: Int32Array;
  fp: number;
  nLocals: number;
  sp: number;
  depth: number;
  fRet: Int32Array;
  fFp: Int32Array;
  fLocals: Int32Array;
}

export function controlState(m: FrameRegisters): ControlState {
  const { lo, hi } = m;
  let framesHash = ZERO_HASH;
  for (let d = 0; d < m.depth; d++) {
    const callerFp = m.fFp[d];
    const callerLocals = m.fLocals[d];
    const calleeFp = d + 1 < m.depth ? m.fFp[d + 1] : m.fp;
    framesHash = frameHash(framesHash, {
      returnPc: m.fRet[d],
      callerStackHash: stackHashOf(lo, hi, callerFp + callerLocals, calleeFp),
      callerStackHeight: calleeFp,
      callerLocalsRoot: localsTree(lo, hi, callerFp, callerLocals).root(),
    });
  }
  return {
    stackHash: stackHashOf(lo, hi, m.fp + m.nLocals, m.sp),
    stackHeight: m.sp,
    localsRoot: localsTree(lo, hi, m.fp, m.nLocals).root(),
    framesHash,
    callDepth: m.depth,
  };
}

/** The commitments that do not depend on the machine's registers. */
export interface DataCommitments {
  codeRoot: Hash;
  codeSize: number;
  memoryRoot: Hash;
  memoryBytes: number;
  /** Steps a segment may execute; its next step traps STEP_LIMIT (a constant of the module). */
  stepBudget: number;
  inputRoot: Hash;
  inputChunks: number;
  outputAcc: Hash;
  outputChunks: number;
}


/** The locals root of a frame with no locals (the segment stub's frame). */
export const EMPTY_LOCALS_ROOT: Hash = new MerkleTree("local", "localsNode", new Uint8Array(0), 0).root();

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

/** The boundary fields no step changes: the module's constants and the input commitment. */
export type CommitmentBase = Omit<DataCommitments, "memoryRoot" | "outputAcc" | "outputChunks">;

/** The commitment base of a module and a zero-padded input. */
export function commitmentBase(mod: DecodedModule, paddedInput: Uint8Array): CommitmentBase {
  return {
    codeRoot: codeTree(mod.program).root(), codeSize: mod.program.length, memoryBytes: mod.memoryBytes, stepBudget: mod.stepBudget,
    inputRoot: inputTree(paddedInput).root(), inputChunks: paddedInput.length / 32,
  };
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
