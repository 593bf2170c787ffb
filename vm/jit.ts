/**
 * A JIT for the fast path of `Machine.runUntil`: each function's flat code becomes one JavaScript
 * function (built with `new Function`, then optimized by the engine), with its locals and
 * operand-stack slots in JS variables (slot j of the operand stack is variable s_j, its high half
 * t_j; stack heights are static) and its basic blocks as cases of a switch in a loop. Semantics
 * are exactly the interpreter's, step for step: every block first checks that the step budget
 * covers all of its instructions, otherwise it writes the machine state back and returns, and
 * the interpreter runs the remaining steps one by one. A trap writes back the state before the
 * trapping instruction, as the interpreter leaves it. Calls between functions are direct JS
 * calls; when a callee stops, each caller writes its frame record, locals and stack, so the
 * machine's arrays always hold the full state after a return to the runner. Returns: 0 the
 * function returned (result in m.retLo/retHi), 1 stopped for the budget, 2 trapped, 3 stopped
 * before a call deeper than MAX_JIT_DEPTH (deep recursion runs in the interpreter).
 */
import type { DecodedModule, FunctionInfo } from "./decode.js";
import { clz64, ctz32, ctz64, divrem64, popcnt32, rot64, rotl32 } from "./i64.js";
import { Op, Status, type Program } from "./isa.js";
import { isTerminator, planFunction, type FunctionPlan } from "./jit-plan.js";
import { execute } from "./interpreter.js";
import type { Machine } from "./machine.js";
import { I64, MAX_CALL_DEPTH, MAX_STACK_SLOTS, opcodeInfo } from "./subset.js";

type JitFunction = (m: Machine, entry: number) => number;

interface CompiledModule {
  /** JIT function by WASM function index (undefined: not compiled, the interpreter runs it). */
  byIndex: (JitFunction | undefined)[];
  /** Function index owning each pc (-1 for the segment stubs). */
  owner: Int32Array;
  /** 1 at the pcs where JIT code can be entered (block leaders). */
  leader: Uint8Array;
}

/** Functions with more locals than this are left to the interpreter (the code would be huge). */
const MAX_JIT_LOCALS = 512;
/** Below this many remaining steps the interpreter is used directly. */
const MIN_JIT_STEPS = 256;
/**
 * Calls from JIT code are JS calls, so deep recursion would exhaust the JS stack: at this call
 * depth the JIT hands the call to the interpreter (which keeps frames in the machine's arrays).
 */
const MAX_JIT_DEPTH = 32;
/** Steps the interpreter runs before the JIT is tried again after a deep call. */
const INTERPRETER_SLICE = 1 << 16;

const cache = new WeakMap<DecodedModule, CompiledModule>();

const HELPERS = { rotl32, ctz32, popcnt32, clz64, ctz64, divrem64, rot64 };
const XL = new Int32Array(2), XH = new Int32Array(2);

const CMP32: Record<number, [string, boolean]> = {
  0x46: ["===", false], 0x47: ["!==", false], 0x48: ["<", false], 0x49: ["<", true], 0x4a: [">", false], 0x4b: [">", true],
  0x4c: ["<=", false], 0x4d: ["<=", true], 0x4e: [">=", false], 0x4f: [">=", true],
};

class FunctionWriter {
  private readonly out: string[] = [];
  private readonly nl: number;
  constructor(private readonly plan: FunctionPlan, private readonly program: Program, private readonly byIndexName: string) {
    this.nl = plan.f.locals;
  }

  private localIs64(i: number): boolean {
    return this.plan.f.localTypes[i] === I64;
  }

  /**
   * Every way out of the function other than a return: [pc, stack types (1 = i64), status,
   * return code (-1: the callee's), caller-frame save]. The sites only record which one and
   * jump to the single write-back sequence after the dispatch loop, which keeps the functions
   * small (the engine compiles them faster) and the hot paths free of cold code.
   */
  private readonly exits: [number, number[], number, number, boolean][] = [];

