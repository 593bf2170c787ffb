/**
 * Batch hashing for the Merkle trees (vm/merkle.ts): many prefixed one-block keccak256 hashes in
 * one call into WebAssembly. Hashing a large memory or weights image one hash per JS call spends
 * about as long in the call (copying the prefix and the words into the sponge, reading the
 * digest back) as in the permutation itself; here a loop inside the module does it: for each
 * item it zeroes the sponge, copies the prefix and the item, pads (keccak's 0x01 ... 0x80 for a
 * single block), runs the spec's permutation (vm/spec/keccak.ts, the same code) and copies the
 * first 32 bytes out. The digests are exactly `hashLeafInto` / `hashPairInto`'s (vm/spec/hash.ts;
 * test/vm/merkle.test.ts compares them). `subtreeInto` hashes a whole bottom subtree of a tree:
 * its leaves, then every inner node in the heap order in which the levels lie one after another.
 */
import { PREFIX, type PrefixName } from "./spec/hash.js";
import { permuteBody } from "./spec/keccak.js";
import { kernelModuleOf } from "./spec/wasm-encode.js";

const RATE = 136;
// Memory: the sponge at 0 (200 bytes), the prefix at PREFIX_AT, the items, then the digests.
const PREFIX_AT = 256;
const ITEMS = 1024;
/** The largest subtree subtreeInto takes: 64 leaves (vm/merkle.ts's chunks). */
export const MAX_SUBTREE_LEAVES = 64;
const DIGESTS = ITEMS + MAX_SUBTREE_LEAVES * 32;

const I32 = 0x7f;
/** hashItems(count, src, dst, prefixLen, itemLen): params 0..4. */
function hashItemsBody(): number[] {
  const [COUNT, SRC, DST, PLEN, ILEN] = [0, 1, 2, 3, 4];
  const get = (l: number) => [0x20, l];
  const set = (l: number) => [0x21, l];
  const i32 = (v: number) => [0x41, ...sleb32(v)];
  const fill = [0xfc, 0x0b, 0x00];
  const copy = [0xfc, 0x0a, 0x00, 0x00];
  const code = [
    0x02, 0x40, 0x03, 0x40, // block, loop
    ...get(COUNT), 0x45, 0x0d, 1, // br_if 1 when count == 0
    ...i32(0), ...i32(0), ...i32(200), ...fill, // sponge = 0
    ...i32(0), ...i32(PREFIX_AT), ...get(PLEN), ...copy, // prefix
    ...get(PLEN), ...get(SRC), ...get(ILEN), ...copy, // item
    ...get(PLEN), ...get(ILEN), 0x6a, ...i32(1), 0x3a, 0, 0, // pad: 0x01 after the message
    ...i32(RATE - 1), ...i32(RATE - 1), 0x2d, 0, 0, ...i32(0x80), 0x72, 0x3a, 0, 0, // pad: 0x80 at the rate's end
    0x10, 0, // call permute
    ...get(DST), ...i32(0), ...i32(32), ...copy, // digest
    ...get(SRC), ...get(ILEN), 0x6a, ...set(SRC),
    ...get(DST), ...i32(32), 0x6a, ...set(DST),
    ...get(COUNT), ...i32(1), 0x6b, ...set(COUNT),
    0x0c, 0, 0x0b, 0x0b, // br 0, end loop, end block
  ];
  return [0, ...code, 0x0b]; // no locals
}

function sleb32(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

const instance = new WebAssembly.Instance(
  new WebAssembly.Module(
    kernelModuleOf(
      [
        { name: "permute", params: [], body: permuteBody() },
        { name: "hashItems", params: [I32, I32, I32, I32, I32], body: hashItemsBody() },
      ],
      1,
    ),
  ),
  {},
);
const memory = new Uint8Array((instance.exports.memory as WebAssembly.Memory).buffer);
const hashItems = instance.exports.hashItems as (count: number, src: number, dst: number, prefixLen: number, itemLen: number) => void;
const PREFIX_BYTES = Object.fromEntries(Object.entries(PREFIX).map(([k, v]) => [k, new TextEncoder().encode(v)])) as Record<PrefixName, Uint8Array>;

/**
 * The bottom subtree over `n` leaves (a power of two, at most MAX_SUBTREE_LEAVES) taken from
 * `leaves[at, at + 32n)` (which must hold them all): its heights 0..log2(n) concatenated (n leaf hashes, then n/2 nodes, ...,
 * then the root), (2n - 1) * 32 bytes written to `out` at `outAt`.
 */
export function subtreeInto(leafPrefix: PrefixName, nodePrefix: PrefixName, leaves: Uint8Array, at: number, n: number, out: Uint8Array, outAt: number): void {
  if (!(n >= 1 && n <= MAX_SUBTREE_LEAVES && (n & (n - 1)) === 0)) throw new RangeError(`subtreeInto: ${n} leaves is not a power of two up to ${MAX_SUBTREE_LEAVES}`);
  if (at + 32 * n > leaves.length) throw new RangeError(`subtreeInto: ${n} leaves from byte ${at} pass the end of ${leaves.length} bytes`);
  memory.set(leaves.subarray(at, at + 32 * n), ITEMS);
  const leafP = PREFIX_BYTES[leafPrefix], nodeP = PREFIX_BYTES[nodePrefix];
  memory.set(leafP, PREFIX_AT);
  hashItems(n, ITEMS, DIGESTS, leafP.length, 32);
  memory.set(nodeP, PREFIX_AT);
  // Node k of the heap order hashes digests 2k and 2k + 1 and lands at digest n + k.
  hashItems(n - 1, DIGESTS, DIGESTS + 32 * n, nodeP.length, 64);
  out.set(memory.subarray(DIGESTS, DIGESTS + (2 * n - 1) * 32), outAt);
}
