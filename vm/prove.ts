/**
 * The one-step prover: from a machine at step N (and the Merkle trees of its memory, code and
 * input), produce the proof of step N -> N+1 in exactly the order vm/spec/verifier.ts reads it:
 * the 18 pre-state words, the instruction and its code path, then the instruction's witnesses
 * (each popped stack value with the hash below it, local values with their locals-tree paths,
 * memory leaves with their paths, the caller frame record, the input chunk with its path).
 * It captures what it needs from the pre-state, executes the step on the machine, then emits
 * memory-write witnesses against the memory tree as it updates it leaf by leaf (a straddling
 * store's second path is taken after the first leaf is written, as the verifier expects).
 */
import { isBinary, isUnary } from "./spec/alu.js";
import { ZERO_HASH, hashWords, type Hash } from "./spec/hash.js";
import { ACCESS_BYTES, instructionAt, encodeInstruction, Op, Status } from "./spec/isa.js";
import type { Machine } from "./machine.js";
import type { MerkleTree } from "./merkle.js";
import { controlState, localsTree, stackHashOf } from "./state.js";
import { STATE_FIELDS, absorbOutput, stateHash, valueWord, type StateFields } from "./spec/commitments.js";
import type { ProofWord, StepProof } from "./proof-codec.js";

export type { ProofWord, StepProof };


/** The trees and running commitments a prover keeps next to its machine. */
export interface ProverContext {
  machine: Machine;
  code: MerkleTree;
  input: MerkleTree;
  /** Synced to machine.memory before the call; updated by it. */
  memory: MerkleTree;
  /** Output accumulator of machine.outputBytes(); updated by it. */
  outputAcc: Hash;
}

function wordOf(v: number | bigint): Uint8Array {
  const w = new Uint8Array(32);
  let x = BigInt(v);
  for (let i = 31; i >= 0; i--, x >>= 8n) w[i] = Number(x & 0xffn);
  return w;
}

export function currentState(ctx: ProverContext): StateFields {
  const m = ctx.machine;
  return {
    codeRoot: ctx.code.root(), codeSize: m.program.length, memoryRoot: ctx.memory.root(), memoryBytes: m.memoryBytes,
    stepBudget: m.module.stepBudget, inputRoot: ctx.input.root(), inputChunks: m.inputChunks, outputAcc: ctx.outputAcc, outputChunks: m.outputChunks,
    segment: m.segment, step: m.steps, status: m.status, pc: m.pc, ...controlState(m),
  };
}

