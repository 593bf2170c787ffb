/**
 * Chunk fingerprints, the change detector of the Merkle trees (vm/merkle.ts): a tree keeps one
 * fingerprint per 2 KiB chunk of the bytes it commits to instead of a copy of them, and rehashes
 * the chunks whose fingerprint changed. A fingerprint is three independent instances of NH, the
 * universal hash of UMAC: over the chunk's 32-bit little-endian words m and key words k,
 * NH = sum over pairs (a, b) of ((m_a + k_a) mod 2^32) * ((m_b + k_b) mod 2^32), mod 2^64, with
 * the pairs (word j, word j + 4) of every 32-byte leaf. For two different chunks of the same
 * length an instance collides with probability at most 2^-32 over its key, so a changed chunk
 * goes unnoticed with probability at most 2^-96. That bound needs the keys to be independent of
 * the data: they are drawn per process from crypto.getRandomValues, never leave this module's
 * memory, and no module run in the VM can observe them. The kernel is a small SIMD WebAssembly
 * function encoded here by hand (two 64-bit products per i64x2.extmul, about 0.15 s per GiB,
 * copying included), which also reports exactly whether each chunk is all zero.
 */
import { kernelModule, sleb, uleb } from "./spec/wasm-encode.js";

/** Independent NH instances per fingerprint. */
const INSTANCES = 3;
/** 32-bit words per fingerprint (one 64-bit sum per instance). */
export const PRINT_WORDS = 2 * INSTANCES;
/** The largest chunk, in bytes: each instance's key is this long. */
export const MAX_CHUNK_BYTES = 2048;

// The kernel's memory: keys, then a block of data copied in, then its results.
const KEYS = 0;
const BLOCK = INSTANCES * MAX_CHUNK_BYTES;
const BLOCK_BYTES = 128 * 1024;
const MAX_CHUNKS = BLOCK_BYTES / 32;
const PRINTS = BLOCK + BLOCK_BYTES;
const ZEROS = PRINTS + MAX_CHUNKS * PRINT_WORDS * 4;
const PAGES = Math.ceil((ZEROS + MAX_CHUNKS) / 65536);

const I32 = 0x7f, V128 = 0x7b;

/**
 * `prints(src, n, bytes, dst, zdst)`: for each of n >= 1 chunks of `bytes` bytes from src, store
 * its INSTANCES 64-bit sums at dst (then dst += 8 * INSTANCES) and 1 or 0 at zdst (all zero or
 * not; then zdst += 1). Locals: 5 end, 6 key offset (i32); 7 zero accumulator, 8 and 9 the
 * leaf's two halves, 10 and 11 the keyed halves, 12.. the instances' sums (v128).
 */
