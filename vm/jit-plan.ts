/**
 * Static analysis of one function's flat code for the JIT (vm/jit.ts): the basic-block leaders
 * (entry, jump targets, the instruction after every branch, call and return) and the value type
 * of every operand-stack slot before every instruction. Types follow from the instruction set
 * (every numeric instruction has a fixed result type; locals and calls have declared types), so
 * one forward pass over the control-flow graph finds them; WASM validation guarantees that every
 * path agrees. The stack types are immutable linked lists that share their lower parts, so the
 * plan costs O(code size) however deep the operand stack gets (an array per instruction would
 * cost code size times stack height: gigabytes for a 30,000-deep stack). Per block, it also
 * finds the loads whose bounds checks can move to the block's entry (`entryBoundsChecks`).
 */
import type { DecodedModule, FunctionInfo } from "./decode.js";
import { Op, type Program } from "./spec/isa.js";
import { I32, I64, opcodeInfo } from "./subset.js";

/** The operand-stack types at one point: the top slot's type and the stack below it. */
export interface StackTypes {
  readonly top: number;
  readonly below: StackTypes | undefined;
  /** Number of slots (0 for EMPTY). */
  readonly height: number;
}

const EMPTY: StackTypes = { top: -1, below: undefined, height: 0 };

function push(s: StackTypes, t: number): StackTypes {
  return { top: t, below: s, height: s.height + 1 };
}

export function popTypes(s: StackTypes, n: number): StackTypes {
  for (let i = 0; i < n; i++) s = s.below!;
  return s;
}

/** The types of the top `n` slots, bottom first. */
export function topTypes(s: StackTypes, n: number): number[] {
  const out = new Array<number>(n);
  for (let i = n - 1; i >= 0; i--, s = s.below!) out[i] = s.top;
  return out;
}

/** All slot types, bottom first. */
export function stackArray(s: StackTypes): number[] {
  return topTypes(s, s.height);
}

export interface FunctionPlan {
  f: FunctionInfo;
  /** Stack slot types before each instruction (index pc - entryPc); undefined for unreachable code. */
  types: (StackTypes | undefined)[];
  /** Block leaders, ascending. */
  leaders: number[];
  /** Callee FunctionInfo by entry pc. */
  callees: ReadonlyMap<number, FunctionInfo>;
}

/** Result type of a numeric/memory/const instruction (undefined for others). */
export function resultType(op: number): number | undefined {
  if (op === Op.I32_CONST || op === Op.I64_CONST) return op === Op.I32_CONST ? I32 : I64;
  if (op === 0x28 || (op >= 0x2c && op <= 0x2f)) return I32;
  if (op === 0x29 || (op >= 0x30 && op <= 0x35)) return I64;
  if ((op >= 0x45 && op <= 0x5a) || (op >= 0x67 && op <= 0x78) || op === 0xa7 || op === 0xc0 || op === 0xc1) return I32;
  if ((op >= 0x79 && op <= 0x8a) || op === 0xac || op === 0xad || (op >= 0xc2 && op <= 0xc4)) return I64;
  return undefined;
}

const TERMINATORS = new Set<number>([Op.JUMP, Op.JUMP_IF, Op.JUMP_UNLESS, Op.BR, Op.BR_IF, Op.BR_TABLE, Op.CALL, Op.RETURN, Op.UNREACHABLE, Op.HALT]);

export function isTerminator(op: number): boolean {
  return TERMINATORS.has(op);
}

/** The module's functions by entry pc (the callee table every plan shares). */
export function calleeTable(mod: DecodedModule): Map<number, FunctionInfo> {
  return new Map(mod.functions.filter((g) => g.entryPc >= 0).map((g) => [g.entryPc, g]));
}

