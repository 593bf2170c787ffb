/**
 * The one-step verifier: given an agreed pre-state hash and a proof (a sequence of 32-byte
 * words), recompute the post-state hash of one VM step, or reject. It is the reference for the
 * Solidity referee and is written to be mirrored line by line: it reads the proof sequentially
 * in serialization order, keeps the state as 18 words, checks every witness against a
 * commitment before using it (stack values against the stack hash chain, locals/memory/input/
 * code against their Merkle roots, the caller frame against the frames chain) and allocates
 * nothing large. Arithmetic uses bigint with explicit 32/64-bit masks (uint32/uint64 in
 * Solidity); it is deliberately independent of the interpreter's int32-pair arithmetic.
 */
import { equalHash, hashWords, ZERO_HASH, type Hash, type PrefixName } from "./hash.js";
import { ACCESS_BYTES, Op, Status, treeDepth } from "./isa.js";
import { MAX_CALL_DEPTH, MAX_STACK_SLOTS } from "./limits.js";
import { STATE_FIELDS, stateHash, type StateFields } from "./commitments.js";
import { aluBinary, aluUnary, isBinary, isUnary } from "./alu.js";

export class ProofError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProofError";
  }
}

const M32 = 0xffffffffn;
const M64 = 0xffffffffffffffffn;

/** Reads the proof word by word. */
class ProofReader {
  private pos = 0;
  constructor(private readonly proof: Uint8Array) {
    if (proof.length % 32 !== 0) throw new ProofError(`a proof is a sequence of 32-byte words; got ${proof.length} bytes`);
  }
  word(what: string): Uint8Array {
    if (this.pos + 32 > this.proof.length) throw new ProofError(`the proof ends early: missing ${what} (word ${this.pos / 32})`);
    const w = this.proof.slice(this.pos, this.pos + 32);
    this.pos += 32;
    return w;
  }
  uint(what: string): bigint {
    let v = 0n;
    for (const b of this.word(what)) v = (v << 8n) | BigInt(b);
    return v;
  }
  end(): void {
    if (this.pos !== this.proof.length) throw new ProofError(`the proof has ${(this.proof.length - this.pos) / 32} unread words after the step`);
  }
}

function wordToUint(w: Uint8Array): bigint {
  let v = 0n;
  for (const b of w) v = (v << 8n) | BigInt(b);
  return v;
}

function uintWord(v: bigint): Uint8Array {
  const w = new Uint8Array(32);
  for (let i = 31; i >= 0; i--, v >>= 8n) w[i] = Number(v & 0xffn);
  return w;
}

/** Fold a leaf up a Merkle path: bit l of `index` says whether the node is a right child. */
function merkleRoot(leafPrefix: PrefixName, nodePrefix: PrefixName, leaf: Uint8Array, index: bigint, path: readonly Uint8Array[]): Hash {
  let h = hashWords(leafPrefix, leaf);
  for (let l = 0; l < path.length; l++) {
    h = ((index >> BigInt(l)) & 1n) === 0n ? hashWords(nodePrefix, h, path[l]) : hashWords(nodePrefix, path[l], h);
  }
  return h;
}

function readPath(r: ProofReader, depth: number, what: string): Uint8Array[] {
  const path: Uint8Array[] = [];
  for (let l = 0; l < depth; l++) path.push(r.word(`${what} sibling ${l}`));
  return path;
}

const NUMERIC_FIELDS = new Set(["codeSize", "memoryBytes", "stepBudget", "inputChunks", "outputChunks", "segment", "step", "status", "pc", "stackHeight", "callDepth"]);
const MAX_MEMORY_BYTES = 1n << 32n;

/**
 * The 18 pre-state words. Numeric fields are uint64 (docs/vm-state.md section 4): a larger value
 * is rejected, as is a memory size that is not a whole number of leaves or passes 4 GiB. Every
 * reachable state is within these ranges, and they keep all arithmetic below exact in uint256.
 */
