/**
 * A JIT for the fast path of `Machine.runUntil`: each function's flat code becomes one JavaScript
 * function (built with `new Function`, then optimized by the engine), with its basic blocks as
 * cases of a switch in a loop (numbered densely, so the switch is a jump table; a block that
 * branches back to itself loops on its own, without the switch). A block checks the bounds of
 * its loads at a local plus an offset once, at its entry (jit-plan.ts `entryBoundsChecks`), and
 * multiplies values sign-extended from i32 in doubles (jit-ops.ts `widenedProduct`). Locals and operand-stack slots are JS variables (slot j of the
 * operand stack is s_j, its high half t_j; stack heights are static) when the frame is small
 * enough; a function with more locals or a deeper stack keeps them in the machine's slot arrays
 * instead (each JS variable is a register in the engine's frame: thousands of them, times the JIT
 * call depth, would exhaust the JS stack). Semantics are exactly the interpreter's, step for
 * step: every block first checks that the step budget covers all of its instructions, otherwise
 * it writes the machine state back and returns, and the interpreter runs the remaining steps one
 * by one. A trap writes back the state before the trapping instruction, as the interpreter leaves
 * it. Calls between functions are direct JS calls; when a callee stops, each caller writes its
 * frame record, locals and stack, so the machine's arrays always hold the full state after a
 * return to the runner. A function too large to compile is left to the interpreter: JIT code
 * calling it enters its frame and stops there. Returns: 0 the function returned (result in
 * m.retLo/retHi), 1 stopped for the budget, 2 trapped, 3 stopped for the interpreter (before a
 * call deeper than MAX_JIT_DEPTH, where deep call chains continue, or at the entry of a function
 * without JIT code). Like the interpreter, every store and read_input stamps its chunk in the
 * machine's write log (vm/machine.ts).
 */
import type { DecodedModule, FunctionInfo } from "./decode.js";
import { clz64, ctz32, ctz64, divrem64, popcnt32, rot64, rotl32 } from "./i64.js";
import { Op, Status, type Program } from "./spec/isa.js";
import { literal, numeric, simpleI32, widenedProduct } from "./jit-ops.js";
import { calleeTable, entryBoundsChecks, isJump, isTerminator, LOAD_BYTES, planFunction, popTypes, resultType, stackArray, topTypes, type FunctionPlan, type StackTypes } from "./jit-plan.js";
import { execute } from "./interpreter.js";
import type { Machine } from "./machine.js";
import { WRITE_CHUNK_SHIFT } from "./merkle.js";
import { I32, I64, opcodeInfo } from "./subset.js";
import { MAX_CALL_DEPTH, MAX_STACK_SLOTS } from "./spec/limits.js";

type JitFunction = (m: Machine, entry: number) => number;

export interface CompiledModule {
  /** JIT function by WASM function index (undefined: not compiled, the interpreter runs it). */
  byIndex: (JitFunction | undefined)[];
  /** Function index owning each pc (-1 for the segment stubs). */
  owner: Int32Array;
  /** 1 at the pcs where JIT code can be entered (block leaders). */
  leader: Uint8Array;
}

/** The JIT's size limits (the defaults below; tests lower them to reach every code path). */
export interface JitOptions {
  /** Functions with more instructions are left to the interpreter. */
  maxInstructions?: number;
  /** Functions with more locals keep them in the machine's arrays instead of JS variables. */
  maxVarLocals?: number;
  /** Functions with a deeper operand stack keep it in the machine's arrays instead of JS variables. */
  maxVarStack?: number;
}

const DEFAULTS: Required<JitOptions> = {
  // Larger functions are interpreted: their JS source (tens of bytes per instruction) would near
  // the engine's string and code-size limits, and compiling it would take seconds.
  maxInstructions: 1 << 20,
  // At most ~1,500 JS variables per function (i64 locals take two), so MAX_JIT_DEPTH nested
  // JIT frames stay well inside the JS stack.
  maxVarLocals: 512,
  maxVarStack: 256,
};
/** Below this many remaining steps the interpreter is used directly. */
const MIN_JIT_STEPS = 256;
/**
 * Calls from JIT code are JS calls, so deep call chains would exhaust the JS stack: at this call
 * depth the JIT hands the call to the interpreter (which keeps frames in the machine's arrays).
 */
