/**
 * A running machine's commitments: the stack hash chain, locals tree and frame records computed
 * from the machine's slot arrays, the code and input trees, and the commitment base of a module
 * and input. The definitions these compute (state hash, boundary hash, module id) are the spec
 * layer's, vm/spec/commitments.ts; this file only gathers their inputs from a machine.
 */
import type { DecodedModule } from "./decode.js";
import { ZERO_HASH, type Hash } from "./spec/hash.js";
import { encodeInstruction, instructionAt, treeDepth, type Program } from "./spec/isa.js";
import { frameHash, pushValue, valueWord, type DataCommitments } from "./spec/commitments.js";
import { MerkleTree } from "./merkle.js";

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

/** The boundary fields no step changes: the module's constants and the input commitment. */
export type CommitmentBase = Omit<DataCommitments, "memoryRoot" | "outputAcc" | "outputChunks">;

/** The commitment base of a module and a zero-padded input. */
export function commitmentBase(mod: DecodedModule, paddedInput: Uint8Array): CommitmentBase {
  return {
    codeRoot: codeTree(mod.program).root(), codeSize: mod.program.length, memoryBytes: mod.memoryBytes, stepBudget: mod.stepBudget,
    inputRoot: inputTree(paddedInput).root(), inputChunks: paddedInput.length / 32,
  };
}
