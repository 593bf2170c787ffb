/**
 * keccak256 and the domain-separated hashes of the VM state (docs/vm-state.md). Every hash is
 * keccak256(prefix ‖ fields), where the prefix is the ASCII string naming the kind of hash
 * ("detml.vm.memory-leaf:", ...) and every field is a 32-byte word (a hash, or a number as a
 * big-endian uint256), exactly `keccak256(abi.encodePacked(prefix, fields...))` in Solidity.
 * The hashing is allocation-free on the hot paths (a reused scratch buffer and sponge state).
 */
import { keccakPermute, keccakState } from "./keccak.js";

export type Hash = Uint8Array; // always 32 bytes

export const PREFIX = {
  memoryLeaf: "detml.vm.memory-leaf:",
  memoryNode: "detml.vm.memory-node:",
  codeLeaf: "detml.vm.code-leaf:",
  codeNode: "detml.vm.code-node:",
  stack: "detml.vm.stack:",
  local: "detml.vm.local:",
  localsNode: "detml.vm.locals-node:",
  frame: "detml.vm.frame:",
  state: "detml.vm.state:",
  boundary: "detml.vm.boundary:",
  module: "detml.vm.module:",
  trapped: "detml.vm.trapped:",
  inputLeaf: "detml.io.input-leaf:",
  inputNode: "detml.io.input-node:",
  output: "detml.io.output:",
} as const;
export type PrefixName = keyof typeof PREFIX;

const PREFIX_BYTES = Object.fromEntries(Object.entries(PREFIX).map(([k, v]) => [k, new TextEncoder().encode(v)])) as Record<PrefixName, Uint8Array>;

export const ZERO_HASH: Hash = new Uint8Array(32);

const RATE = 136;
const sponge = keccakState;
const sponge8 = new Uint8Array(sponge.buffer, sponge.byteOffset, 200);

/**
 * keccak256 of `len` bytes of `data` starting at `start`, written into `out` at `outAt`. The
 * sponge starts at zero, so its first block is absorbed by a plain copy (most hashes here are one
 * block: a prefix and one or two words); later blocks are XORed in.
 */
export function keccakInto(data: Uint8Array, start: number, len: number, out: Uint8Array, outAt = 0): void {
  sponge.fill(0);
  let pos = start;
  const end = start + len;
  let first = true;
  while (end - pos >= RATE) {
    if (first) sponge8.set(data.subarray(pos, pos + RATE));
    else for (let i = 0; i < RATE; i++) sponge8[i] ^= data[pos + i];
    first = false;
    keccakPermute();
    pos += RATE;
  }
  const rest = end - pos;
  if (first) sponge8.set(data.subarray(pos, end));
  else for (let i = 0; i < rest; i++) sponge8[i] ^= data[pos + i];
  sponge8[rest] ^= 0x01;
  sponge8[RATE - 1] ^= 0x80;
  keccakPermute();
  out.set(sponge8.subarray(0, 32), outAt);
}

export function keccak256(data: Uint8Array): Hash {
  const out = new Uint8Array(32);
  keccakInto(data, 0, data.length, out);
  return out;
}

const scratch = new Uint8Array(32 * 24);

/**
 * hash(prefix ‖ words...) where each word is a 32-byte Uint8Array, a number (uint256), or a
 * bigint (uint256). Allocates only the returned hash.
 */
export function hashWords(prefix: PrefixName, ...words: (Uint8Array | number | bigint)[]): Hash {
  const p = PREFIX_BYTES[prefix];
  scratch.set(p, 0);
  let at = p.length;
  for (const w of words) {
    writeWord(scratch, at, w);
    at += 32;
  }
  const out = new Uint8Array(32);
  keccakInto(scratch, 0, at, out);
  return out;
}

/** Write a 32-byte word: a hash/bytes32 as is, a number or bigint as a big-endian uint256. */
export function writeWord(buf: Uint8Array, at: number, w: Uint8Array | number | bigint): void {
  if (w instanceof Uint8Array) {
    if (w.length !== 32) throw new Error(`a word must be 32 bytes, got ${w.length}`);
    buf.set(w, at);
    return;
  }
  let v = BigInt(w);
  if (v < 0n) throw new Error(`a word must be unsigned, got ${v}`);
  for (let i = 31; i >= 0; i--) {
    buf[at + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/** A prefixed 2-word node hash into `out` (for Merkle trees): no allocation. */
export function hashPairInto(prefix: PrefixName, left: Uint8Array, leftAt: number, right: Uint8Array, rightAt: number, out: Uint8Array, outAt: number): void {
  const p = PREFIX_BYTES[prefix];
  scratch.set(p, 0);
  for (let i = 0; i < 32; i++) scratch[p.length + i] = left[leftAt + i];
  for (let i = 0; i < 32; i++) scratch[p.length + 32 + i] = right[rightAt + i];
  keccakInto(scratch, 0, p.length + 64, out, outAt);
}

/** A prefixed 1-word leaf hash of `data[at, at+32)` into `out`: no allocation. */
export function hashLeafInto(prefix: PrefixName, data: Uint8Array, at: number, out: Uint8Array, outAt: number): void {
  const p = PREFIX_BYTES[prefix];
  scratch.set(p, 0);
  for (let i = 0; i < 32; i++) scratch[p.length + i] = data[at + i];
  keccakInto(scratch, 0, p.length + 32, out, outAt);
}

export function toHex(b: Uint8Array): string {
  let s = "0x";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

export function fromHex(s: string, bytes?: number): Uint8Array {
  if (!/^0x([0-9a-fA-F]{2})*$/.test(s)) throw new Error(`not 0x-prefixed hex: ${s.length > 20 ? `${s.slice(0, 20)}...` : s}`);
  const out = new Uint8Array((s.length - 2) / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 + 2 * i, 4 + 2 * i), 16);
  if (bytes !== undefined && out.length !== bytes) throw new Error(`expected ${bytes} bytes of hex, got ${out.length}`);
  return out;
}

export function equalHash(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