function kernelBody(): number[] {
  const [SRC, N, BYTES, DST, ZDST, END, K, Z, V1, V2, A, B] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const sum = (t: number) => 12 + t;
  const get = (l: number) => [0x20, ...uleb(l)];
  const set = (l: number) => [0x21, ...uleb(l)];
  const tee = (l: number) => [0x22, ...uleb(l)];
  const i32 = (v: number) => [0x41, ...sleb(BigInt(v))];
  const simd = (op: number) => [0xfd, ...uleb(op)];
  const load = (offset: number) => [...simd(0x00), 4, ...uleb(offset)]; // v128.load align=16
  const zero = [...simd(0x0c), ...new Array<number>(16).fill(0)]; // v128.const 0
  const [OR, ANY_TRUE, I32X4_ADD, I64X2_ADD, EXTMUL_LOW_U, EXTMUL_HIGH_U] = [0x50, 0x53, 0xae, 0xce, 0xde, 0xdf].map(simd);
  const lane = (i: number) => [...simd(0x1d), i]; // i64x2.extract_lane
  const [I32_EQZ, I32_ADD, I32_SUB, I32_LT_U, I64_ADD, LOOP, BR_IF_0, END_OP] = [[0x45], [0x6a], [0x6b], [0x49], [0x7c], [0x03, 0x40], [0x0d, 0], [0x0b]];
  const i64Store = (offset: number) => [0x37, 3, ...uleb(offset)];
  const i32Store8 = [0x3a, 0, 0];
  const code: number[] = [];
  const emit = (...parts: number[][]) => code.push(...parts.flat());

  emit(LOOP); // over chunks
  for (let t = 0; t < INSTANCES; t++) emit(zero, set(sum(t)));
  emit(zero, set(Z));
  emit(get(SRC), get(BYTES), I32_ADD, set(END));
  emit(i32(0), set(K));
  emit(LOOP); // over the chunk's leaves
  emit(get(SRC), load(0), set(V1));
  emit(get(SRC), load(16), set(V2));
  emit(get(Z), get(V1), get(V2), OR, OR, set(Z));
  for (let t = 0; t < INSTANCES; t++) {
    emit(get(V1), get(K), load(KEYS + t * MAX_CHUNK_BYTES), I32X4_ADD, set(A));
    emit(get(V2), get(K), load(KEYS + t * MAX_CHUNK_BYTES + 16), I32X4_ADD, set(B));
    emit(get(sum(t)), get(A), get(B), EXTMUL_LOW_U, I64X2_ADD, get(A), get(B), EXTMUL_HIGH_U, I64X2_ADD, set(sum(t)));
  }
  emit(get(K), i32(32), I32_ADD, set(K));
  emit(get(SRC), i32(32), I32_ADD, tee(SRC), get(END), I32_LT_U, BR_IF_0);
  emit(END_OP);
  for (let t = 0; t < INSTANCES; t++) emit(get(DST), get(sum(t)), lane(0), get(sum(t)), lane(1), I64_ADD, i64Store(8 * t));
  emit(get(ZDST), get(Z), ANY_TRUE, I32_EQZ, i32Store8);
  emit(get(DST), i32(8 * INSTANCES), I32_ADD, set(DST));
  emit(get(ZDST), i32(1), I32_ADD, set(ZDST));
  emit(get(N), i32(1), I32_SUB, tee(N), BR_IF_0);
  emit(END_OP, END_OP);
  return [2, 2, I32, ...uleb(5 + INSTANCES), V128, ...code]; // local groups: 2 x i32, then the v128s
}

const instance = new WebAssembly.Instance(new WebAssembly.Module(kernelModule("prints", [I32, I32, I32, I32, I32], kernelBody(), PAGES)), {});
const memory = (instance.exports.memory as WebAssembly.Memory).buffer;
const bytes = new Uint8Array(memory);
const kernel = instance.exports.prints as (src: number, n: number, chunkBytes: number, dst: number, zdst: number) => void;

/** The NH keys, INSTANCES x MAX_CHUNK_BYTES bytes (exported for the tests' reference NH). */
export const printKeys = new Uint32Array(memory, KEYS, (INSTANCES * MAX_CHUNK_BYTES) / 4);
for (let at = 0; at < printKeys.length; at += 4096) globalThis.crypto.getRandomValues(printKeys.subarray(at, at + 4096));

/** fingerprintChunks' results: PRINT_WORDS words per chunk. */
export const chunkPrints = new Uint32Array(memory, PRINTS, MAX_CHUNKS * PRINT_WORDS);
/** fingerprintChunks' results: 0 for a chunk with a nonzero byte, 1 for an all-zero chunk. */
export const chunkIsZero = new Uint8Array(memory, ZEROS, MAX_CHUNKS);

/** How many chunks of `chunkBytes` one fingerprintChunks call takes at most. */
export function chunksPerCall(chunkBytes: number): number {
  return BLOCK_BYTES / chunkBytes;
}

/**
 * Fingerprint `count` consecutive chunks of `chunkBytes` bytes (a multiple of 32, at most
 * MAX_CHUNK_BYTES; count at most chunksPerCall) starting at byte `at` of `data`, bytes past its
 * end reading as zero, into chunkPrints and chunkIsZero (overwritten by the next call).
 */
export function fingerprintChunks(data: Uint8Array, at: number, chunkBytes: number, count: number): void {
  if (chunkBytes % 32 !== 0 || chunkBytes <= 0 || chunkBytes > MAX_CHUNK_BYTES || count * chunkBytes > BLOCK_BYTES) {
    throw new Error(`fingerprintChunks: ${count} chunks of ${chunkBytes} bytes`);
  }
  if (count <= 0) return;
  const n = count * chunkBytes;
  const have = Math.max(0, Math.min(n, data.length - at));
  bytes.set(data.subarray(at, at + have), BLOCK);
  if (have < n) bytes.fill(0, BLOCK + have, BLOCK + n);
  kernel(BLOCK, count, chunkBytes, PRINTS, ZEROS);
}