const MAX_JIT_DEPTH = 32;
/** Steps the interpreter runs before the JIT is tried again after handing a call over. */
const INTERPRETER_SLICE = 1 << 16;

const cache = new WeakMap<DecodedModule, CompiledModule>();

const HELPERS = { rotl32, ctz32, popcnt32, clz64, ctz64, divrem64, rot64 };
const XL = new Int32Array(2), XH = new Int32Array(2);

/** A value not yet stored in its stack slot: its low and high (i64 only) half as expressions. */
interface Pending {
  lo: string;
  hi?: string;
}

/**
 * An exit: [pc, stack, status, return code (-1: the callee's), caller-frame save]. `stack` is
 * the slot types (1 = i64) when the slots are JS variables (the exit writes them back), else
 * just the stack height (the machine's arrays already hold the slots).
 */
type Exit = [number, number[] | number, number, number, boolean];

class FunctionWriter {
  private readonly out: string[] = [];
  private readonly nl: number;
  private readonly localsInVars: boolean;
  private readonly stackInVars: boolean;
  constructor(private readonly plan: FunctionPlan, private readonly program: Program, private readonly byIndexName: string, limits: Required<JitOptions>) {
    this.nl = plan.f.locals;
    this.localsInVars = plan.f.locals <= limits.maxVarLocals;
    this.stackInVars = plan.f.maxStack <= limits.maxVarStack;
  }

  private localIs64(i: number): boolean {
    return this.plan.f.localTypes[i] === I64;
  }

  /** The low / high half of local i: a JS variable or the machine's slot array. */
  private local(i: number): string {
    return this.localsInVars ? `l${i}` : `lo[fp+${i}]`;
  }

  private localHi(i: number): string {
    return this.localsInVars ? `k${i}` : `hi[fp+${i}]`;
  }

  /** The low / high half of operand slot j. */
  private slot(j: number): string {
    return this.stackInVars ? `s${j}` : `lo[fp+${this.nl + j}]`;
  }

  private slotHi(j: number): string {
    return this.stackInVars ? `t${j}` : `hi[fp+${this.nl + j}]`;
  }

  /**
   * Every way out of the function other than a return. The sites only record which one and jump
   * to the single write-back sequence after the dispatch loop, which keeps the functions small
   * (the engine compiles them faster) and the hot paths free of cold code.
   */
  private readonly exits: Exit[] = [];

  /** What an exit records of the stack `ty` (see Exit). */
  private exitStack(ty: StackTypes): number[] | number {
    return this.stackInVars ? stackArray(ty).map((t) => (t === I64 ? 1 : 0)) : ty.height;
  }

  /** Leave with the state before instruction `pc` (stack types `ty`), `status`, budget + `refund`; returns `code`. */
  private exit(pc: number, ty: StackTypes, status: number, refund: number, code = status ? 2 : 1): string {
    this.exits.push([pc, this.exitStack(ty), status, code, false]);
    return `{${this.flush(0, ty.height, true)}${refund ? `budget+=${refund};` : ""}ex=${this.exits.length - 1};break run;}`;
  }

  /** After a callee stopped: write this frame's record, locals and the stack below the arguments. */
  private callerExit(returnPc: number, below: StackTypes): string {
    this.exits.push([returnPc, this.exitStack(below), 0, -1, true]);
    return `{ex=${this.exits.length - 1};break run;}`;
  }

  /** The write-back sequence shared by all exits. */
  private exitSequence(): string {
    const nl = this.nl;
    const locals = this.localsInVars ? Array.from({ length: nl }, (_, i) => `lo[fp+${i}]=l${i};hi[fp+${i}]=${this.localIs64(i) ? `k${i}` : 0};`).join("") : "";
    let stack = "", height = "X[1]";
    if (this.stackInVars) {
      const n = Math.max(this.plan.f.maxStack, 1);
      stack = `switch(X[1].length){${Array.from({ length: n }, (_, k) => n - 1 - k)
        .map((j) => `case ${j + 1}:lo[fp+${nl + j}]=s${j};hi[fp+${nl + j}]=X[1][${j}]?t${j}:0;`).join("")}}`;
      height = "X[1].length";
    }
    return `const X=EXITS[ex];${locals}${stack}` +
      `if(X[4]){m.fRet[myDepth]=X[0];m.fFp[myDepth]=fp;m.fLocals[myDepth]=${nl};return x;}` +
      `m.pc=X[0];m.sp=fp+${nl}+${height};m.fp=fp;m.nLocals=${nl};m.depth=myDepth;if(X[2]!==0)m.status=X[2];m.budget=budget;return X[3];`;
  }