/** Prove the machine's next step and advance the machine (and the trees) past it. */
export function proveStep(ctx: ProverContext): StepProof {
  const m = ctx.machine;
  const pre = currentState(ctx);
  const preHash = stateHash(pre);
  const words: ProofWord[] = STATE_FIELDS.map((k) => ({ label: `pre.${k}`, value: typeof pre[k] === "number" ? wordOf(pre[k]) : (pre[k] as Uint8Array) }));
  const emit = (label: string, value: Uint8Array): void => {
    words.push({ label, value });
  };
  const ins = instructionAt(m.program, m.pc);
  const segment = m.segment, step = m.steps;
  if (m.status !== Status.RUNNING) return { segment, step, instruction: ins, pre, preHash, post: pre, postHash: preHash, words };
  if (m.steps >= m.module.stepBudget) { // the budget trap reads no instruction
    m.step();
    const post = { ...pre, step: m.steps, status: m.status };
    return { segment, step, instruction: ins, pre, preHash, post, postHash: stateHash(post), words };
  }

  emit("instruction", encodeInstruction(ins));
  ctx.code.path(m.pc).forEach((h, l) => emit(`code sibling ${l}`, h));

  // Capture the pre-state parts the witnesses come from (the step overwrites slots).
  const base = m.fp + m.nLocals;
  const stackLo = m.lo.slice(base, m.sp), stackHi = m.hi.slice(base, m.sp);
  const chain: Hash[] = [ZERO_HASH];
  for (let i = 0; i < stackLo.length; i++) chain.push(hashWords("stack", chain[i], valueWord(stackLo[i], stackHi[i])));
  let top = stackLo.length;
  const pop = (what: string): bigint => {
    top--;
    emit(`pop ${what}`, valueWord(stackLo[top], stackHi[top]));
    emit(`pop ${what}: stack below`, chain[top]);
    return (BigInt(stackHi[top] >>> 0) << 32n) | BigInt(stackLo[top] >>> 0);
  };
  const locals = localsTree(m.lo, m.hi, m.fp, m.nLocals);
  const emitLocal = (index: number): void => {
    emit(`local ${index}`, locals.leaf(index));
    locals.path(index).forEach((h, l) => emit(`local ${index} sibling ${l}`, h));
  };
  const emitLeaf = (index: number): void => {
    emit(`memory leaf ${index}`, ctx.memory.leaf(index));
    ctx.memory.path(index).forEach((h, l) => emit(`memory leaf ${index} sibling ${l}`, h));
  };
  let frameWords: Uint8Array[] = [];
  if (ins.op === Op.RETURN && m.depth > 0) {
    // The caller frame record and the frames hash below it, from the machine's frame arrays.
    const callerFp = m.fFp[m.depth - 1], callerLocals = m.fLocals[m.depth - 1];
    frameWords = [wordOf(m.fRet[m.depth - 1]), stackHashOf(m.lo, m.hi, callerFp + callerLocals, m.fp), wordOf(m.fp),
      localsTree(m.lo, m.hi, callerFp, callerLocals).root(), framesBelowTop(m)];
  }
  const outputsBefore = m.outputChunks;
  // The memory tree reads m.memory, which the step may overwrite: pin the leaves a store (address
  // under the stored value) or read_input (destination on top) writes, to prove against their old bytes.
  if ((ins.op >= 0x36 && ins.op <= 0x3e) || ins.op === Op.READ_INPUT) {
    const input = ins.op === Op.READ_INPUT;
    const ea = (stackLo[top - (input ? 1 : 2)] >>> 0) + (input ? 0 : ins.a);
    for (let i = Math.floor(ea / 32); i * 32 < ea + (input ? 32 : ACCESS_BYTES[ins.op]); i++) ctx.memory.pin(i);
  }

  m.step();
  const trapped = m.status >= Status.UNREACHABLE;
  const op = ins.op;
  const memWrite = (index: number): void => {
    emitLeaf(index);
    ctx.memory.setLeaf(index, m.memory.subarray(index * 32, index * 32 + 32));
  };

  if (isBinary(op)) {
    pop("second operand");
    pop("first operand");
  } else if (isUnary(op)) {
    pop("operand");
  } else if (op >= 0x28 && op <= 0x3e) {
    if (op >= 0x36) pop("stored value");
    const ea = Number(pop("address") & 0xffffffffn) + ins.a;
    if (!trapped) {
      const first = Math.floor(ea / 32);
      const straddles = (ea % 32) + ACCESS_BYTES[op] > 32;
      if (op >= 0x36) {
        memWrite(first);
        if (straddles) memWrite(first + 1);
      } else {
        emitLeaf(first);
        if (straddles) emitLeaf(first + 1);
      }
    }
  } else {
    switch (op) {
      case Op.DROP: pop("dropped value"); break;
      case Op.SELECT: pop("condition"); pop("second value"); pop("first value"); break;
      case Op.LOCAL_GET: emitLocal(ins.a); break;
      case Op.LOCAL_SET: case Op.LOCAL_TEE: pop("value"); emitLocal(ins.a); break;
      case Op.JUMP_IF: case Op.JUMP_UNLESS: pop("condition"); break;
      case Op.BR_IF:
        if ((pop("condition") & 0xffffffffn) === 0n) break;
      // falls through: the branch is taken
      case Op.BR:
        if (ins.c !== 0) pop("kept value");
        for (let i = 0; i < ins.b; i++) pop("dropped value");
        break;
      case Op.BR_TABLE: pop("index"); break;
      case Op.CALL:
        if (!trapped) for (let i = ins.b - 1; i >= 0; i--) pop(`parameter ${i}`);
        break;
      case Op.RETURN:
        if (ins.a !== 0) pop("result");
        ["frame return pc", "frame caller stack hash", "frame caller stack height", "frame caller locals root", "frames below"]
          .forEach((label, i) => emit(label, frameWords[i]));
        break;
      case Op.READ_INPUT: {
        const dst = Number(pop("destination") & 0xffffffffn);
        const chunk = Number(pop("chunk") & 0xffffffffn);
        if (trapped) break;
        emit("input chunk", ctx.input.leaf(chunk));
        ctx.input.path(chunk).forEach((h, l) => emit(`input chunk sibling ${l}`, h));
        memWrite(dst / 32);
        break;
      }
      case Op.WRITE_OUTPUT: {
        const src = Number(pop("source") & 0xffffffffn);
        if (trapped) break;
        emitLeaf(src / 32);
        ctx.outputAcc = absorbOutput(ctx.outputAcc, m.outputBytes().subarray(outputsBefore * 32));
        break;
      }
      default: // unreachable, consts, jump, halt: no witness
        break;
    }
  }
  const post = currentState(ctx);
  return { segment, step, instruction: ins, pre, preHash, post, postHash: stateHash(post), words };
}

/** The frames hash below the top frame (the chain over frames 0..depth-2). */
function framesBelowTop(m: Machine): Hash {
  const saved = { depth: m.depth, fp: m.fp, nLocals: m.nLocals, sp: m.sp };
  // Pretend the top frame is popped: the caller becomes current, and controlState hashes the rest.
  m.depth = saved.depth - 1;
  m.sp = m.fp;
  m.fp = m.fFp[m.depth];
  m.nLocals = m.fLocals[m.depth];
  const below = controlState(m).framesHash;
  Object.assign(m, saved);
  return below;
}