  /** Leave with the state before instruction `pc` (stack types `ty`), `status`, budget + `refund`; returns `code`. */
  private exit(pc: number, ty: readonly number[], status: number, refund: number, code = status ? 2 : 1): string {
    this.exits.push([pc, ty.map((t) => (t === I64 ? 1 : 0)), status, code, false]);
    return `{${this.flush(0, ty.length, true)}${refund ? `budget+=${refund};` : ""}ex=${this.exits.length - 1};break run;}`;
  }

  /** After a callee stopped: write this frame's record, locals and the stack below the arguments. */
  private callerExit(returnPc: number, below: readonly number[]): string {
    this.exits.push([returnPc, below.map((t) => (t === I64 ? 1 : 0)), 0, -1, true]);
    return `{ex=${this.exits.length - 1};break run;}`;
  }

  /** The write-back sequence shared by all exits. */
  private exitSequence(maxStack: number): string {
    const nl = this.nl;
    const locals = Array.from({ length: nl }, (_, i) => `lo[fp+${i}]=l${i};hi[fp+${i}]=${this.localIs64(i) ? `k${i}` : 0};`).join("");
    const stack = Array.from({ length: maxStack }, (_, k) => maxStack - 1 - k)
      .map((j) => `case ${j + 1}:lo[fp+${nl + j}]=s${j};hi[fp+${nl + j}]=X[1][${j}]?t${j}:0;`).join("");
    return `const X=EXITS[ex];${locals}switch(X[1].length){${stack}}` +
      `if(X[4]){m.fRet[myDepth]=X[0];m.fFp[myDepth]=fp;m.fLocals[myDepth]=${nl};return x;}` +
      `m.pc=X[0];m.sp=fp+${nl}+X[1].length;m.fp=fp;m.nLocals=${nl};m.depth=myDepth;if(X[2]!==0)m.status=X[2];m.budget=budget;return X[3];`;
  }

  /**
   * Constants and local reads are not assigned to their stack slot at once: the slot stays
   * "pending" with the expression, which its consumer inlines (e.g. `s0=(l3+4)|0` instead of
   * three statements), so the engine's first, unoptimized run of the code does less work.
   * Pending slots are materialized at block ends, before exits and before a local they read is
   * written.
   */
  private pend: ({ lo: string; hi?: string } | undefined)[] = [];

  /** Assignments materializing the pending slots in [from, to) (left pending when `keep`). */
  private flush(from: number, to: number, keep = false): string {
    let out = "";
    for (let j = from; j < to; j++) {
      const p = this.pend[j];
      if (!p) continue;
      out += `s${j}=${p.lo};${p.hi !== undefined ? `t${j}=${p.hi};` : ""}`;
      if (!keep) this.pend[j] = undefined;
    }
    return out;
  }

  /** Materialize the pending slots below `to` that read local `a` (before it is written). */
  private flushReads(a: number, to: number): string {
    let out = "";
    for (let j = 0; j < to; j++) if (this.pend[j]?.lo === `l${a}`) out += this.flush(j, j + 1);
    return out;
  }

  private value(j: number): string {
    return this.pend[j]?.lo ?? `s${j}`;
  }

  private valueHi(j: number): string {
    const p = this.pend[j];
    return p ? (p.hi ?? "0") : `t${j}`;
  }

