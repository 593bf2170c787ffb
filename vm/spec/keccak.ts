/**
 * keccak-f[1600], the permutation under keccak256, as a small WebAssembly module built at load
 * time: the 25 lanes are i64 locals for all 24 unrolled rounds (theta, rho and pi, chi, iota,
 * from the standard tables below), so the rotations are native `i64.rotl`. That runs about 3x
 * faster than the best JS form (lanes as pairs of int32 locals), and hashing is what dominates
 * commitments to large memories. The module's first 200 bytes are the sponge state, which the
 * caller reads and writes through `keccakState` (lane i = words 2i, 2i+1, little-endian, as in
 * noble's layout) and permutes in place with `keccakPermute()`. The bytes are encoded here by
 * hand (a few opcodes, no toolchain, vm/spec/wasm-encode.ts); the tests compare every hash with
 * @noble/hashes.
 */
import { kernelModule, sleb, uleb } from "./wasm-encode.js";

/** Rotation offsets r[x][y] of rho. */
const RHO = [[0, 36, 3, 41, 18], [1, 44, 10, 45, 2], [62, 6, 43, 15, 61], [28, 55, 25, 21, 56], [27, 20, 39, 8, 14]];

/** Round constants of iota (from the standard LFSR), as signed 64-bit values. */
function roundConstants(): bigint[] {
  const out: bigint[] = [];
  let r = 1;
  for (let round = 0; round < 24; round++) {
    let v = 0n;
    for (let j = 0; j < 7; j++) {
      if (r & 1) v |= 1n << BigInt((1 << j) - 1);
      r = r & 0x80 ? ((r << 1) ^ 0x71) & 0xff : (r << 1) & 0xff;
    }
    out.push(BigInt.asIntN(64, v));
  }
  return out;
}

const OP = { localGet: 0x20, localSet: 0x21, i32Const: 0x41, i64Const: 0x42, i64Load: 0x29, i64Store: 0x37, i64And: 0x83, i64Xor: 0x85, i64Rotl: 0x89, end: 0x0b };

/** The body of `permute()` (the state is the 200 bytes at address 0 of the memory): locals a0..a24 (0..24), b0..b24 (25..49), c0..c4 (50..54), d0..d4 (55..59). */
export function permuteBody(): number[] {
  const [A, B, C, D] = [(i: number) => i, (i: number) => 25 + i, (x: number) => 50 + x, (x: number) => 55 + x];
  const code: number[] = [];
  const get = (l: number) => code.push(OP.localGet, ...uleb(l));
  const set = (l: number) => code.push(OP.localSet, ...uleb(l));
  const rotl = (n: number) => code.push(OP.i64Const, ...sleb(BigInt(n)), OP.i64Rotl);
  const RC = roundConstants();
  for (let i = 0; i < 25; i++) {
    code.push(OP.i32Const, 0, OP.i64Load, 3, ...uleb(8 * i));
    set(A(i));
  }
  for (let round = 0; round < 24; round++) {
    for (let x = 0; x < 5; x++) {
      get(A(x));
      for (let y = 1; y < 5; y++) {
        get(A(x + 5 * y));
        code.push(OP.i64Xor);
      }
      set(C(x));
    }
    for (let x = 0; x < 5; x++) {
      get(C((x + 4) % 5));
      get(C((x + 1) % 5));
      rotl(1);
      code.push(OP.i64Xor);
      set(D(x));
    }
    for (let i = 0; i < 25; i++) {
      get(A(i));
      get(D(i % 5));
      code.push(OP.i64Xor);
      set(A(i));
    }
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 5; y++) {
        get(A(x + 5 * y));
        if (RHO[x][y]) rotl(RHO[x][y]);
        set(B(y + 5 * ((2 * x + 3 * y) % 5)));
      }
    }
    for (let y = 0; y < 5; y++) {
      for (let x = 0; x < 5; x++) {
        get(B(x + 5 * y)); // b[i] ^ (~b[i+1] & b[i+2])
        get(B(((x + 1) % 5) + 5 * y));
        code.push(OP.i64Const, ...sleb(-1n), OP.i64Xor);
        get(B(((x + 2) % 5) + 5 * y));
        code.push(OP.i64And, OP.i64Xor);
        set(A(x + 5 * y));
      }
    }
    get(A(0));
    code.push(OP.i64Const, ...sleb(RC[round]), OP.i64Xor);
    set(A(0));
  }
  for (let i = 0; i < 25; i++) {
    code.push(OP.i32Const, 0);
    get(A(i));
    code.push(OP.i64Store, 3, ...uleb(8 * i));
  }
  return [...uleb(1), ...uleb(60), 0x7e, ...code, OP.end]; // one local group: 60 x i64
}

const instance = new WebAssembly.Instance(new WebAssembly.Module(kernelModule("permute", [], permuteBody(), 1)), {});

/** The 50-word sponge state (a view of the module's memory): permuted in place by keccakPermute. */
export const keccakState = new Uint32Array((instance.exports.memory as WebAssembly.Memory).buffer, 0, 50);

/** Apply keccak-f[1600] to keccakState. */
export const keccakPermute = instance.exports.permute as () => void;
