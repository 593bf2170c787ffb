/**
 * Flattening one function body: walks the WASM instructions, applies the opcode rules of
 * vm/subset.ts (reporting violations), tracks the operand-stack height and the nesting of
 * blocks, and emits the VM's flat instructions (vm/spec/isa.ts) with resolved jump targets. A branch
 * that leaves extra operand values under its results becomes BR with a drop count, br_table
 * becomes BR_TABLE followed by its table of branches, a branch to the function label becomes
 * RETURN, unreachable code is not emitted, global.get and memory.size become constants.
 */
import { READ_INPUT_IMPORT } from "./spec/io.js";
import { FIRST_LOAD, LAST_STORE, Op, treeDepth, type Program } from "./spec/isa.js";
import { I32, PREFIX_REASON, REASON, SubsetError, miscOpcode, opcodeInfo, valueTypeName, valueTypeRefusal, type SubsetLocation } from "./subset.js";
import { Reader, type FuncType, type RawModule } from "./wasm-binary.js";

export interface FunctionInfo {
  index: number;
  name: string;
  params: number;
  results: number;
  /** Locals including parameters. */
  locals: number;
  entryPc: number;
  /** Largest operand-stack height inside the function (locals not counted). */
  maxStack: number;
  /** One past the function's last instruction. */
  endPc: number;
  /** Value type (I32 or I64 of vm/subset.ts) of each local, parameters first; and of the result. */
  localTypes: number[];
  resultType?: number;
  /** For the two host-call imports: "detml.read_input" or "detml.write_output". */
  host?: string;
}

type Where = SubsetLocation;

export class Violations {
  readonly list: SubsetError[] = [];
  constructor(readonly collect: boolean) {}
  add(message: string, where: Where = {}): void {
    const e = new SubsetError(message, where);
    if (!this.collect) throw e;
    this.list.push(e);
  }
}

/** Grows the program as plain arrays; frozen into typed arrays at the end. */
export class Emitter {
  op: number[] = [];
  a: number[] = [];
  b: number[] = [];
  c: number[] = [];
  imm: bigint[] = [];
  get pc(): number {
    return this.op.length;
  }
  emit(op: number, a = 0, b = 0, c = 0, imm = 0n): number {
    this.op.push(op);
    this.a.push(a);
    this.b.push(b);
    this.c.push(c);
    this.imm.push(imm);
    return this.op.length - 1;
  }
  freeze(): Program {
    const n = this.op.length;
    const p: Program = {
      length: n, op: Uint16Array.from(this.op), a: Int32Array.from(this.a, (x) => x | 0),
      b: Int32Array.from(this.b, (x) => x | 0), c: Int32Array.from(this.c, (x) => x | 0),
      immLo: new Int32Array(n), immHi: new Int32Array(n),
    };
    for (let i = 0; i < n; i++) {
      p.immLo[i] = Number(BigInt.asIntN(32, this.imm[i]));
      p.immHi[i] = Number(BigInt.asIntN(32, this.imm[i] >> 32n));
    }
    return p;
  }
}

const BLOCK = 0, LOOP = 1, IF = 2, FUNC = 3;
interface Ctrl {
  kind: number;
  height: number;
  arity: number;
  startPc: number;
  fixups: number[]; // instructions whose target is this construct's end
  unlessAt: number; // the JUMP_UNLESS of an `if`, until its else/end
  enteredLive: boolean;
  reachableAfter: boolean;
}

export interface Context {
  raw: RawModule;
  bytes: Uint8Array;
  nImports: number;
  funcType: (f: number) => FuncType;
  localCount: (f: number) => number;
  funcName: (f: number) => string;
  globals: { type: number; value: bigint }[];
  memoryPages: number;
  v: Violations;
  /** Every emitted call: its pc, callee, caller (-1: a segment stub) and the caller's operand height after popping the arguments. */
  calls: CallSite[];
}

export interface CallSite {
  at: number;
  func: number;
  from: number;
  height: number;
}