  generate(): string {
    const { f, types, leaders } = this.plan;
    const w = this.out;
    w.push(`return function ${sanitize(f.name)}(m, entry) {`);
    w.push("const lo=m.lo,hi=m.hi,dv=m.view,mem=m.memory,MEM=m.memoryBytes,fp=m.fp,myDepth=m.depth;let budget=m.budget,pc=entry,x=0,y=0,ex=0;");
    w.push(`let ${Array.from({ length: this.nl }, (_, i) => `l${i}=lo[fp+${i}]${this.localIs64(i) ? `,k${i}=hi[fp+${i}]` : ""}`).join(",") || "_l=0"};`);
    w.push(`let ${Array.from({ length: Math.max(f.maxStack, 1) }, (_, j) => `s${j}=0,t${j}=0`).join(",")};`);
    // Resuming inside the function: reload the operand stack of the entry block.
    const resumes = leaders.filter((l) => (types[l - f.entryPc]?.length ?? 0) > 0);
    if (resumes.length > 0) {
      w.push("switch(entry){");
      for (const l of resumes) {
        const ty = types[l - f.entryPc]!;
        w.push(`case ${l}:${ty.map((t, j) => `s${j}=lo[fp+${this.nl + j}];${t === I64 ? `t${j}=hi[fp+${this.nl + j}];` : ""}`).join("")}break;`);
      }
      w.push("}");
    }
    w.push("run: for(;;){switch(pc){");
    const live = leaders.filter((l) => types[l - f.entryPc] !== undefined);
    const leaderSet = new Set(leaders);
    live.forEach((start, li) => {
      let end = start + 1; // the block: up to its terminator or the next leader
      while (end < f.endPc && !leaderSet.has(end) && !isTerminator(this.program.op[end - 1])) end++;
      const len = end - start;
      const ty0 = types[start - f.entryPc]!;
      this.pend = [];
      w.push(`case ${start}: if(budget<${len})${this.exit(start, ty0, 0, 0)} budget-=${len};`);
      for (let pc = start; pc < end; pc++) w.push(this.instruction(pc, pc - start, len, types[pc - f.entryPc]!));
      w.push(this.flush(0, this.pend.length));
      // Fall through into the next case when it is the next instruction.
      const op = this.program.op[end - 1];
      const fallsThrough = !isTerminator(op) || op === Op.CALL || op === Op.JUMP_IF || op === Op.JUMP_UNLESS || op === Op.BR_IF;
      if (fallsThrough && live[li + 1] !== end) w.push(`pc=${end};continue;`);
    });
    w.push(`default: throw new Error("internal error: JIT entry at pc "+pc);}}`);
    w.push(`${this.exitSequence(Math.max(f.maxStack, 1))}};`);
    return `const EXITS=${JSON.stringify(this.exits)};\n${w.join("\n")}`;
  }