function readState(r: ProofReader): StateFields<bigint> {
  const s: Record<string, unknown> = {};
  for (const k of STATE_FIELDS) {
    if (!NUMERIC_FIELDS.has(k)) {
      s[k] = r.word(`pre-state ${k}`);
      continue;
    }
    const v = r.uint(`pre-state ${k}`);
    if (v > M64) throw new ProofError(`pre-state ${k} is wider than 64 bits`);
    s[k] = v;
  }
  const state = s as unknown as StateFields<bigint>;
  if (state.memoryBytes % 32n !== 0n || state.memoryBytes > MAX_MEMORY_BYTES) throw new ProofError(`pre-state memoryBytes ${state.memoryBytes} is not a multiple of 32 up to 2^32`);
  if (state.status > BigInt(Status.STEP_LIMIT)) throw new ProofError(`pre-state status ${state.status} is not a status (0..${Status.STEP_LIMIT})`);
  return state;
}

/**
 * Check a one-step proof against the agreed pre-state hash; return the post-state hash.
 * Throws ProofError naming the first check that fails.
 */
export function verifyProof(preStateHash: Hash, proof: Uint8Array): Hash {
  const r = new ProofReader(proof);
  const pre = readState(r);
  if (!equalHash(stateHash(pre), preStateHash)) throw new ProofError("the pre-state in the proof does not hash to the agreed pre-state hash");
  if (pre.status !== BigInt(Status.RUNNING)) { // a stopped machine stays as it is
    r.end();
    return preStateHash;
  }
  const s: StateFields<bigint> = { ...pre, step: pre.step + 1n, pc: pre.pc + 1n };
  const trap = (status: number): Hash => {
    r.end();
    return stateHash({ ...pre, step: pre.step + 1n, status: BigInt(status) });
  };
  // A segment that has used its step budget traps on its next step, whatever the instruction.
  if (pre.step >= pre.stepBudget) return trap(Status.STEP_LIMIT);

  // The instruction at pc, proven against the code root.
  if (pre.pc >= pre.codeSize) throw new ProofError(`pc ${pre.pc} is outside the code (${pre.codeSize} instructions)`);
  const insWord = r.word("instruction");
  const codePath = readPath(r, depthOf(pre.codeSize), "code path");
  if (!equalHash(merkleRoot("codeLeaf", "codeNode", insWord, pre.pc, codePath), pre.codeRoot)) throw new ProofError("the instruction is not the code tree's leaf at pc");
  const ins = wordToUint(insWord);
  const op = Number((ins >> 240n) & 0xffffn);
  const a = (ins >> 208n) & M32;
  const b = (ins >> 176n) & M32;
  const c = (ins >> 144n) & M32;
  const imm = (ins >> 80n) & M64;

  const pop = (what: string): bigint => {
    const value = r.word(`stack value (${what})`);
    const below = r.word(`stack below (${what})`);
    if (!equalHash(hashWords("stack", below, value), s.stackHash)) throw new ProofError(`the stack value (${what}) does not match the stack hash`);
    const v = wordToUint(value);
    if (v > M64) throw new ProofError(`the stack value (${what}) is wider than 64 bits`);
    if (s.stackHeight === 0n) throw new ProofError(`a pop (${what}) with a stack height of 0`);
    s.stackHash = below;
    s.stackHeight -= 1n;
    return v;
  };
  const push = (v: bigint): void => {
    s.stackHash = hashWords("stack", s.stackHash, uintWord(v));
    s.stackHeight += 1n;
  };
  const memDepth = depthOf(pre.memoryBytes / 32n);
  /** Read memory leaf `index` with its path; `write(newLeaf)` updates the memory root. */
  const leaf = (index: bigint): { bytes: Uint8Array; write: (bytes: Uint8Array) => void } => {
    const bytes = r.word(`memory leaf ${index}`);
    const path = readPath(r, memDepth, `memory leaf ${index}`);
    if (!equalHash(merkleRoot("memoryLeaf", "memoryNode", bytes, index, path), s.memoryRoot)) throw new ProofError(`memory leaf ${index} does not match the memory root`);
    return { bytes, write: (nb) => { s.memoryRoot = merkleRoot("memoryLeaf", "memoryNode", nb, index, path); } };
  };
  /** Read local `index` of the current frame with its path (tree depth from the instruction). */
  const local = (index: bigint): { value: bigint; write: (v: bigint) => void } => {
    const value = r.word(`local ${index}`);
    const path = readPath(r, Number(b), `local ${index}`);
    if (index >> b !== 0n) throw new ProofError(`local ${index} outside a locals tree of depth ${b}`);
    if (!equalHash(merkleRoot("local", "localsNode", value, index, path), s.localsRoot)) throw new ProofError(`local ${index} does not match the locals root`);
    const v = wordToUint(value);
    if (v > M64) throw new ProofError(`local ${index} is wider than 64 bits`);
    return { value: v, write: (nv) => { s.localsRoot = merkleRoot("local", "localsNode", uintWord(nv), index, path); } };
  };

  if (isBinary(op)) {
    const y = pop("second operand");
    const x = pop("first operand");
    const res = aluBinary(op, x, y);
    if (res.trap) return trap(res.trap);
    push(res.value);
  } else if (isUnary(op)) {
    push(aluUnary(op, pop("operand")));
  } else if (ACCESS_BYTES[op] !== undefined) { // the integer loads and stores (0x28..0x3e less the float ones)
    const size = BigInt(ACCESS_BYTES[op]);
    const isStore = op >= 0x36;
    const value = isStore ? pop("stored value") : 0n;
    const ea = (pop("address") & M32) + a;
    if (ea + size > pre.memoryBytes) return trap(Status.OUT_OF_BOUNDS);
    const first = ea / 32n, offset = Number(ea % 32n);
    const straddles = BigInt(offset) + size > 32n;
    const l1 = leaf(first);
    if (isStore) {
      const span = new Uint8Array(64);
      span.set(l1.bytes);
      for (let i = 0; i < Number(size); i++) span[offset + i] = Number((value >> BigInt(8 * i)) & 0xffn);
      l1.write(span.slice(0, 32));
      if (straddles) {
        const l2 = leaf(first + 1n);
        span.set(l2.bytes, 32);
        for (let i = 0; i < Number(size); i++) span[offset + i] = Number((value >> BigInt(8 * i)) & 0xffn);
        l2.write(span.slice(32, 64));
      }
    } else {
      const span = new Uint8Array(64);
      span.set(l1.bytes);
      if (straddles) span.set(leaf(first + 1n).bytes, 32);
      let v = 0n;
      for (let i = Number(size) - 1; i >= 0; i--) v = (v << 8n) | BigInt(span[offset + i]);
      push(extendLoad(op, v));
    }
  } else {
    switch (op) {
      case Op.UNREACHABLE:
        return trap(Status.UNREACHABLE);
      case Op.I32_CONST: case Op.I64_CONST:
        push(imm);
        break;
      case Op.DROP:
        pop("dropped value");
        break;
      case Op.SELECT: {
        const cond = pop("condition") & M32;
        const second = pop("second value");
        const first = pop("first value");
        push(cond !== 0n ? first : second);
        break;
      }
      case Op.LOCAL_GET:
        push(local(a).value);
        break;
      case Op.LOCAL_SET: case Op.LOCAL_TEE: {
        const v = pop("value");
        local(a).write(v);
        if (op === Op.LOCAL_TEE) push(v);
        break;
      }
      case Op.JUMP:
        s.pc = a;
        break;
      case Op.JUMP_IF: case Op.JUMP_UNLESS: {
        const cond = pop("condition") & M32;
        if ((cond !== 0n) === (op === Op.JUMP_IF)) s.pc = a;
        break;
      }
      case Op.BR_IF:
        if ((pop("condition") & M32) === 0n) break;
      // falls through: the branch is taken
      case Op.BR: {
        const kept = c !== 0n ? pop("kept value") : 0n;
        for (let i = 0n; i < b; i++) pop("dropped value");
        if (c !== 0n) push(kept);
        s.pc = a;
        break;
      }
      case Op.BR_TABLE: {
        const i = pop("index") & M32;
        s.pc = pre.pc + 1n + (i < a ? i : a);
        break;
      }
      case Op.CALL: {
        if (c < b) throw new ProofError(`a call with ${c} locals cannot hold its ${b} parameters`);
        if (pre.callDepth >= BigInt(MAX_CALL_DEPTH)) return trap(Status.CALL_DEPTH);
        // stackHeight - b + c + imm > MAX, written without a subtraction (a uint256 in Solidity)
        if (pre.stackHeight + c + imm > BigInt(MAX_STACK_SLOTS) + b) return trap(Status.STACK_OVERFLOW);
        const nParams = Number(b), nLocals = Number(c);
        const params: bigint[] = new Array(nParams);
        for (let i = nParams - 1; i >= 0; i--) params[i] = pop(`parameter ${i}`);
        s.framesHash = hashWords("frame", pre.framesHash, pre.pc + 1n, s.stackHash, s.stackHeight, pre.localsRoot);
        s.localsRoot = localsRootOf(params, nLocals);
        s.stackHash = ZERO_HASH;
        s.stackHeight += c;
        s.callDepth += 1n;
        s.pc = a;
        break;
      }
      case Op.RETURN: {
        const result = a !== 0n ? pop("result") : 0n;
        if (pre.callDepth === 0n) throw new ProofError("return with no caller frame");
        const returnPc = r.uint("frame return pc");
        const callerStackHash = r.word("frame caller stack hash");
        const callerStackHeight = r.uint("frame caller stack height");
        const callerLocalsRoot = r.word("frame caller locals root");
        const below = r.word("frames below");
        if (!equalHash(hashWords("frame", below, returnPc, callerStackHash, callerStackHeight, callerLocalsRoot), pre.framesHash)) throw new ProofError("the caller frame does not match the frames hash");
        if (returnPc > M32 || callerStackHeight > M32) throw new ProofError("the caller frame is out of range");
        s.pc = returnPc;
        s.stackHash = callerStackHash;
        s.stackHeight = callerStackHeight;
        if (a !== 0n) push(result);
        s.localsRoot = callerLocalsRoot;
        s.framesHash = below;
        s.callDepth -= 1n;
        break;
      }
      case Op.HALT:
        s.status = BigInt(Status.HALTED);
        s.pc = pre.pc;
        break;
      case Op.READ_INPUT: {
        const dst = pop("destination") & M32;
        const chunk = pop("chunk") & M32;
        if (dst % 32n !== 0n || dst + 32n > pre.memoryBytes || chunk >= pre.inputChunks) return trap(Status.BAD_HOST_CALL);
        const data = r.word("input chunk");
        const path = readPath(r, depthOf(pre.inputChunks), "input chunk");
        if (!equalHash(merkleRoot("inputLeaf", "inputNode", data, chunk, path), pre.inputRoot)) throw new ProofError(`input chunk ${chunk} does not match the input root`);
        leaf(dst / 32n).write(data);
        break;
      }
      case Op.WRITE_OUTPUT: {
        const src = pop("source") & M32;
        if (src % 32n !== 0n || src + 32n > pre.memoryBytes) return trap(Status.BAD_HOST_CALL);
        s.outputAcc = hashWords("output", pre.outputAcc, leaf(src / 32n).bytes);
        s.outputChunks += 1n;
        break;
      }
      default:
        throw new ProofError(`unknown instruction opcode 0x${op.toString(16)}`);
    }
  }
  r.end();
  return stateHash(s);
}

