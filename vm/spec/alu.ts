/**
 * Integer semantics of the numeric instructions for the one-step verifier, on unsigned bigint
 * values (an i32 is 0..2^32-1, an i64 0..2^64-1), the way a Solidity verifier computes them on
 * uint32/uint64. Written independently of the interpreter's int32-pair arithmetic so the two
 * check each other in the property tests.
 */
import { Status } from "./isa.js";

const M32 = 0xffffffffn;
const M64 = 0xffffffffffffffffn;
const s32 = (x: bigint): bigint => BigInt.asIntN(32, x);
const s64 = (x: bigint): bigint => BigInt.asIntN(64, x);

const UNARY = new Set([0x45, 0x50, 0x67, 0x68, 0x69, 0x79, 0x7a, 0x7b, 0xa7, 0xac, 0xad, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4]);

export function isUnary(op: number): boolean {
  return UNARY.has(op);
}

export function isBinary(op: number): boolean {
  return (op >= 0x46 && op <= 0x4f) || (op >= 0x51 && op <= 0x5a) || (op >= 0x6a && op <= 0x78) || (op >= 0x7c && op <= 0x8a);
}

function clz(x: bigint, bits: number): bigint {
  let n = 0;
  for (let i = bits - 1; i >= 0 && ((x >> BigInt(i)) & 1n) === 0n; i--) n++;
  return BigInt(n);
}

function ctz(x: bigint, bits: number): bigint {
  let n = 0;
  for (let i = 0; i < bits && ((x >> BigInt(i)) & 1n) === 0n; i++) n++;
  return BigInt(n);
}

function popcnt(x: bigint): bigint {
  let n = 0n;
  for (; x > 0n; x >>= 1n) n += x & 1n;
  return n;
}

export function aluUnary(op: number, x: bigint): bigint {
  const x32 = x & M32;
  switch (op) {
    case 0x45: return x32 === 0n ? 1n : 0n; // i32.eqz
    case 0x50: return x === 0n ? 1n : 0n; // i64.eqz
    case 0x67: return clz(x32, 32);
    case 0x68: return ctz(x32, 32);
    case 0x69: return popcnt(x32);
    case 0x79: return clz(x, 64);
    case 0x7a: return ctz(x, 64);
    case 0x7b: return popcnt(x);
    case 0xa7: return x32; // i32.wrap_i64
    case 0xac: return BigInt.asUintN(64, s32(x32)); // i64.extend_i32_s
    case 0xad: return x32; // i64.extend_i32_u
    case 0xc0: return BigInt.asUintN(32, BigInt.asIntN(8, x32));
    case 0xc1: return BigInt.asUintN(32, BigInt.asIntN(16, x32));
    case 0xc2: return BigInt.asUintN(64, BigInt.asIntN(8, x));
    case 0xc3: return BigInt.asUintN(64, BigInt.asIntN(16, x));
    case 0xc4: return BigInt.asUintN(64, BigInt.asIntN(32, x));
    default: throw new Error(`not a unary instruction: 0x${op.toString(16)}`);
  }
}

const b2n = (c: boolean): bigint => (c ? 1n : 0n);

export function aluBinary(op: number, x: bigint, y: bigint): { value: bigint; trap: number } {
  const ok = (value: bigint) => ({ value, trap: 0 });
  const fail = (trap: number) => ({ value: 0n, trap });
  if (op <= 0x4f || (op >= 0x6a && op <= 0x78)) { // i32
    const a = x & M32, b = y & M32;
    const sh = b & 31n;
    switch (op) {
      case 0x46: return ok(b2n(a === b));
      case 0x47: return ok(b2n(a !== b));
      case 0x48: return ok(b2n(s32(a) < s32(b)));
      case 0x49: return ok(b2n(a < b));
      case 0x4a: return ok(b2n(s32(a) > s32(b)));
      case 0x4b: return ok(b2n(a > b));
      case 0x4c: return ok(b2n(s32(a) <= s32(b)));
      case 0x4d: return ok(b2n(a <= b));
      case 0x4e: return ok(b2n(s32(a) >= s32(b)));
      case 0x4f: return ok(b2n(a >= b));
      case 0x6a: return ok((a + b) & M32);
      case 0x6b: return ok((a - b) & M32);
      case 0x6c: return ok((a * b) & M32);
      case 0x6d:
        if (b === 0n) return fail(Status.DIV_ZERO);
        if (s32(a) === -(2n ** 31n) && s32(b) === -1n) return fail(Status.INT_OVERFLOW);
        return ok((s32(a) / s32(b)) & M32);
      case 0x6e: return b === 0n ? fail(Status.DIV_ZERO) : ok(a / b);
      case 0x6f: return b === 0n ? fail(Status.DIV_ZERO) : ok((s32(a) % s32(b)) & M32);
      case 0x70: return b === 0n ? fail(Status.DIV_ZERO) : ok(a % b);
      case 0x71: return ok(a & b);
      case 0x72: return ok(a | b);
      case 0x73: return ok(a ^ b);
      case 0x74: return ok((a << sh) & M32);
      case 0x75: return ok((s32(a) >> sh) & M32);
      case 0x76: return ok(a >> sh);
      case 0x77: return ok(((a << sh) | (a >> (32n - sh))) & M32);
      case 0x78: return ok(((a >> sh) | (a << (32n - sh))) & M32);
    }
  } else { // i64
    const a = x & M64, b = y & M64;
    const sh = b & 63n;
    switch (op) {
      case 0x51: return ok(b2n(a === b));
      case 0x52: return ok(b2n(a !== b));
      case 0x53: return ok(b2n(s64(a) < s64(b)));
      case 0x54: return ok(b2n(a < b));
      case 0x55: return ok(b2n(s64(a) > s64(b)));
      case 0x56: return ok(b2n(a > b));
      case 0x57: return ok(b2n(s64(a) <= s64(b)));
      case 0x58: return ok(b2n(a <= b));
      case 0x59: return ok(b2n(s64(a) >= s64(b)));
      case 0x5a: return ok(b2n(a >= b));
      case 0x7c: return ok((a + b) & M64);
      case 0x7d: return ok((a - b) & M64);
      case 0x7e: return ok((a * b) & M64);
      case 0x7f:
        if (b === 0n) return fail(Status.DIV_ZERO);
        if (s64(a) === -(2n ** 63n) && s64(b) === -1n) return fail(Status.INT_OVERFLOW);
        return ok((s64(a) / s64(b)) & M64);
      case 0x80: return b === 0n ? fail(Status.DIV_ZERO) : ok(a / b);
      case 0x81: return b === 0n ? fail(Status.DIV_ZERO) : ok((s64(a) % s64(b)) & M64);
      case 0x82: return b === 0n ? fail(Status.DIV_ZERO) : ok(a % b);
      case 0x83: return ok(a & b);
      case 0x84: return ok(a | b);
      case 0x85: return ok(a ^ b);
      case 0x86: return ok((a << sh) & M64);
      case 0x87: return ok((s64(a) >> sh) & M64);
      case 0x88: return ok(a >> sh);
      case 0x89: return ok(((a << sh) | (a >> (64n - sh))) & M64);
      case 0x8a: return ok(((a >> sh) | (a << (64n - sh))) & M64);
    }
  }
  throw new Error(`not a binary instruction: 0x${op.toString(16)}`);
}