  /**
   * Constants and local reads are not assigned to their stack slot at once: the slot stays
   * "pending" with the expression, which its consumer inlines (e.g. `s0=(l3+4)|0` instead of
   * three statements), so the engine's first, unoptimized run of the code does less work.
   * Pending slots are materialized at block ends, before exits and before a local they read is
   * written. Only for stacks in JS variables: with a deep stack in the arrays, every exit would
   * write all pending slots (code size up to the stack height per exit).
   */
  private readonly pend = new Map<number, Pending>();

  /** Push a constant or local read onto slot j. */
  private pushValue(j: number, value: Pending): string {
    if (this.stackInVars) {
      this.pend.set(j, value);
      return "";
    }
    return `${this.slot(j)}=${value.lo};${this.slotHi(j)}=${value.hi ?? 0};`;
  }

  /** Assignments materializing the pending slots in [from, to) (left pending when `keep`). */
  private flush(from: number, to: number, keep = false): string {
    let out = "";
    for (const [j, p] of this.pend) {
      if (j < from || j >= to) continue;
      out += `${this.slot(j)}=${p.lo};${p.hi !== undefined ? `${this.slotHi(j)}=${p.hi};` : ""}`;
      if (!keep) this.pend.delete(j);
    }
    return out;
  }

  /** Materialize the pending slots below `to` that read local `a` (before it is written). */
  private flushReads(a: number, to: number): string {
    let out = "";
    for (const [j, p] of this.pend) if (j < to && p.lo === this.local(a)) out += this.flush(j, j + 1);
    return out;
  }

  private value(j: number): string {
    return this.pend.get(j)?.lo ?? this.slot(j);
  }

  private valueHi(j: number): string {
    const p = this.pend.get(j);
    return p ? (p.hi ?? "0") : this.slotHi(j);
  }

  /**
   * The dispatch switch's case of each live block by its start pc: blocks are numbered densely
   * so that the engine compiles the switch to a jump table (sparse pcs as cases give a search).
   */
  private readonly blocks = new Map<number, number>();

  /** The block indices of each br_table's targets, as constants of the generated code. */
  private readonly tables: string[] = [];

  private blockIndex(pc: number): number {
    return this.blocks.get(pc) ?? -1;
  }

  /**
   * Operand slots that hold an i64 sign-extended from an i32 (the block's loads so far): the
   * product of two such values has a cheaper exact form (`widenedProduct`).
   */
  private readonly widened = new Set<number>();

  /** After instruction `op` at stack height h: its result slot is widened or not; slots it popped are gone. */
  private trackWidened(op: number, h: number): void {
    const info = opcodeInfo(op);
    const from = info ? h - info.pops : 0;
    for (const j of this.widened) if (j >= from) this.widened.delete(j);
    if (op === 0x30 || op === 0x32 || op === 0x34 || op === 0xac) this.widened.add(h - 1);
  }

  /** Loads of the block being written whose bounds its entry checks (jit-plan.ts `entryBoundsChecks`). */
  private checkedLoads: ReadonlySet<number> = new Set();

  /** The start of the block being written when it branches back to itself, else -1. */
  private selfLoop = -1;

  /** Go to the block at pc `a`: the next pass of the block's own loop, or through the dispatch. */
  private jump(a: number): string {
    return a === this.selfLoop ? `continue B${a};` : `pc=${this.blockIndex(a)};continue run;`;
  }