  /** The JS statement(s) for the instruction at pc (index i of a block of `len`, stack types `ty`). */
  private instruction(pc: number, i: number, len: number, ty: readonly number[]): string {
    const prog = this.program;
    const op = prog.op[pc], a = prog.a[pc] >>> 0, b = prog.b[pc] >>> 0, c = prog.c[pc] >>> 0;
    const h = ty.length;
    const trap = (status: number): string => this.exit(pc, ty, status, len - i - 1);
    const A = h - 2, B = h - 1; // binary operands; unary/loads use B
    const is64 = (j: number) => ty[j] === I64;
    const v = (j: number) => this.value(j);
    const clear = (...slots: number[]) => slots.forEach((j) => (this.pend[j] = undefined));
    switch (op) {
      case Op.UNREACHABLE: return trap(Status.UNREACHABLE);
      case Op.I32_CONST: this.pend[h] = { lo: literal(prog.immLo[pc]) }; return "";
      case Op.I64_CONST: this.pend[h] = { lo: literal(prog.immLo[pc]), hi: literal(prog.immHi[pc]) }; return "";
      case Op.LOCAL_GET: this.pend[h] = { lo: `l${a}`, hi: this.localIs64(a) ? `k${a}` : undefined }; return "";
      case Op.DROP: clear(B); return "";
      case Op.LOCAL_SET: case Op.LOCAL_TEE: {
        const code = `${this.flushReads(a, B)}l${a}=${v(B)};${this.localIs64(a) ? `k${a}=${this.valueHi(B)};` : ""}`;
        if (op === Op.LOCAL_SET) clear(B);
        return code;
      }
      case Op.JUMP_IF: case Op.JUMP_UNLESS: {
        const cond = v(B);
        clear(B);
        return `${this.flush(0, B)}if(${cond}${op === Op.JUMP_IF ? "!==" : "==="}0){pc=${a};continue;}`;
      }
      case Op.RETURN:
        return `${a ? `m.retLo=${v(B)};m.retHi=${is64(B) ? this.valueHi(B) : 0};` : ""}m.depth=myDepth-1;m.budget=budget;return 0;`;
    }
    if (op >= 0x28 && op <= 0x35) { // loads
      const size = [4, 8, 0, 0, 1, 1, 2, 2, 1, 1, 2, 2, 4, 4][op - 0x28];
      const read: Record<number, string> = {
        0x28: `s${B}=dv.getInt32(x,true);`, 0x29: `s${B}=dv.getInt32(x,true);t${B}=dv.getInt32(x+4,true);`,
        0x2c: `s${B}=(mem[x]<<24)>>24;`, 0x2d: `s${B}=mem[x];`, 0x2e: `s${B}=dv.getInt16(x,true);`, 0x2f: `s${B}=dv.getUint16(x,true);`,
        0x30: `s${B}=(mem[x]<<24)>>24;t${B}=s${B}>>31;`, 0x31: `s${B}=mem[x];t${B}=0;`, 0x32: `s${B}=dv.getInt16(x,true);t${B}=s${B}>>31;`,
        0x33: `s${B}=dv.getUint16(x,true);t${B}=0;`, 0x34: `s${B}=dv.getInt32(x,true);t${B}=s${B}>>31;`, 0x35: `s${B}=dv.getInt32(x,true);t${B}=0;`,
      };
      const code = `x=(${v(B)}>>>0)+${a};if(x>MEM-${size})${trap(Status.OUT_OF_BOUNDS)}${read[op]}`;
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
      const code = `x=(${v(A)}>>>0)+${a};if(x>MEM-${size})${trap(Status.OUT_OF_BOUNDS)}${write[op]}`;
      clear(A, B);
      return code;
    }
    const simple = simpleI32(op, `s${A}`, v(A), v(B));
    if (simple !== undefined) {
      clear(A, B);
      return simple;
    }
    if (op === 0x45) { // i32.eqz
      const code = `s${B}=${v(B)}===0?1:0;`;
      clear(B);
      return code;
    }
    // Everything else reads its operands from the slot variables.
    const operands = op === Op.SELECT ? 3 : op === Op.CALL ? h : op === Op.BR || op === Op.BR_IF || op === Op.BR_TABLE || op === Op.JUMP ? h
      : op === Op.READ_INPUT ? 2 : op === Op.WRITE_OUTPUT ? 1 : (opcodeInfo(op)?.pops ?? 0);
    const pre = this.flush(op === Op.BR || op === Op.BR_IF || op === Op.BR_TABLE || op === Op.JUMP || op === Op.CALL ? 0 : h - operands, h);
    switch (op) {
      case Op.SELECT: return `${pre}if(s${h - 1}===0){s${h - 3}=s${h - 2};t${h - 3}=t${h - 2};}`;
      case Op.JUMP: return `${pre}pc=${a};continue;`;
      case Op.BR: case Op.BR_IF: {
        const top = op === Op.BR_IF ? h - 1 : h;
        const keep = c !== 0 && b !== 0 ? `s${top - 1 - b}=s${top - 1};t${top - 1 - b}=t${top - 1};` : "";
        return op === Op.BR_IF ? `${pre}if(s${B}!==0){${keep}pc=${a};continue;}` : `${pre}${keep}pc=${a};continue;`;
      }
      case Op.BR_TABLE: return `${pre}x=s${B}>>>0;pc=${pc + 1}+(x<${a}?x:${a});continue;`;
      case Op.CALL: return pre + this.call(pc, i, len, ty);
      case Op.READ_INPUT:
        return `${pre}x=s${B}>>>0;y=s${A}>>>0;if((x&31)!==0||x+32>MEM||y>=m.inputChunks)${trap(Status.BAD_HOST_CALL)}mem.set(m.input.subarray(y*32,y*32+32),x);`;
      case Op.WRITE_OUTPUT:
        return `${pre}x=s${B}>>>0;if((x&31)!==0||x+32>MEM)${trap(Status.BAD_HOST_CALL)}m.appendOutput(x);`;
    }
    return pre + numeric(op, A, B, trap);
  }