function blockArity(ctx: Context, r: Reader, where: () => Where): number {
  const name = where().funcName;
  const first = r.bytes[r.pos];
  if (first === 0x40) { r.pos++; return 0; }
  if ((first & 0xc0) === 0x40) { // a single value type (one-byte negative s33)
    r.pos++;
    const reason = valueTypeRefusal(first);
    if (reason) ctx.v.add(`function '${name}' has a block of type ${valueTypeName(first)} (${reason})`, where());
    return 1;
  }
  const t = ctx.raw.types[Number(r.sleb(33))];
  if (!t) r.fail("bad block type index");
  if (t.params.length > 0 || t.results.length > 1) ctx.v.add(`function '${name}' has a block with parameters or several results (${REASON.multiValue})`, where());
  for (const x of t.results) {
    const reason = valueTypeRefusal(x);
    if (reason) ctx.v.add(`function '${name}' has a block of type ${valueTypeName(x)} (${reason})`, where());
  }
  return Math.min(t.results.length, 1);
}

/** Skip the immediates of a refused opcode; false when they cannot be skipped. */
function skipImmediates(r: Reader, imm: string): boolean {
  switch (imm) {
    case "none": return true;
    case "blocktype": if (r.bytes[r.pos] === 0x40 || (r.bytes[r.pos] & 0xc0) === 0x40) r.pos++; else r.sleb(33); return true;
    case "label": case "func": case "local": case "global": case "table": case "memidx": r.u32(); return true;
    case "call_indirect": r.u32(); r.u32(); return true;
    case "memarg": { const align = r.u32(); if (align & 0x40) r.u32(); r.u32(); return true; }
    case "i32": r.sleb(32); return true;
    case "i64": r.sleb(64); return true;
    case "f32": r.skip(4); return true;
    case "f64": r.skip(8); return true;
    case "heaptype": r.sleb(33); return true;
    default: return false;
  }
}