export function planFunction(mod: DecodedModule, f: FunctionInfo, callees: ReadonlyMap<number, FunctionInfo> = calleeTable(mod)): FunctionPlan {
  const p = mod.program;
  const types: (StackTypes | undefined)[] = new Array(f.endPc - f.entryPc);
  const leaders = new Set<number>([f.entryPc]);
  const work: [number, StackTypes][] = [[f.entryPc, EMPTY]];
  const visit = (pc: number, stack: StackTypes, leader: boolean): void => {
    if (leader) leaders.add(pc);
    if (types[pc - f.entryPc] === undefined) work.push([pc, stack]);
  };
  while (work.length > 0) {
    let [pc, stack] = work.pop()!;
    // Walk straight-line code until a terminator or an already-typed instruction.
    for (;;) {
      if (pc < f.entryPc || pc >= f.endPc) throw new Error(`internal error: control leaves function '${f.name}' at pc ${pc}`);
      if (types[pc - f.entryPc] !== undefined) break;
      types[pc - f.entryPc] = stack;
      const op = p.op[pc], a = p.a[pc], b = p.b[pc], c = p.c[pc];
      if (TERMINATORS.has(op)) {
        if (op === Op.JUMP) visit(a, stack, true);
        else if (op === Op.JUMP_IF || op === Op.JUMP_UNLESS) {
          visit(a, popTypes(stack, 1), true);
          visit(pc + 1, popTypes(stack, 1), true);
        } else if (op === Op.BR || op === Op.BR_IF) {
          const s = op === Op.BR_IF ? popTypes(stack, 1) : stack;
          visit(a, c ? push(popTypes(s, c + b), s.top) : popTypes(s, b), true); // keep c (0/1) values, drop b below them
          if (op === Op.BR_IF) visit(pc + 1, s, true);
        } else if (op === Op.BR_TABLE) {
          for (let i = 0; i <= a; i++) visit(pc + 1 + i, popTypes(stack, 1), true);
        } else if (op === Op.CALL) {
          const g = callees.get(a)!;
          visit(pc + 1, g.results ? push(popTypes(stack, b), g.resultType!) : popTypes(stack, b), true);
        }
        break;
      }
      switch (op) {
        case Op.LOCAL_GET: stack = push(stack, f.localTypes[a]); break;
        case Op.LOCAL_SET: case Op.DROP: stack = popTypes(stack, 1); break;
        case Op.LOCAL_TEE: break;
        case Op.SELECT: stack = popTypes(stack, 2); break;
        case Op.READ_INPUT: stack = popTypes(stack, 2); break;
        case Op.WRITE_OUTPUT: stack = popTypes(stack, 1); break;
        default: {
          const info = opcodeInfo(op)!;
          const t = resultType(op);
          stack = popTypes(stack, info.pops);
          if (t !== undefined) stack = push(stack, t);
        }
      }
      pc++;
      if (leaders.has(pc)) {
        visit(pc, stack, true);
        break;
      }
    }
  }
  return { f, types, leaders: [...leaders].sort((x, y) => x - y), callees };
}

/** Bytes read by the loads 0x28..0x35 (0: not a load in the subset). */
export const LOAD_BYTES = [4, 8, 0, 0, 1, 1, 2, 2, 1, 1, 2, 2, 4, 4];

/**
 * The loads of block [start, end) whose bounds checks move to the block's entry: loads at a local
 * plus an offset (`local.get a; load offset`, a not set before them in the block), checked once
 * per local at its largest end, a JS branch per block instead of per load (the canonical MAC's
 * loads; without the per-load branches the engine also keeps fewer values alive for the exits).
 * If an entry check fails, some load of the block is out of bounds, so the block traps (there or
 * at an earlier instruction): the JIT leaves at the block's start and the interpreter runs it to
 * the trap. Returns the largest end per local and the pcs of the loads covered.
 */
export function entryBoundsChecks(program: Program, start: number, end: number): { ends: Map<number, number>; loads: Set<number> } {
  const set = new Set<number>();
  const ends = new Map<number, number>();
  const loads = new Set<number>();
  for (let pc = start; pc < end; pc++) {
    const op = program.op[pc];
    if (op === Op.LOCAL_SET || op === Op.LOCAL_TEE) set.add(program.a[pc]);
    const size = op >= 0x28 && op <= 0x35 ? LOAD_BYTES[op - 0x28] : 0;
    if (!size || pc === start || program.op[pc - 1] !== Op.LOCAL_GET || set.has(program.a[pc - 1])) continue;
    const local = program.a[pc - 1];
    ends.set(local, Math.max(ends.get(local) ?? 0, (program.a[pc] >>> 0) + size));
    loads.add(pc);
  }
  return { ends, loads };
}

/** Branches whose target is operand a. */
export function isJump(op: number): boolean {
  return op === Op.JUMP || op === Op.JUMP_IF || op === Op.JUMP_UNLESS || op === Op.BR || op === Op.BR_IF;
}