  private call(pc: number, i: number, len: number, ty: readonly number[]): string {
    const prog = this.program;
    const g = this.plan.callees.get(prog.a[pc])!;
    const nParams = prog.b[pc], nLocals = prog.c[pc], maxStack = prog.immLo[pc];
    const h = ty.length;
    const trap = (status: number): string => this.exit(pc, ty, status, len - i - 1);
    const below = ty.slice(0, h - nParams);
    const args = Array.from({ length: nParams }, (_, j) => `lo[y+${j}]=s${h - nParams + j};hi[y+${j}]=${ty[h - nParams + j] === I64 ? `t${h - nParams + j}` : 0};`).join("");
    const result = g.results ? `s${h - nParams}=m.retLo;${g.resultType === I64 ? `t${h - nParams}=m.retHi;` : ""}` : "";
    return `if(myDepth>=${MAX_JIT_DEPTH})${this.exit(pc, ty, 0, len - i, 3)}if(myDepth>=${MAX_CALL_DEPTH})${trap(Status.CALL_DEPTH)}` +
      `y=fp+${this.nl + h - nParams};if(y+${nLocals + maxStack}>${MAX_STACK_SLOTS})${trap(Status.STACK_OVERFLOW)}` +
      `${args}for(x=y+${nParams};x<y+${nLocals};x++){lo[x]=0;hi[x]=0;}` +
      `m.depth=myDepth+1;m.fp=y;m.budget=budget;x=${this.byIndexName}[${g.index}](m,${g.entryPc});budget=m.budget;` +
      `if(x!==0)${this.callerExit(pc + 1, below)}` +
      `m.fp=fp;${result}`;
  }
}

/** A number as an operand expression (negative ones parenthesized: `a-(-5)`, not `a--5`). */
function literal(n: number): string {
  return n < 0 ? `(${n})` : String(n);
}

/** i32 binary instructions on operand expressions a, b into `dst` (undefined for other instructions). */
function simpleI32(op: number, dst: string, a: string, b: string): string | undefined {
  if (CMP32[op]) {
    const [cmp, unsigned] = CMP32[op];
    return unsigned ? `${dst}=(${a}>>>0)${cmp}(${b}>>>0)?1:0;` : `${dst}=${a}${cmp}${b}?1:0;`;
  }
  switch (op) {
    case 0x6a: return `${dst}=(${a}+${b})|0;`;
    case 0x6b: return `${dst}=(${a}-${b})|0;`;
    case 0x6c: return `${dst}=Math.imul(${a},${b});`;
    case 0x71: return `${dst}=${a}&${b};`;
    case 0x72: return `${dst}=${a}|${b};`;
    case 0x73: return `${dst}=${a}^${b};`;
    case 0x74: return `${dst}=${a}<<${b};`;
    case 0x75: return `${dst}=${a}>>${b};`;
    case 0x76: return `${dst}=(${a}>>>${b})|0;`;
    default: return undefined;
  }
}