export function flattenFunction(ctx: Context, f: number, e: Emitter): FunctionInfo {
  const { raw, v } = ctx;
  const defIndex = f - ctx.nImports;
  const body = raw.bodies[defIndex];
  const type = ctx.funcType(f);
  const name = ctx.funcName(f);
  const r = new Reader(ctx.bytes, body.start, body.end);
  let instrName = "";
  let instrAt = 0;
  const where = (): Where => ({ funcIndex: f, funcName: name, instruction: instrName, offset: instrAt });
  const info: FunctionInfo = {
    index: f, name, params: type.params.length, results: type.results.length, locals: ctx.localCount(f), entryPc: e.pc, maxStack: 0,
    endPc: e.pc, localTypes: [...type.params, ...body.locals.flatMap((l) => Array<number>(l.count).fill(l.type))], resultType: type.results[0],
  };
  for (const p of type.params) {
    const reason = valueTypeRefusal(p);
    if (reason) v.add(`function '${name}' has a parameter of type ${valueTypeName(p)} (${reason})`, { funcIndex: f, funcName: name });
  }
  for (const p of type.results) {
    const reason = valueTypeRefusal(p);
    if (reason) v.add(`function '${name}' returns ${valueTypeName(p)} (${reason})`, { funcIndex: f, funcName: name });
  }
  if (type.results.length > 1) v.add(`function '${name}' returns several values (${REASON.multiValue})`, { funcIndex: f, funcName: name });
  for (const l of body.locals) {
    const reason = valueTypeRefusal(l.type);
    if (reason) v.add(`function '${name}' declares a local of type ${valueTypeName(l.type)} (${reason})`, { funcIndex: f, funcName: name });
  }
  const localsDepth = treeDepth(info.locals);

  const ctrls: Ctrl[] = [{ kind: FUNC, height: 0, arity: Math.min(type.results.length, 1), startPc: e.pc, fixups: [], unlessAt: -1, enteredLive: true, reachableAfter: false }];
  let height = 0;
  let dead = false;
  // After a refused instruction (lint mode) the stack heights are unknown: emit nothing more.
  let poisoned = false;
  const refuse = (message: string): void => {
    v.add(message, where());
    poisoned = dead = true;
  };
  const push = (n: number): void => {
    height += n;
    if (height > info.maxStack) info.maxStack = height;
  };
  const branch = (depth: number, conditional: boolean): void => {
    if (depth >= ctrls.length) r.fail(`branch depth ${depth} out of range`);
    const target = ctrls[ctrls.length - 1 - depth];
    if (target.kind === FUNC) {
      if (conditional) e.emit(Op.JUMP_UNLESS, e.pc + 2);
      e.emit(Op.RETURN, target.arity);
      return;
    }
    const arity = target.kind === LOOP ? 0 : target.arity;
    const drop = height - target.height - arity;
    if (drop < 0) r.fail("operand stack underflow at a branch");
    const op = drop === 0 ? (conditional ? Op.JUMP_IF : Op.JUMP) : (conditional ? Op.BR_IF : Op.BR);
    const at = e.emit(op, target.kind === LOOP ? target.startPc : 0, drop, arity);
    if (target.kind !== LOOP) {
      target.fixups.push(at);
      target.reachableAfter = true;
    }
  };

  while (ctrls.length > 0) {
    instrAt = r.pos;
    let code = r.byte();
    if (PREFIX_REASON.has(code)) {
      const [family, reason] = PREFIX_REASON.get(code)!;
      instrName = `${family} instruction 0x${code.toString(16)} ${r.u32()}`;
      refuse(`function '${name}' uses a ${instrName} (${reason})`);
      return info; // their immediates vary: stop reading this function
    }
    if (code === 0xfc) {
      const misc = miscOpcode(r.u32());
      instrName = misc.name;
      refuse(`function '${name}' uses ${misc.name} (${misc.reason})`);
      if (!skipImmediates(r, misc.imm)) return info;
      continue;
    }
    const op = opcodeInfo(code);
    if (!op) {
      instrName = `opcode 0x${code.toString(16)}`;
      refuse(`function '${name}' uses unknown opcode 0x${code.toString(16)}`);
      return info;
    }
    instrName = op.name;
    if (op.refused) {
      refuse(`function '${name}' uses ${op.name} (${op.refused})`);
      if (!skipImmediates(r, op.imm)) return info;
      continue;
    }
    switch (code) {
      case 0x00: // unreachable
        if (!dead) e.emit(Op.UNREACHABLE);
        dead = true;
        break;
      case 0x01: // nop
        break;
      case 0x02: case 0x03: { // block, loop
        const arity = blockArity(ctx, r, where);
        ctrls.push({ kind: code === 0x02 ? BLOCK : LOOP, height, arity, startPc: e.pc, fixups: [], unlessAt: -1, enteredLive: !dead, reachableAfter: false });
        break;
      }
      case 0x04: { // if
        const arity = blockArity(ctx, r, where);
        let unlessAt = -1;
        if (!dead) {
          height--;
          unlessAt = e.emit(Op.JUMP_UNLESS, 0);
        }
        ctrls.push({ kind: IF, height, arity, startPc: e.pc, fixups: [], unlessAt, enteredLive: !dead, reachableAfter: false });
        break;
      }
      case 0x05: { // else
        const c = ctrls[ctrls.length - 1];
        if (c.kind !== IF || c.unlessAt === -2) r.fail("else without if");
        if (!dead) {
          c.fixups.push(e.emit(Op.JUMP, 0));
          c.reachableAfter = true;
        }
        if (c.unlessAt >= 0) e.a[c.unlessAt] = e.pc;
        c.unlessAt = -2; // the else branch is open
        height = c.height;
        dead = poisoned || !c.enteredLive;
        break;
      }
      case 0x0b: { // end
        const c = ctrls.pop()!;
        if (!dead) c.reachableAfter = true;
        if (c.kind === IF && c.unlessAt >= 0) { // if without else: the false edge falls through
          e.a[c.unlessAt] = e.pc;
          c.reachableAfter = true;
        }
        for (const at of c.fixups) e.a[at] = e.pc;
        if (c.kind === FUNC) {
          if (!dead) e.emit(Op.RETURN, c.arity);
          break;
        }
        height = c.height + c.arity;
        if (height > info.maxStack) info.maxStack = height;
        dead = poisoned || !(c.enteredLive && c.reachableAfter);
        break;
      }
      case 0x0c: { // br
        const depth = r.u32();
        if (!dead) branch(depth, false);
        dead = true;
        break;
      }
      case 0x0d: { // br_if
        const depth = r.u32();
        if (!dead) {
          height--;
          branch(depth, true);
        }
        break;
      }
      case 0x0e: { // br_table
        const labels = Array.from({ length: r.u32() + 1 }, () => r.u32());
        if (!dead) {
          height--;
          e.emit(Op.BR_TABLE, labels.length - 1);
          for (const depth of labels) branch(depth, false);
        }
        dead = true;
        break;
      }
      case 0x0f: // return
        if (!dead) e.emit(Op.RETURN, ctrls[0].arity);
        dead = true;
        break;
      case 0x10: { // call
        const callee = r.u32();
        const t = ctx.funcType(callee);
        if (!t) r.fail(`call to unknown function ${callee}`);
        if (dead) break;
        height -= t.params.length;
        if (callee < ctx.nImports) {
          const imp = raw.imports[callee];
          e.emit(`${imp.module}.${imp.name}` === READ_INPUT_IMPORT ? Op.READ_INPUT : Op.WRITE_OUTPUT);
        } else {
          ctx.calls.push({ at: e.pc, func: callee, from: f, height });
          e.emit(Op.CALL, 0, t.params.length, ctx.localCount(callee));
        }
        push(Math.min(t.results.length, 1));
        break;
      }
      case 0x1c: { // typed select
        const n = r.u32();
        const types = Array.from({ length: n }, () => r.byte());
        if (n !== 1 || valueTypeRefusal(types[0])) refuse(`function '${name}' uses select of type ${types.map(valueTypeName).join(",")} (${valueTypeRefusal(types[0]) ?? REASON.multiValue})`);
        if (!dead) { height -= 3; e.emit(Op.SELECT); push(1); }
        break;
      }
      case 0x20: case 0x21: case 0x22: { // local.get/set/tee
        const index = r.u32();
        if (index >= info.locals) r.fail(`local ${index} out of range`);
        if (!dead) { height -= op.pops; e.emit(code, index, localsDepth); push(op.pushes); }
        break;
      }
      case 0x23: { // global.get of an immutable global: a constant
        const g = ctx.globals[r.u32()];
        if (!g) r.fail("global index out of range");
        if (!dead) { e.emit(g.type === I32 ? Op.I32_CONST : Op.I64_CONST, 0, 0, 0, BigInt.asUintN(g.type === I32 ? 32 : 64, g.value)); push(1); }
        break;
      }
      case 0x3f: // memory.size: the memory never grows
        if (r.byte() !== 0) r.fail("memory.size of a memory other than 0");
        if (!dead) { e.emit(Op.I32_CONST, 0, 0, 0, BigInt(ctx.memoryPages)); push(1); }
        break;
      case 0x41: case 0x42: { // i32.const, i64.const
        const value = r.sleb(code === 0x41 ? 32 : 64);
        if (!dead) { e.emit(code, 0, 0, 0, BigInt.asUintN(code === 0x41 ? 32 : 64, value)); push(1); }
        break;
      }
      default: {
        let offset = 0;
        if (code >= FIRST_LOAD && code <= LAST_STORE) {
          const align = r.u32();
          if (align & 0x40) r.fail("multi-memory access");
          offset = r.u32();
        }
        if (!dead) { height -= op.pops; e.emit(code, offset); push(op.pushes); }
      }
    }
    if (height < 0 && !dead) r.fail(`operand stack underflow at ${op.name}`);
  }
  if (r.pos !== body.end) r.fail("bytes after the function's final end");
  info.endPc = e.pc;
  return info;
}
