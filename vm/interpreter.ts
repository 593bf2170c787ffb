/**
 * The instruction loop: executes the flat program of a Machine until a step limit, a halt or a
 * trap. All machine registers live in local variables during the loop and the switch cases are
 * integer literals (so V8 compiles a jump table); nothing is allocated or hashed per
 * instruction. Case numbers are the opcodes of vm/spec/isa.ts (WASM numbering for WASM instructions).
 * A trapping instruction counts as a step but changes nothing else: its trap condition is
 * checked before any operand is popped, and the status (a Status of vm/spec/isa.ts) records the reason.
 */
import { clz64, ctz32, ctz64, divrem64, lt64s, lt64u, mul64, popcnt32, rot64, rotl32, shl64, shr64 } from "./i64.js";
import { Status } from "./spec/isa.js";
import type { Machine } from "./machine.js";
import { WRITE_CHUNK_SHIFT as WRITE_SHIFT } from "./merkle.js";
import { MAX_CALL_DEPTH, MAX_STACK_SLOTS } from "./spec/limits.js";

export function execute(m: Machine, limit: number): void {
  if (m.status !== Status.RUNNING) return;
  const p = m.program;
  const OP = p.op, A = p.a, B = p.b, C = p.c, IL = p.immLo, IH = p.immHi;
  const lo = m.lo, hi = m.hi, dv = m.view, mem = m.memory, memBytes = m.memoryBytes, W = m.stamps, E = m.epoch;
  const fRet = m.fRet, fFp = m.fFp, fLocals = m.fLocals;
  let pc = m.pc, sp = m.sp, fp = m.fp, nLocals = m.nLocals, depth = m.depth, steps = m.steps;
  let status: number = Status.RUNNING, t = 0, u = 0, ea = 0;
  run: while (steps < limit) {
    steps++;
    switch (OP[pc]) {
      // ---- control ----
      case 0x00: status = Status.UNREACHABLE; break run;
      case 0x0f: // return: the result (if any) replaces the callee's frame
        depth--;
        if (A[pc] !== 0) { lo[fp] = lo[sp - 1]; hi[fp] = hi[sp - 1]; sp = fp + 1; } else sp = fp;
        pc = fRet[depth]; fp = fFp[depth]; nLocals = fLocals[depth];
        break;
      case 0x10: { // call
        if (depth >= MAX_CALL_DEPTH) { status = Status.CALL_DEPTH; break run; }
        const base = sp - B[pc], n = C[pc];
        if (base + n + IL[pc] > MAX_STACK_SLOTS) { status = Status.STACK_OVERFLOW; break run; }
        fRet[depth] = pc + 1; fFp[depth] = fp; fLocals[depth] = nLocals; depth++;
        for (let i = sp; i < base + n; i++) { lo[i] = 0; hi[i] = 0; }
        fp = base; nLocals = n; sp = base + n; pc = A[pc];
        break;
      }
      case 0x1a: sp--; pc++; break; // drop
      case 0x1b: // select
        sp -= 2;
        if (lo[sp + 1] === 0) { lo[sp - 1] = lo[sp]; hi[sp - 1] = hi[sp]; }
        pc++; break;
      case 0x20: t = fp + A[pc]; lo[sp] = lo[t]; hi[sp] = hi[t]; sp++; pc++; break; // local.get
      case 0x21: t = fp + A[pc]; sp--; lo[t] = lo[sp]; hi[t] = hi[sp]; pc++; break; // local.set
      case 0x22: t = fp + A[pc]; lo[t] = lo[sp - 1]; hi[t] = hi[sp - 1]; pc++; break; // local.tee
      case 0x100: pc = A[pc]; break; // jump
      case 0x101: sp--; pc = lo[sp] !== 0 ? A[pc] : pc + 1; break; // jump_if
      case 0x102: sp--; pc = lo[sp] === 0 ? A[pc] : pc + 1; break; // jump_unless
      case 0x104: // br_if
        sp--;
        if (lo[sp] === 0) { pc++; break; }
      // falls through: the branch is taken
      case 0x103: // br: keep c values, drop b below them
        t = B[pc];
        if (C[pc] !== 0) { lo[sp - 1 - t] = lo[sp - 1]; hi[sp - 1 - t] = hi[sp - 1]; }
        sp -= t; pc = A[pc];
        break;
      case 0x105: sp--; t = lo[sp] >>> 0; pc = pc + 1 + (t < A[pc] ? t : A[pc]); break; // br_table
      case 0x106: status = Status.HALTED; break run;
      case 0x107: // read_input(chunk, dst)
        ea = lo[sp - 1] >>> 0; t = lo[sp - 2] >>> 0;
        if ((ea & 31) !== 0 || ea + 32 > memBytes || t >= m.inputChunks) { status = Status.BAD_HOST_CALL; break run; }
        mem.set(m.input.subarray(t * 32, t * 32 + 32), ea);
        W[ea >>> WRITE_SHIFT] = E;
        sp -= 2; pc++; break;
      case 0x108: // write_output(src)
        ea = lo[sp - 1] >>> 0;
        if ((ea & 31) !== 0 || ea + 32 > memBytes) { status = Status.BAD_HOST_CALL; break run; }
        m.appendOutput(ea);
        sp--; pc++; break;

      // ---- memory: loads replace the address, stores pop address and value ----
      case 0x28: ea = (lo[sp - 1] >>> 0) + (A[pc] >>> 0); if (ea + 4 > memBytes) { status = Status.OUT_OF_BOUNDS; break run; } lo[sp - 1] = dv.getInt32(ea, true); pc++; break;
      case 0x29: ea = (lo[sp - 1] >>> 0) + (A[pc] >>> 0); if (ea + 8 > memBytes) { status = Status.OUT_OF_BOUNDS; break run; } lo[sp - 1] = dv.getInt32(ea, true); hi[sp - 1] = dv.getInt32(ea + 4, true); pc++; break;
      case 0x2c: ea = (lo[sp - 1] >>> 0) + (A[pc] >>> 0); if (ea + 1 > memBytes) { status = Status.OUT_OF_BOUNDS; break run; } lo[sp - 1] = (mem[ea] << 24) >> 24; pc++; break;
      case 0x2d: ea = (lo[sp - 1] >>> 0) + (A[pc] >>> 0); if (ea + 1 > memBytes) { status = Status.OUT_OF_BOUNDS; break run; } lo[sp - 1] = mem[ea]; pc++; break;
      case 0x2e: ea = (lo[sp - 1] >>> 0) + (A[pc] >>> 0); if (ea + 2 > memBytes) { status = Status.OUT_OF_BOUNDS; break run; } lo[sp - 1] = dv.getInt16(ea, true); pc++; break;
      case 0x2f: ea = (lo[sp - 1] >>> 0) + (A[pc] >>> 0); if (ea + 2 > memBytes) { status = Status.OUT_OF_BOUNDS; break run; } lo[sp - 1] = dv.getUint16(ea, true); pc++; break;
      case 0x30: ea = (lo[sp - 1] >>> 0) + (A[pc] >>> 0); if (ea + 1 > memBytes) { status = Status.OUT_OF_BOUNDS; break run; } t = (mem[ea] << 24) >> 24; lo[sp - 1] = t; hi[sp - 1] = t >> 31; pc++; break;
      case 0x31: ea = (lo[sp - 1] >>> 0) + (A[pc] >>> 0); if (ea + 1 > memBytes) { status = Status.OUT_OF_BOUNDS; break run; } lo[sp - 1] = mem[ea]; hi[sp - 1] = 0; pc++; break;
      case 0x32: ea = (lo[sp - 1] >>> 0) + (A[pc] >>> 0); if (ea + 2 > memBytes) { status = Status.OUT_OF_BOUNDS; break run; } t = dv.getInt16(ea, true); lo[sp - 1] = t; hi[sp - 1] = t >> 31; pc++; break;
      case 0x33: ea = (lo[sp - 1] >>> 0) + (A[pc] >>> 0); if (ea + 2 > memBytes) { status = Status.OUT_OF_BOUNDS; break run; } lo[sp - 1] = dv.getUint16(ea, true); hi[sp - 1] = 0; pc++; break;
      case 0x34: ea = (lo[sp - 1] >>> 0) + (A[pc] >>> 0); if (ea + 4 > memBytes) { status = Status.OUT_OF_BOUNDS; break run; } t = dv.getInt32(ea, true); lo[sp - 1] = t; hi[sp - 1] = t >> 31; pc++; break;
      case 0x35: ea = (lo[sp - 1] >>> 0) + (A[pc] >>> 0); if (ea + 4 > memBytes) { status = Status.OUT_OF_BOUNDS; break run; } lo[sp - 1] = dv.getInt32(ea, true); hi[sp - 1] = 0; pc++; break;
      case 0x36: ea = (lo[sp - 2] >>> 0) + (A[pc] >>> 0); if (ea + 4 > memBytes) { status = Status.OUT_OF_BOUNDS; break run; } W[ea >>> WRITE_SHIFT] = E; dv.setInt32(ea, lo[sp - 1], true); sp -= 2; pc++; break;
      case 0x37: ea = (lo[sp - 2] >>> 0) + (A[pc] >>> 0); if (ea + 8 > memBytes) { status = Status.OUT_OF_BOUNDS; break run; } W[ea >>> WRITE_SHIFT] = E; dv.setInt32(ea, lo[sp - 1], true); dv.setInt32(ea + 4, hi[sp - 1], true); sp -= 2; pc++; break;
      case 0x3a: case 0x3c: ea = (lo[sp - 2] >>> 0) + (A[pc] >>> 0); if (ea + 1 > memBytes) { status = Status.OUT_OF_BOUNDS; break run; } W[ea >>> WRITE_SHIFT] = E; mem[ea] = lo[sp - 1]; sp -= 2; pc++; break;
      case 0x3b: case 0x3d: ea = (lo[sp - 2] >>> 0) + (A[pc] >>> 0); if (ea + 2 > memBytes) { status = Status.OUT_OF_BOUNDS; break run; } W[ea >>> WRITE_SHIFT] = E; dv.setInt16(ea, lo[sp - 1], true); sp -= 2; pc++; break;
      case 0x3e: ea = (lo[sp - 2] >>> 0) + (A[pc] >>> 0); if (ea + 4 > memBytes) { status = Status.OUT_OF_BOUNDS; break run; } W[ea >>> WRITE_SHIFT] = E; dv.setInt32(ea, lo[sp - 1], true); sp -= 2; pc++; break;

      // ---- constants ----
      case 0x41: lo[sp] = IL[pc]; hi[sp] = 0; sp++; pc++; break;
      case 0x42: lo[sp] = IL[pc]; hi[sp] = IH[pc]; sp++; pc++; break;

      // ---- i32 comparisons (an i32 result slot already has hi = 0) ----
      case 0x45: lo[sp - 1] = lo[sp - 1] === 0 ? 1 : 0; pc++; break;
      case 0x46: sp--; lo[sp - 1] = lo[sp - 1] === lo[sp] ? 1 : 0; pc++; break;
      case 0x47: sp--; lo[sp - 1] = lo[sp - 1] !== lo[sp] ? 1 : 0; pc++; break;
      case 0x48: sp--; lo[sp - 1] = lo[sp - 1] < lo[sp] ? 1 : 0; pc++; break;
      case 0x49: sp--; lo[sp - 1] = lo[sp - 1] >>> 0 < lo[sp] >>> 0 ? 1 : 0; pc++; break;
      case 0x4a: sp--; lo[sp - 1] = lo[sp - 1] > lo[sp] ? 1 : 0; pc++; break;
      case 0x4b: sp--; lo[sp - 1] = lo[sp - 1] >>> 0 > lo[sp] >>> 0 ? 1 : 0; pc++; break;
      case 0x4c: sp--; lo[sp - 1] = lo[sp - 1] <= lo[sp] ? 1 : 0; pc++; break;
      case 0x4d: sp--; lo[sp - 1] = lo[sp - 1] >>> 0 <= lo[sp] >>> 0 ? 1 : 0; pc++; break;
      case 0x4e: sp--; lo[sp - 1] = lo[sp - 1] >= lo[sp] ? 1 : 0; pc++; break;
      case 0x4f: sp--; lo[sp - 1] = lo[sp - 1] >>> 0 >= lo[sp] >>> 0 ? 1 : 0; pc++; break;

      // ---- i64 comparisons (i32 result: hi cleared) ----
      case 0x50: lo[sp - 1] = (lo[sp - 1] | hi[sp - 1]) === 0 ? 1 : 0; hi[sp - 1] = 0; pc++; break;
      case 0x51: sp--; lo[sp - 1] = lo[sp - 1] === lo[sp] && hi[sp - 1] === hi[sp] ? 1 : 0; hi[sp - 1] = 0; pc++; break;
      case 0x52: sp--; lo[sp - 1] = lo[sp - 1] !== lo[sp] || hi[sp - 1] !== hi[sp] ? 1 : 0; hi[sp - 1] = 0; pc++; break;
      case 0x53: sp--; lo[sp - 1] = lt64s(lo[sp - 1], hi[sp - 1], lo[sp], hi[sp]) ? 1 : 0; hi[sp - 1] = 0; pc++; break;
      case 0x54: sp--; lo[sp - 1] = lt64u(lo[sp - 1], hi[sp - 1], lo[sp], hi[sp]) ? 1 : 0; hi[sp - 1] = 0; pc++; break;
      case 0x55: sp--; lo[sp - 1] = lt64s(lo[sp], hi[sp], lo[sp - 1], hi[sp - 1]) ? 1 : 0; hi[sp - 1] = 0; pc++; break;
      case 0x56: sp--; lo[sp - 1] = lt64u(lo[sp], hi[sp], lo[sp - 1], hi[sp - 1]) ? 1 : 0; hi[sp - 1] = 0; pc++; break;
      case 0x57: sp--; lo[sp - 1] = lt64s(lo[sp], hi[sp], lo[sp - 1], hi[sp - 1]) ? 0 : 1; hi[sp - 1] = 0; pc++; break;
      case 0x58: sp--; lo[sp - 1] = lt64u(lo[sp], hi[sp], lo[sp - 1], hi[sp - 1]) ? 0 : 1; hi[sp - 1] = 0; pc++; break;
      case 0x59: sp--; lo[sp - 1] = lt64s(lo[sp - 1], hi[sp - 1], lo[sp], hi[sp]) ? 0 : 1; hi[sp - 1] = 0; pc++; break;
      case 0x5a: sp--; lo[sp - 1] = lt64u(lo[sp - 1], hi[sp - 1], lo[sp], hi[sp]) ? 0 : 1; hi[sp - 1] = 0; pc++; break;

      // ---- i32 arithmetic ----
      case 0x67: lo[sp - 1] = Math.clz32(lo[sp - 1]); pc++; break;
      case 0x68: lo[sp - 1] = ctz32(lo[sp - 1]); pc++; break;
      case 0x69: lo[sp - 1] = popcnt32(lo[sp - 1]); pc++; break;
      case 0x6a: sp--; lo[sp - 1] = (lo[sp - 1] + lo[sp]) | 0; pc++; break;
      case 0x6b: sp--; lo[sp - 1] = (lo[sp - 1] - lo[sp]) | 0; pc++; break;
      case 0x6c: sp--; lo[sp - 1] = Math.imul(lo[sp - 1], lo[sp]); pc++; break;
      case 0x6d: // div_s
        t = lo[sp - 1];
        if (t === 0) { status = Status.DIV_ZERO; break run; }
        if (t === -1 && lo[sp - 2] === -2147483648) { status = Status.INT_OVERFLOW; break run; }
        sp--; lo[sp - 1] = (lo[sp - 1] / t) | 0; pc++; break;
      case 0x6e: t = lo[sp - 1] >>> 0; if (t === 0) { status = Status.DIV_ZERO; break run; } sp--; lo[sp - 1] = ((lo[sp - 1] >>> 0) / t) | 0; pc++; break;
      case 0x6f: t = lo[sp - 1]; if (t === 0) { status = Status.DIV_ZERO; break run; } sp--; lo[sp - 1] = (lo[sp - 1] % t) | 0; pc++; break;
      case 0x70: t = lo[sp - 1] >>> 0; if (t === 0) { status = Status.DIV_ZERO; break run; } sp--; lo[sp - 1] = ((lo[sp - 1] >>> 0) % t) | 0; pc++; break;
      case 0x71: sp--; lo[sp - 1] &= lo[sp]; pc++; break;
      case 0x72: sp--; lo[sp - 1] |= lo[sp]; pc++; break;
      case 0x73: sp--; lo[sp - 1] ^= lo[sp]; pc++; break;
      case 0x74: sp--; lo[sp - 1] <<= lo[sp]; pc++; break;
      case 0x75: sp--; lo[sp - 1] >>= lo[sp]; pc++; break;
      case 0x76: sp--; lo[sp - 1] = (lo[sp - 1] >>> lo[sp]) | 0; pc++; break;
      case 0x77: sp--; lo[sp - 1] = rotl32(lo[sp - 1], lo[sp]); pc++; break;
      case 0x78: sp--; lo[sp - 1] = rotl32(lo[sp - 1], -lo[sp]); pc++; break;

      // ---- i64 arithmetic ----
      case 0x79: clz64(lo, hi, sp - 1); pc++; break;
      case 0x7a: ctz64(lo, hi, sp - 1); pc++; break;
      case 0x7b: lo[sp - 1] = popcnt32(lo[sp - 1]) + popcnt32(hi[sp - 1]); hi[sp - 1] = 0; pc++; break;
      case 0x7c: // add with carry
        sp--; t = (lo[sp - 1] >>> 0) + (lo[sp] >>> 0);
        lo[sp - 1] = t | 0; hi[sp - 1] = (hi[sp - 1] + hi[sp] + (t > 0xffffffff ? 1 : 0)) | 0; pc++; break;
      case 0x7d: // sub with borrow
        sp--; t = (lo[sp - 1] >>> 0) - (lo[sp] >>> 0);
        lo[sp - 1] = t | 0; hi[sp - 1] = (hi[sp - 1] - hi[sp] - (t < 0 ? 1 : 0)) | 0; pc++; break;
      case 0x7e: sp--; mul64(lo, hi, sp - 1, sp); pc++; break;
      case 0x7f: case 0x80: case 0x81: case 0x82:
        u = divrem64(lo, hi, sp - 2, sp - 1, OP[pc]);
        if (u !== 0) { status = u; break run; }
        sp--; pc++; break;
      case 0x83: sp--; lo[sp - 1] &= lo[sp]; hi[sp - 1] &= hi[sp]; pc++; break;
      case 0x84: sp--; lo[sp - 1] |= lo[sp]; hi[sp - 1] |= hi[sp]; pc++; break;
      case 0x85: sp--; lo[sp - 1] ^= lo[sp]; hi[sp - 1] ^= hi[sp]; pc++; break;
      case 0x86: sp--; shl64(lo, hi, sp - 1, lo[sp]); pc++; break;
      case 0x87: sp--; shr64(lo, hi, sp - 1, lo[sp], true); pc++; break;
      case 0x88: sp--; shr64(lo, hi, sp - 1, lo[sp], false); pc++; break;
      case 0x89: sp--; rot64(lo, hi, sp - 1, lo[sp], true); pc++; break;
      case 0x8a: sp--; rot64(lo, hi, sp - 1, lo[sp], false); pc++; break;

      // ---- conversions and sign extension ----
      case 0xa7: hi[sp - 1] = 0; pc++; break; // i32.wrap_i64
      case 0xac: hi[sp - 1] = lo[sp - 1] >> 31; pc++; break; // i64.extend_i32_s
      case 0xad: hi[sp - 1] = 0; pc++; break; // i64.extend_i32_u
      case 0xc0: lo[sp - 1] = (lo[sp - 1] << 24) >> 24; pc++; break;
      case 0xc1: lo[sp - 1] = (lo[sp - 1] << 16) >> 16; pc++; break;
      case 0xc2: t = (lo[sp - 1] << 24) >> 24; lo[sp - 1] = t; hi[sp - 1] = t >> 31; pc++; break;
      case 0xc3: t = (lo[sp - 1] << 16) >> 16; lo[sp - 1] = t; hi[sp - 1] = t >> 31; pc++; break;
      case 0xc4: hi[sp - 1] = lo[sp - 1] >> 31; pc++; break;
      default:
        throw new Error(`internal error: no instruction 0x${OP[pc].toString(16)} at pc ${pc}`);
    }
  }
  m.pc = pc; m.sp = sp; m.fp = fp; m.nLocals = nLocals; m.depth = depth; m.steps = steps;
  if (status !== Status.RUNNING) m.status = status;
}