/** The other numeric instructions: operands in slot variables A (first) and B (second), result in A (B for unary ones). */
function numeric(op: number, A: number, B: number, trap: (status: number) => string): string {
  const sa = `s${A}`, sb = `s${B}`, ta = `t${A}`, tb = `t${B}`;
  const lt = (x: string, xh: string, y: string, yh: string, unsigned: boolean) =>
    unsigned ? `((${xh}>>>0)<(${yh}>>>0)||(${xh}===${yh}&&(${x}>>>0)<(${y}>>>0)))` : `(${xh}<${yh}||(${xh}===${yh}&&(${x}>>>0)<(${y}>>>0)))`;
  const viaArrays = (call: string, unary = false) => `XL[0]=${unary ? sb : sa};XH[0]=${unary ? tb : ta};XL[1]=${sb};XH[1]=${tb};${call}${unary ? sb : sa}=XL[0];${unary ? tb : ta}=XH[0];`;
  switch (op) {
    case 0x50: return `${sb}=(${sb}|${tb})===0?1:0;`;
    case 0x51: return `${sa}=(${sa}===${sb}&&${ta}===${tb})?1:0;`;
    case 0x52: return `${sa}=(${sa}!==${sb}||${ta}!==${tb})?1:0;`;
    case 0x53: return `${sa}=${lt(sa, ta, sb, tb, false)}?1:0;`;
    case 0x54: return `${sa}=${lt(sa, ta, sb, tb, true)}?1:0;`;
    case 0x55: return `${sa}=${lt(sb, tb, sa, ta, false)}?1:0;`;
    case 0x56: return `${sa}=${lt(sb, tb, sa, ta, true)}?1:0;`;
    case 0x57: return `${sa}=${lt(sb, tb, sa, ta, false)}?0:1;`;
    case 0x58: return `${sa}=${lt(sb, tb, sa, ta, true)}?0:1;`;
    case 0x59: return `${sa}=${lt(sa, ta, sb, tb, false)}?0:1;`;
    case 0x5a: return `${sa}=${lt(sa, ta, sb, tb, true)}?0:1;`;
    case 0x67: return `${sb}=Math.clz32(${sb});`;
    case 0x68: return `${sb}=H.ctz32(${sb});`;
    case 0x69: return `${sb}=H.popcnt32(${sb});`;
    case 0x6d: return `if(${sb}===0)${trap(Status.DIV_ZERO)}if(${sb}===-1&&${sa}===-2147483648)${trap(Status.INT_OVERFLOW)}${sa}=(${sa}/${sb})|0;`;
    case 0x6e: return `if(${sb}===0)${trap(Status.DIV_ZERO)}${sa}=((${sa}>>>0)/(${sb}>>>0))|0;`;
    case 0x6f: return `if(${sb}===0)${trap(Status.DIV_ZERO)}${sa}=(${sa}%${sb})|0;`;
    case 0x70: return `if(${sb}===0)${trap(Status.DIV_ZERO)}${sa}=((${sa}>>>0)%(${sb}>>>0))|0;`;
    case 0x77: return `${sa}=H.rotl32(${sa},${sb});`;
    case 0x78: return `${sa}=H.rotl32(${sa},-${sb});`;
    case 0x79: return viaArrays("H.clz64(XL,XH,0);", true);
    case 0x7a: return viaArrays("H.ctz64(XL,XH,0);", true);
    case 0x7b: return `${sb}=H.popcnt32(${sb})+H.popcnt32(${tb});${tb}=0;`;
    // Carry and borrow from unsigned compares, so every intermediate stays a 32-bit integer.
    case 0x7c: return `x=${sa};${sa}=(${sa}+${sb})|0;${ta}=(${ta}+${tb}+((${sa}>>>0)<(x>>>0)?1:0))|0;`;
    case 0x7d: return `x=${sa};${sa}=(${sa}-${sb})|0;${ta}=(${ta}-${tb}-((x>>>0)<(${sb}>>>0)?1:0))|0;`;
    case 0x7e: // 64-bit multiply from 16-bit partial products (exact in doubles)
      return `{const a0=${sa}&65535,a1=${sa}>>>16,b0=${sb}&65535,b1=${sb}>>>16,p00=a0*b0,p01=a0*b1,p10=a1*b0;` +
        `const mid=(p00>>>16)+(p01&65535)+(p10&65535);` +
        `${ta}=(a1*b1+(p01>>>16)+(p10>>>16)+(mid>>>16)+Math.imul(${sa},${tb})+Math.imul(${ta},${sb}))|0;${sa}=Math.imul(${sa},${sb});}`;
    case 0x7f: case 0x80: case 0x81: case 0x82:
      return `XL[0]=${sa};XH[0]=${ta};XL[1]=${sb};XH[1]=${tb};x=H.divrem64(XL,XH,0,1,${op});if(x===${Status.DIV_ZERO})${trap(Status.DIV_ZERO)}` +
        `if(x===${Status.INT_OVERFLOW})${trap(Status.INT_OVERFLOW)}${sa}=XL[0];${ta}=XH[0];`;
    case 0x83: return `${sa}&=${sb};${ta}&=${tb};`;
    case 0x84: return `${sa}|=${sb};${ta}|=${tb};`;
    case 0x85: return `${sa}^=${sb};${ta}^=${tb};`;
    case 0x86: return `x=${sb}&63;if(x>=32){${ta}=${sa}<<(x-32);${sa}=0;}else if(x!==0){${ta}=(${ta}<<x)|(${sa}>>>(32-x));${sa}<<=x;}`;
    case 0x87: return `x=${sb}&63;if(x>=32){${sa}=${ta}>>(x-32);${ta}>>=31;}else if(x!==0){${sa}=(${sa}>>>x)|(${ta}<<(32-x));${ta}>>=x;}`;
    case 0x88: return `x=${sb}&63;if(x>=32){${sa}=(${ta}>>>(x-32))|0;${ta}=0;}else if(x!==0){${sa}=(${sa}>>>x)|(${ta}<<(32-x));${ta}=(${ta}>>>x)|0;}`;
    case 0x89: return viaArrays(`H.rot64(XL,XH,0,${sb},true);`);
    case 0x8a: return viaArrays(`H.rot64(XL,XH,0,${sb},false);`);
    case 0xa7: return "";
    case 0xac: return `${tb}=${sb}>>31;`;
    case 0xad: return `${tb}=0;`;
    case 0xc0: return `${sb}=(${sb}<<24)>>24;`;
    case 0xc1: return `${sb}=(${sb}<<16)>>16;`;
    case 0xc2: return `${sb}=(${sb}<<24)>>24;${tb}=${sb}>>31;`;
    case 0xc3: return `${sb}=(${sb}<<16)>>16;${tb}=${sb}>>31;`;
    case 0xc4: return `${tb}=${sb}>>31;`;
  }
  throw new Error(`internal error: the JIT has no code for opcode 0x${op.toString(16)}`);
}

function sanitize(name: string): string {
  return `f_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;
}

export function compileModule(mod: DecodedModule): CompiledModule {
  const known = cache.get(mod);
  if (known) return known;
  const byIndex: (JitFunction | undefined)[] = [];
  const owner = new Int32Array(mod.program.length).fill(-1);
  const leader = new Uint8Array(mod.program.length);
  for (const f of mod.functions) {
    if (f.entryPc < 0) continue;
    owner.fill(f.index, f.entryPc, f.endPc);
    if (f.locals > MAX_JIT_LOCALS) continue;
    const plan = planFunction(mod, f);
    for (const l of plan.leaders) leader[l] = 1;
    const source = new FunctionWriter(plan, mod.program, "F").generate();
    byIndex[f.index] = new Function("F", "H", "XL", "XH", source)(byIndex, HELPERS, XL, XH) as JitFunction;
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
      execute(m, Math.min(limit, m.steps + INTERPRETER_SLICE)); // a call too deep for JS frames
    }
  }
}

export type { FunctionInfo };