  generate(): string {
    const { f, types, leaders } = this.plan;
    const w = this.out;
    w.push(`return function ${sanitize(f.name)}(m, entry) {`);
    w.push("const lo=m.lo,hi=m.hi,dv=m.view,mem=m.memory,W=m.stamps,E=m.epoch,MEM=m.memoryBytes,fp=m.fp,myDepth=m.depth;let budget=m.budget,pc=ENTRY.get(entry)??-1,x=0,y=0,ex=0;");
    if (this.localsInVars && this.nl > 0) {
      w.push(`let ${Array.from({ length: this.nl }, (_, i) => `l${i}=lo[fp+${i}]${this.localIs64(i) ? `,k${i}=hi[fp+${i}]` : ""}`).join(",")};`);
    }
    if (this.stackInVars) {
      w.push(`let ${Array.from({ length: Math.max(f.maxStack, 1) }, (_, j) => `s${j}=0,t${j}=0`).join(",")};`);
      // Resuming inside the function: reload the operand stack of the entry block.
      const resumes = leaders.filter((l) => (types[l - f.entryPc]?.height ?? 0) > 0);
      if (resumes.length > 0) {
        w.push("switch(entry){");
        for (const l of resumes) {
          const ty = stackArray(types[l - f.entryPc]!);
          w.push(`case ${l}:${ty.map((t, j) => `s${j}=lo[fp+${this.nl + j}];${t === I64 ? `t${j}=hi[fp+${this.nl + j}];` : ""}`).join("")}break;`);
        }
        w.push("}");
      }
    }
    w.push("run: for(;;){switch(pc){");
    const live = leaders.filter((l) => types[l - f.entryPc] !== undefined);
    live.forEach((start, i) => this.blocks.set(start, i));
    const leaderSet = new Set(leaders);
    live.forEach((start, li) => {
      let end = start + 1; // the block: up to its terminator or the next leader
      while (end < f.endPc && !leaderSet.has(end) && !isTerminator(this.program.op[end - 1])) end++;
      const len = end - start;
      this.pend.clear();
      this.widened.clear();
      // A block that branches back to itself (an inner loop) repeats in a JS loop of its own,
      // without going through the dispatch switch; each pass still checks the budget first.
      const selfLoop = isJump(this.program.op[end - 1]) && this.program.a[end - 1] >>> 0 === start;
      this.selfLoop = selfLoop ? start : -1;
      const hoisted = entryBoundsChecks(this.program, start, end);
      this.checkedLoads = hoisted.loads;
      const guards = [...hoisted.ends].map(([local, bytes]) => `||(${this.local(local)}>>>0)+${bytes}>MEM`).join("");
      w.push(`case ${li}: ${selfLoop ? `B${start}: for(;;){` : ""}if(budget<${len}${guards})${this.exit(start, types[start - f.entryPc]!, 0, 0)} budget-=${len};`);
      for (let pc = start; pc < end; pc++) w.push(this.instruction(pc, pc - start, len, types[pc - f.entryPc]!));
      w.push(this.flush(0, Infinity));
      if (selfLoop) w.push("break;}");
      // Fall through into the next case when it is the next instruction.
      const op = this.program.op[end - 1];
      const fallsThrough = !isTerminator(op) || op === Op.CALL || op === Op.JUMP_IF || op === Op.JUMP_UNLESS || op === Op.BR_IF;
      if (fallsThrough && live[li + 1] !== end) w.push(`pc=${this.blockIndex(end)};continue run;`);
    });
    w.push(`default: throw new Error("internal error: JIT entry at pc "+entry);}}`);
    w.push(`${this.exitSequence()}};`);
    return `const EXITS=${JSON.stringify(this.exits)};const ENTRY=new Map(${JSON.stringify([...this.blocks])});${this.tables.join("")}\n${w.join("\n")}`;
  }

  /** The JS statement(s) for the instruction at pc (index i of a block of `len`, stack types `ty`). */
  private instruction(pc: number, i: number, len: number, ty: StackTypes): string {
    const code = this.instructionCode(pc, i, len, ty);
    this.trackWidened(this.program.op[pc], ty.height);
    // The machine keeps an i32 value's high half 0; JIT code for i32 results writes only the low
    // half, which is enough for variables (exits write 0), but a slot in the arrays may still
    // hold the high half of an i64 value it had before (e.g. under i32.wrap_i64 or i64.eqz).
    const op = this.program.op[pc];
    if (this.stackInVars || resultType(op) !== I32 || op === Op.I32_CONST) return code;
    return `${code}${this.slotHi(ty.height - opcodeInfo(op)!.pops)}=0;`;
  }

  private instructionCode(pc: number, i: number, len: number, ty: StackTypes): string {
    const prog = this.program;
    const op = prog.op[pc], a = prog.a[pc] >>> 0, b = prog.b[pc] >>> 0, c = prog.c[pc] >>> 0;
    const h = ty.height;
    const trap = (status: number): string => this.exit(pc, ty, status, len - i - 1);
    const A = h - 2, B = h - 1; // binary operands; unary/loads use B
    const v = (j: number) => this.value(j);
    const clear = (...slots: number[]) => slots.forEach((j) => this.pend.delete(j));
    switch (op) {
      case Op.UNREACHABLE: return trap(Status.UNREACHABLE);
      case Op.I32_CONST: return this.pushValue(h, { lo: literal(prog.immLo[pc]) });
      case Op.I64_CONST: return this.pushValue(h, { lo: literal(prog.immLo[pc]), hi: literal(prog.immHi[pc]) });
      case Op.LOCAL_GET: return this.pushValue(h, { lo: this.local(a), hi: this.localIs64(a) ? this.localHi(a) : undefined });
      case Op.DROP: clear(B); return "";
      case Op.LOCAL_SET: case Op.LOCAL_TEE: {
        const code = `${this.flushReads(a, B)}${this.local(a)}=${v(B)};${this.localIs64(a) ? `${this.localHi(a)}=${this.valueHi(B)};` : ""}`;
        if (op === Op.LOCAL_SET) clear(B);
        return code;
      }
      case Op.JUMP_IF: case Op.JUMP_UNLESS: {
        const cond = v(B);
        clear(B);
        return `${this.flush(0, B)}if(${cond}${op === Op.JUMP_IF ? "!==" : "==="}0){${this.jump(a)}}`;
      }
      case Op.RETURN:
        return `${a ? `m.retLo=${v(B)};m.retHi=${ty.top === I64 ? this.valueHi(B) : 0};` : ""}m.depth=myDepth-1;m.budget=budget;return 0;`;
    }
    const sA = this.slot(A), tA = this.slotHi(A), sB = this.slot(B), tB = this.slotHi(B);
    if (op >= 0x28 && op <= 0x35) { // loads
      const size = LOAD_BYTES[op - 0x28];
      const read: Record<number, string> = {
        0x28: `${sB}=dv.getInt32(x,true);`, 0x29: `${sB}=dv.getInt32(x,true);${tB}=dv.getInt32(x+4,true);`,
        0x2c: `${sB}=(mem[x]<<24)>>24;`, 0x2d: `${sB}=mem[x];`, 0x2e: `${sB}=dv.getInt16(x,true);`, 0x2f: `${sB}=dv.getUint16(x,true);`,
        0x30: `${sB}=(mem[x]<<24)>>24;${tB}=${sB}>>31;`, 0x31: `${sB}=mem[x];${tB}=0;`, 0x32: `${sB}=dv.getInt16(x,true);${tB}=${sB}>>31;`,
        0x33: `${sB}=dv.getUint16(x,true);${tB}=0;`, 0x34: `${sB}=dv.getInt32(x,true);${tB}=${sB}>>31;`, 0x35: `${sB}=dv.getInt32(x,true);${tB}=0;`,
      };
      const check = this.checkedLoads.has(pc) ? "" : `if(x>MEM-${size})${trap(Status.OUT_OF_BOUNDS)}`;
      const code = `x=(${v(B)}>>>0)+${a};${check}${read[op]}`;
      clear(B);
      return code;
    }
    if (op >= 0x36 && op <= 0x3e) { // stores
      const size = [4, 8, 0, 0, 1, 2, 1, 2, 4][op - 0x36];
      const value = v(B), valueHi = this.valueHi(B);
      const write: Record<number, string> = {
        0x36: `dv.setInt32(x,${value},true);`, 0x37: `dv.setInt32(x,${value},true);dv.setInt32(x+4,${valueHi},true);`, 0x3a: `mem[x]=${value};`,
        0x3b: `dv.setInt16(x,${value},true);`, 0x3c: `mem[x]=${value};`, 0x3d: `dv.setInt16(x,${value},true);`, 0x3e: `dv.setInt32(x,${value},true);`,
      };
      const code = `x=(${v(A)}>>>0)+${a};if(x>MEM-${size})${trap(Status.OUT_OF_BOUNDS)}W[x>>>${WRITE_CHUNK_SHIFT}]=E;${write[op]}`;
      clear(A, B);
      return code;
    }
    const simple = simpleI32(op, sA, v(A), v(B));
    if (simple !== undefined) {
      clear(A, B);
      return simple;
    }
    if (op === 0x45) { // i32.eqz
      const code = `${sB}=${v(B)}===0?1:0;`;
      clear(B);
      return code;
    }
    // Everything else reads its operands from the slots.
    const operands = op === Op.SELECT ? 3 : op === Op.CALL ? h : op === Op.BR || op === Op.BR_IF || op === Op.BR_TABLE || op === Op.JUMP ? h
      : op === Op.READ_INPUT ? 2 : op === Op.WRITE_OUTPUT ? 1 : (opcodeInfo(op)?.pops ?? 0);
    const pre = this.flush(op === Op.BR || op === Op.BR_IF || op === Op.BR_TABLE || op === Op.JUMP || op === Op.CALL ? 0 : h - operands, h);
    const s = (j: number) => this.slot(j), t = (j: number) => this.slotHi(j);
    switch (op) {
      case Op.SELECT: return `${pre}if(${s(h - 1)}===0){${s(h - 3)}=${s(h - 2)};${t(h - 3)}=${t(h - 2)};}`;
      case Op.JUMP: return `${pre}${this.jump(a)}`;
      case Op.BR: case Op.BR_IF: {
        const top = op === Op.BR_IF ? h - 1 : h;
        const keep = c !== 0 && b !== 0 ? `${s(top - 1 - b)}=${s(top - 1)};${t(top - 1 - b)}=${t(top - 1)};` : "";
        return op === Op.BR_IF ? `${pre}if(${sB}!==0){${keep}${this.jump(a)}}` : `${pre}${keep}${this.jump(a)}`;
      }
      case Op.BR_TABLE:
        this.tables.push(`const T${pc}=new Int32Array(${JSON.stringify(Array.from({ length: a + 1 }, (_, k) => this.blockIndex(pc + 1 + k)))});`);
        return `${pre}x=${sB}>>>0;pc=T${pc}[x<${a}?x:${a}];continue run;`;
      case Op.CALL: return pre + this.call(pc, i, len, ty);
      case Op.READ_INPUT:
        return `${pre}x=${sB}>>>0;y=${sA}>>>0;if((x&31)!==0||x+32>MEM||y>=m.inputChunks)${trap(Status.BAD_HOST_CALL)}mem.set(m.input.subarray(y*32,y*32+32),x);W[x>>>${WRITE_CHUNK_SHIFT}]=E;`;
      case Op.WRITE_OUTPUT:
        return `${pre}x=${sB}>>>0;if((x&31)!==0||x+32>MEM)${trap(Status.BAD_HOST_CALL)}m.appendOutput(x);`;
    }
    if (op === 0x7e && this.widened.has(A) && this.widened.has(B)) return pre + widenedProduct(sA, tA, sB, tB);
    return pre + numeric(op, { sa: sA, ta: tA, sb: sB, tb: tB }, trap);
  }

  private call(pc: number, i: number, len: number, ty: StackTypes): string {
    const prog = this.program;
    const g = this.plan.callees.get(prog.a[pc])!;
    const nParams = prog.b[pc], nLocals = prog.c[pc], maxStack = prog.immLo[pc];
    const base = ty.height - nParams; // slot of the first argument, and of the result
    const trap = (status: number): string => this.exit(pc, ty, status, len - i - 1);
    const args = topTypes(ty, nParams).map((t, j) => `lo[y+${j}]=${this.slot(base + j)};hi[y+${j}]=${t === I64 ? this.slotHi(base + j) : 0};`).join("");
    // retHi is 0 for an i32 result (see RETURN), so both halves can be taken.
    const result = g.results ? `${this.slot(base)}=m.retLo;${this.slotHi(base)}=m.retHi;` : "";
    return `if(myDepth>=${MAX_JIT_DEPTH})${this.exit(pc, ty, 0, len - i, 3)}if(myDepth>=${MAX_CALL_DEPTH})${trap(Status.CALL_DEPTH)}` +
      `y=fp+${this.nl + base};if(y+${nLocals + maxStack}>${MAX_STACK_SLOTS})${trap(Status.STACK_OVERFLOW)}` +
      `${args}for(x=y+${nParams};x<y+${nLocals};x++){lo[x]=0;hi[x]=0;}` +
      `m.depth=myDepth+1;m.fp=y;m.budget=budget;x=${this.byIndexName}[${g.index}](m,${g.entryPc});budget=m.budget;` +
      `if(x!==0)${this.callerExit(pc + 1, popTypes(ty, nParams))}` +
      `m.fp=fp;${result}`;
  }
}

function sanitize(name: string): string {
  return `f_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;
}

/**
 * What JIT code calls for a function without JIT code: the caller has already made the call
 * (arguments and zeroed locals in place, depth and fp set), so stand at the callee's entry and
 * stop; the runner's interpreter runs the function and the JIT resumes after its return.
 */
function interpreted(g: FunctionInfo): JitFunction {
  return (m) => {
    m.pc = g.entryPc;
    m.sp = m.fp + g.locals;
    m.nLocals = g.locals;
    return 3;
  };
}

/** A function's JIT code, or undefined when the engine refuses code that large. */
function compileFunction(plan: FunctionPlan, mod: DecodedModule, callable: JitFunction[], limits: Required<JitOptions>): JitFunction | undefined {
  try {
    const source = new FunctionWriter(plan, mod.program, "F", limits).generate();
    return new Function("F", "H", "XL", "XH", source)(callable, HELPERS, XL, XH) as JitFunction;
  } catch (err) {
    // RangeError is how the engine reports its limits (string length, parser depth); the
    // interpreter runs such a function. Anything else is a bug in the generated code.
    if (err instanceof RangeError) return undefined;
    throw err;
  }
}

/** The module's JIT code (cached per module: `opts` apply to the first compilation only). */
export function compileModule(mod: DecodedModule, opts: JitOptions = {}): CompiledModule {
  const known = cache.get(mod);
  if (known) return known;
  const limits = { ...DEFAULTS, ...opts };
  const byIndex: (JitFunction | undefined)[] = [];
  const callable: JitFunction[] = []; // what JIT code calls: byIndex, or `interpreted` stubs
  const owner = new Int32Array(mod.program.length).fill(-1);
  const leader = new Uint8Array(mod.program.length);
  const callees = calleeTable(mod);
  for (const f of mod.functions) {
    if (f.entryPc < 0) continue;
    owner.fill(f.index, f.entryPc, f.endPc);
    const plan = f.endPc - f.entryPc <= limits.maxInstructions ? planFunction(mod, f, callees) : undefined;
    const fn = plan && compileFunction(plan, mod, callable, limits);
    if (fn) for (const l of plan!.leaders) leader[l] = 1;
    byIndex[f.index] = fn;
    callable[f.index] = fn ?? interpreted(f);
  }
  const compiled = { byIndex, owner, leader };
  cache.set(mod, compiled);
  return compiled;
}

/** runUntil through the JIT: same final state as the interpreter alone. */
export function runJit(m: Machine, limit: number): void {
  const jit = compileModule(m.module);
  while (m.status === Status.RUNNING && m.steps < limit) {
    const remaining = limit - m.steps;
    const owner = jit.owner[m.pc];
    const fn = owner >= 0 ? jit.byIndex[owner] : undefined;
    if (remaining < MIN_JIT_STEPS || !fn) { // stubs, small budgets and functions without JIT code
      execute(m, owner >= 0 && !fn ? Math.min(limit, m.steps + INTERPRETER_SLICE) : owner < 0 ? m.steps + 1 : limit);
      continue;
    }
    if (!jit.leader[m.pc]) { // stopped inside a block: step to the next block start
      execute(m, m.steps + 1);
      continue;
    }
    m.budget = remaining;
    const r = fn(m, m.pc);
    m.steps += remaining - m.budget;
    if (r === 0) { // returned to a caller frame held in the machine's arrays
      const d = m.depth;
      const calleeFp = m.fp;
      const f = m.module.functions[owner];
      if (f.results) {
        m.lo[calleeFp] = m.retLo;
        m.hi[calleeFp] = f.resultType === I64 ? m.retHi : 0;
      }
      m.sp = calleeFp + f.results;
      m.pc = m.fRet[d];
      m.fp = m.fFp[d];
      m.nLocals = m.fLocals[d];
    } else if (r === 1) {
      execute(m, limit); // fewer steps left than the next block has: finish one by one
    } else if (r === 3) {
      execute(m, Math.min(limit, m.steps + INTERPRETER_SLICE)); // a call too deep for JS frames, or into interpreted code
    }
  }
}

export type { FunctionInfo };