/** depth(n) of docs/vm-state.md section 1 for a uint64 count: ceil(log2(max(n, 1))). */
function depthOf(n: bigint): number {
  let d = 0;
  while (1n << BigInt(d) < n) d++;
  return d;
}

/** Sign- or zero-extend a loaded little-endian value to its result type (i32 or i64). */
function extendLoad(op: number, v: bigint): bigint {
  switch (op) {
    case 0x2c: return BigInt.asUintN(32, BigInt.asIntN(8, v));
    case 0x2e: return BigInt.asUintN(32, BigInt.asIntN(16, v));
    case 0x30: return BigInt.asUintN(64, BigInt.asIntN(8, v));
    case 0x32: return BigInt.asUintN(64, BigInt.asIntN(16, v));
    case 0x34: return BigInt.asUintN(64, BigInt.asIntN(32, v));
    default: return v; // i32.load, i64.load and the unsigned narrow loads
  }
}

/** Root of a locals tree holding `params` then zeros, over `n` locals. */
function localsRootOf(params: readonly bigint[], n: number): Hash {
  const depth = treeDepth(n);
  let level: Hash[] = params.map((p) => hashWords("local", uintWord(p)));
  let zero = hashWords("local", ZERO_HASH);
  if (level.length === 0) level = [zero];
  for (let l = 0; l < depth; l++) {
    const next: Hash[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(hashWords("localsNode", level[i], i + 1 < level.length ? level[i + 1] : zero));
    zero = hashWords("localsNode", zero, zero);
    level = next;
  }
  return level[0];
}
