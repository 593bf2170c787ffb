/**
 * Binary Merkle trees over 32-byte leaves (memory, code, input, locals). A leaf hash is
 * keccak(leafPrefix ‖ 32 bytes), an inner node keccak(nodePrefix ‖ left ‖ right); the tree is
 * padded to 2^depth leaves with all-zero leaves, whose subtree hashes are precomputed and also
 * stand in for every all-zero leaf and every node over two all-zero subtrees, which skips most of
 * the hashing of a fresh memory. To stay small next to a memory of up to 4 GiB, a tree neither
 * copies the bytes it commits to nor keeps every level: it reads the caller's buffer (the last
 * one given to the constructor or sync, which it keeps referenced), and stores only the nodes at
 * height >= `low` (6: one node per *chunk* of 64 leaves, 2 KiB, so the stored hashes take 1/32 of
 * the data). A path or a leaf update recomputes its chunk's bottom subtree from the data (127
 * hashes at most; the last chunk is cached, as a proof's accesses often share one). Changes are
 * found by fingerprint: the tree keeps a 192-bit universal hash of each chunk's committed bytes
 * (vm/fingerprint.ts, 24 bytes per chunk), and `sync(data)` rehashes only the chunks whose
 * fingerprint changed, and their ancestors; given the write log of the machine whose memory it
 * commits to (`WriteLog`), it fingerprints only the chunks written since its last sync, which
 * keeps a boundary of a 1 GiB memory from reading the whole gigabyte. Hence the caller's contract: between syncs it may
 * change the buffer only through `setLeaf`, or after `pin`ning the leaves it overwrites (the
 * prover pins the leaves a step writes, runs the step, then proves the write against their old
 * bytes and commits the new ones with setLeaf). A path over a chunk that changed behind the
 * tree's back throws rather than answer from the wrong bytes. A tree may start with one aligned
 * subtree *known* (a weights image, docs/vm-state.md section 5): its chunk roots are given, so
 * the constructor hashes them up to the subtree's root (one hash per 2 KiB chunk, checked against
 * the known root) instead of hashing every leaf; `imageTree` computes them once, and
 * `sparseRoot` (vm/merkle-roots.ts) gives a memory root from data pieces and a known subtree without a memory buffer.
 */
import { chunkIsZero, chunkPrints, chunksPerCall, fingerprintChunks, PRINT_WORDS } from "./fingerprint.js";
import { subtreeInto } from "./keccak-batch.js";
import { hashLeafInto, hashPairInto, type Hash, type PrefixName } from "./spec/hash.js";
import { treeDepth } from "./spec/isa.js";

/** Height of the bottom subtrees whose nodes are not stored: 64 leaves (2 KiB of data) each. */
const LOW = 6;
/** log2 of a chunk's bytes (2 KiB): a write log stamps memory at this granularity. */
export const WRITE_CHUNK_SHIFT = LOW + 5;

/**
 * Where a buffer was written, per 2 KiB chunk (vm/machine.ts keeps one for its memory): every
 * write to `memory` sets stamps[byte >>> WRITE_CHUNK_SHIFT] = epoch for the first byte it writes
 * (a write of at most 32 bytes reaches at most the next chunk, so a reader treats chunk c as
 * written when c or c - 1 is stamped), and a write of the whole buffer stamps every chunk. A tree
 * synced with a log moves `epoch` on, so stamps only grow and each tree knows which are news to it
 * (several trees may follow one log). Writing `memory` without stamping breaks every tree that
 * follows the log: the honest prover would commit to stale bytes.
 */
export interface WriteLog {
  readonly memory: Uint8Array;
  readonly stamps: Uint32Array;
  epoch: number;
}

const zeroCache = new Map<string, Uint8Array[]>();

/** zero[l] = root of a subtree of height l whose leaves are all zero bytes. */
export function zeroHashes(leafPrefix: PrefixName, nodePrefix: PrefixName, depth: number): Uint8Array[] {
  const key = `${leafPrefix}/${nodePrefix}`;
  let z = zeroCache.get(key);
  if (!z) {
    z = [new Uint8Array(32)];
    hashLeafInto(leafPrefix, new Uint8Array(32), 0, z[0], 0);
    zeroCache.set(key, z);
  }
  while (z.length <= depth) {
    const h = new Uint8Array(32);
    hashPairInto(nodePrefix, z[z.length - 1], 0, z[z.length - 1], 0, h, 0);
    z.push(h);
  }
  return z;
}

/**
 * A subtree over an image's bytes zero-padded to 2^depth leaves: its root and the roots of its
 * 64-leaf chunks (its one root when it has fewer leaves), what a MerkleTree needs to take the
 * subtree as known.
 */
export interface ImageTree {
  depth: number;
  root: Hash;
  /** 32 bytes per chunk of 2^min(LOW, depth) leaves, in order. */
  chunkRoots: Uint8Array;
}

/** A known subtree of a tree: the image tree of the leaves from `firstLeaf` (a multiple of 2^tree.depth). */
export interface KnownSubtree {
  firstLeaf: number;
  tree: ImageTree;
}

/** The padded depth of an image of `bytes` bytes: ceil(log2(ceil(bytes / 32))), at least 0. */
export function imageDepth(bytes: number): number {
  return treeDepth(Math.ceil(bytes / 32));
}

/**
 * Hash an image once, fully: its subtree root and chunk roots (`bytes` zero-padded to whole
 * leaves and 2^imageDepth leaves; the bytes are copied only when their length is not a multiple
 * of 32).
 */
export function imageTree(leafPrefix: PrefixName, nodePrefix: PrefixName, bytes: Uint8Array): ImageTree {
  const depth = imageDepth(bytes.length);
  const whole = bytes.length % 32 === 0 ? bytes : padTo32(bytes);
  const t = new MerkleTree(leafPrefix, nodePrefix, whole, depth);
  return { depth, root: t.root(), chunkRoots: t.chunkRoots(2 ** depth) };
}

/** Leaves per chunk of an image tree's chunk roots (2^LOW): what `imageChunkRootsInto` hashes per root. */
export const CHUNK_LEAVES = 1 << LOW;

/**
 * The roots of chunks `first .. first + count - 1` (CHUNK_LEAVES leaves, 2 KiB, each) of an image
 * of `bytes`, zero-padded past its end, into `out` at `outAt` (32 bytes per root): a part of
 * imageTree's work that can run anywhere (abi/image-tree.ts hashes halves of an image in two
 * threads and joins them with `imageTreeFromChunkRoots`).
 */
export function imageChunkRootsInto(leafPrefix: PrefixName, nodePrefix: PrefixName, bytes: Uint8Array, first: number, count: number, out: Uint8Array, outAt: number): void {
  const chunkBytes = 32 * CHUNK_LEAVES;
  const subtree = new Uint8Array((2 * CHUNK_LEAVES - 1) * 32);
  let padded: Uint8Array | undefined;
  for (let c = first; c < first + count; c++) {
    let src = bytes, at = c * chunkBytes;
    if (at + chunkBytes > bytes.length) {
      padded ??= new Uint8Array(chunkBytes);
      padded.fill(0);
      if (at < bytes.length) padded.set(bytes.subarray(at));
      src = padded;
      at = 0;
    }
    subtreeInto(leafPrefix, nodePrefix, src, at, CHUNK_LEAVES, subtree, 0);
    out.set(subtree.subarray(subtree.length - 32), outAt + 32 * (c - first));
  }
}

/** The image tree of depth `depth` (>= LOW) from all its 2^(depth - LOW) chunk roots, hashed up here. */
export function imageTreeFromChunkRoots(nodePrefix: PrefixName, depth: number, chunkRoots: Uint8Array): ImageTree {
  if (depth < LOW || chunkRoots.length !== 32 * 2 ** (depth - LOW)) throw new Error(`imageTreeFromChunkRoots: a tree of depth ${depth} needs ${depth < LOW ? "depth >= 6" : `${2 ** (depth - LOW)} chunk roots`}`);
  let level = chunkRoots;
  while (level.length > 32) {
    const up = new Uint8Array(level.length / 2);
    for (let i = 0; i < up.length / 32; i++) hashPairInto(nodePrefix, level, 64 * i, level, 64 * i + 32, up, 32 * i);
    level = up;
  }
  return { depth, root: level.slice(0, 32), chunkRoots };
}

function padTo32(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.length / 32) * 32);
  out.set(bytes);
  return out;
}

export class MerkleTree {
  readonly depth: number;
  readonly leaves: number;
  /** Height of the unstored bottom subtrees (LOW, or the depth of a smaller tree). */
  private readonly low: number;
  /** Chunks holding real leaves: ceil(leaves / 2^low). */
  private readonly chunks: number;
  /** levels[j] holds max(1, ceil(leaves / 2^(low + j))) node hashes; the last one is the root. */
  private readonly levels: Uint8Array[];
  /** The fingerprint of each chunk's committed bytes, PRINT_WORDS words each. */
  private readonly prints: Uint32Array;
  private readonly zero: Uint8Array[];
  /** The caller's buffer holding the committed bytes (not a copy), except the pinned leaves. */
  private data: Uint8Array;
  /** Committed bytes of the leaves `data` may no longer hold: pinned, or set by setLeaf to other bytes. */
  private readonly pinned = new Map<number, Uint8Array>();
  /** One chunk's subtree, heights 0..low concatenated (bottomOffset), for chunk `bottomChunk` (-1: none). */
  private readonly bottom: Uint8Array;
  private bottomChunk = -1;
  /** A chunk's committed bytes assembled with its pinned leaves and zero padding (for its fingerprint and subtree), made when first needed. */
  private assembled?: Uint8Array;
  /** The write log of the last sync, and the epoch from which its stamps are writes this tree has not seen. */
  private log?: WriteLog;
  private logFrom = 0;

  constructor(readonly leafPrefix: PrefixName, readonly nodePrefix: PrefixName, data: Uint8Array, depth = treeDepth(data.length / 32), known?: KnownSubtree) {
    if (data.length % 32 !== 0) throw new Error(`Merkle data must be a multiple of 32 bytes, got ${data.length}`);
    this.leaves = data.length / 32;
    if (this.leaves > 2 ** depth) throw new Error(`${this.leaves} leaves do not fit a tree of depth ${depth}`);
    this.depth = depth;
    this.zero = zeroHashes(leafPrefix, nodePrefix, depth);
    this.low = Math.min(LOW, depth);
    this.chunks = Math.ceil(this.leaves / 2 ** this.low);
    this.levels = [];
    for (let l = this.low, n = this.chunks; l <= depth; l++, n = Math.ceil(n / 2)) this.levels.push(new Uint8Array(Math.max(n, 1) * 32));
    this.prints = new Uint32Array(this.chunks * PRINT_WORDS);
    this.bottom = new Uint8Array((2 ** (this.low + 1) - 1) * 32);
    this.data = data;
    if (this.chunks === 0) this.levels[0].set(this.zero[this.low]);
    const region = known && this.knownRegion(known);
    this.scan(true, region, known?.tree.chunkRoots);
    for (let j = 1; j < this.levels.length; j++) {
      const n = this.levels[j].length / 32;
      for (let i = 0; i < n; i++) this.hashNode(j, i);
    }
    if (region) {
      const j = region.height, at = (region.first >>> j) * 32;
      if (!sameBytes(this.levels[j], at, known!.tree.root)) throw new Error("Merkle tree: the known subtree's chunk roots do not hash to its root");
    }
  }

  /**
   * The chunks a known subtree covers and its height above the chunk level; undefined when the
   * subtree is smaller than a chunk (it is then hashed like any data: a few leaves at most).
   */
  private knownRegion(k: KnownSubtree): { first: number; count: number; height: number } | undefined {
    const d = k.tree.depth;
    if (d < this.low || this.low < LOW) return undefined;
    if (k.firstLeaf % 2 ** d !== 0 || k.firstLeaf + 2 ** d > this.leaves) throw new Error(`Merkle tree: a known subtree of depth ${d} cannot start at leaf ${k.firstLeaf}`);
    const first = k.firstLeaf >>> this.low, count = 2 ** (d - this.low);
    if (k.tree.chunkRoots.length !== count * 32) throw new Error(`Merkle tree: a known subtree of depth ${d} needs ${count} chunk roots, got ${k.tree.chunkRoots.length / 32}`);
    return { first, count, height: d - this.low };
  }

  /** The stored roots of the chunks holding the first `leaves` leaves (32 bytes each; the root for a tree under one chunk). */
  chunkRoots(leaves: number): Uint8Array {
    const n = Math.ceil(leaves / 2 ** this.low);
    const out = new Uint8Array(n * 32);
    out.set(this.levels[0].subarray(0, Math.min(n * 32, this.levels[0].length)));
    for (let c = this.chunks; c < n; c++) out.set(this.zero[this.low], c * 32);
    return out;
  }

  root(): Hash {
    return this.levels[this.levels.length - 1].slice(0, 32);
  }

  /** The sibling hashes from leaf `index` up to the root (depth entries, bottom first). */
  path(index: number): Hash[] {
    if (index < 0 || index >= 2 ** this.depth) throw new Error(`leaf ${index} outside a tree of depth ${this.depth}`);
    const out: Hash[] = [];
    const chunk = index >>> this.low, n = 1 << this.low;
    if (chunk < this.chunks) {
      const b = this.chunkSubtree(chunk);
      for (let l = 0, i = index & (n - 1); l < this.low; l++, i >>>= 1) {
        const at = bottomOffset(n, l) + (i ^ 1) * 32;
        out.push(b.slice(at, at + 32));
      }
    } else {
      for (let l = 0; l < this.low; l++) out.push(this.zero[l].slice());
    }
    for (let l = this.low, i = chunk; l < this.depth; l++, i >>>= 1) {
      const s = i ^ 1;
      const level = this.levels[l - this.low];
      out.push(s * 32 < level.length ? level.slice(s * 32, s * 32 + 32) : this.zero[l].slice());
    }
    return out;
  }

  /** The 32 bytes of leaf `index` (zero for padding leaves). */
  leaf(index: number): Uint8Array {
    if (!(index < this.leaves)) return new Uint8Array(32);
    return (this.pinned.get(index) ?? this.data.subarray(index * 32, index * 32 + 32)).slice();
  }

  /**
   * Keep leaf `index`'s committed bytes in the tree, so that the caller may overwrite them in its
   * buffer before committing the new bytes with setLeaf (or sync). No-op outside the real leaves.
   */
  pin(index: number): void {
    if (Number.isInteger(index) && index >= 0 && index < this.leaves && !this.pinned.has(index)) {
      this.pinned.set(index, this.data.slice(index * 32, index * 32 + 32));
    }
  }

  /** Replace leaf `index` (which must be a real leaf) and rehash its ancestors. */
  setLeaf(index: number, bytes: Uint8Array): void {
    if (!(Number.isInteger(index) && index >= 0 && index < this.leaves)) throw new Error(`setLeaf: ${index} is not one of the ${this.leaves} leaves`);
    const chunk = index >>> this.low, n = 1 << this.low;
    const b = this.chunkSubtree(chunk);
    const value = bytes.subarray(0, 32);
    if (sameBytes(this.data, index * 32, value)) this.pinned.delete(index);
    else this.pinned.set(index, value.slice());
    let i = index & (n - 1);
    this.hashLeaf(value, 0, b, i * 32);
    for (let l = 1; l <= this.low; l++, i >>>= 1) {
      const p = i >>> 1, below = bottomOffset(n, l - 1) + 2 * p * 32;
      this.hashPair(l, b, below, b, below + 32, b, bottomOffset(n, l) + p * 32);
    }
    this.levels[0].set(b.subarray(b.length - 32), chunk * 32);
    this.refingerprint(chunk);
    this.rehashUp([chunk]);
  }

  /**
   * Make the tree commit to `data` (same length; it becomes the buffer the tree reads), rehashing
   * only the chunks whose fingerprint changed and their ancestors. With `log` (the write log of
   * `data`), only the chunks written since this tree's last sync with that log and buffer are
   * fingerprinted; the first sync with a log reads them all. Returns the number of leaves in the
   * chunks that changed.
   */
  sync(data: Uint8Array, log?: WriteLog): number {
    if (data.length !== this.leaves * 32) throw new Error(`sync: ${data.length} bytes for a tree of ${this.leaves * 32}`);
    const followsLog = log !== undefined && log === this.log && log.memory === data && data === this.data && this.low === LOW;
    this.data = data;
    this.pinned.clear();
    const changed = this.scan(false, undefined, undefined, followsLog ? this.writtenChunks(log) : undefined);
    this.log = log;
    if (log) this.logFrom = ++log.epoch;
    this.rehashUp(changed);
    return changed.reduce((s, c) => s + Math.min(this.leaves - (c << this.low), 1 << this.low), 0);
  }

  /** The chunks the log stamped since this tree's last sync (c when c or c - 1 is stamped: a write may spill into the next chunk). */
  private writtenChunks(log: WriteLog): number[] {
    const stamps = log.stamps, from = this.logFrom, out: number[] = [];
    let previous = false;
    for (let c = 0; c < this.chunks; c++) {
      const stamped = stamps[c] >= from;
      if (stamped || previous) out.push(c);
      previous = stamped;
    }
    return out;
  }

  /**
   * Fingerprint the chunks (every chunk, or the ascending list `only`) and recompute the stored
   * root of each chunk whose fingerprint differs from the committed one (of every chunk when
   * `all`). Returns those chunks, ascending.
   */
  private scan(all: boolean, known?: { first: number; count: number }, knownRoots?: Uint8Array, only?: number[]): number[] {
    const changed: number[] = [];
    const chunkBytes = 32 << this.low, per = chunksPerCall(chunkBytes);
    for (const [first, count] of only ? runsOf(only, per) : runsOf(undefined, per, this.chunks)) {
      fingerprintChunks(this.data, first * chunkBytes, chunkBytes, count);
      for (let j = 0; j < count; j++) {
        const c = first + j;
        if (!all && samePrint(this.prints, c * PRINT_WORDS, chunkPrints, j * PRINT_WORDS)) continue;
        this.prints.set(chunkPrints.subarray(j * PRINT_WORDS, (j + 1) * PRINT_WORDS), c * PRINT_WORDS);
        if (known && c >= known.first && c < known.first + known.count) {
          // A known subtree's chunk: its root is given (and checked once the levels above are hashed).
          this.levels[0].set(knownRoots!.subarray((c - known.first) * 32, (c - known.first + 1) * 32), c * 32);
          if (this.bottomChunk === c) this.bottomChunk = -1;
        } else if (chunkIsZero[j]) {
          this.levels[0].set(this.zero[this.low], c * 32);
          if (this.bottomChunk === c) this.bottomChunk = -1;
        } else {
          this.levels[0].set(this.fillBottom(c), c * 32);
        }
        changed.push(c);
      }
    }
    return changed;
  }

  /** Compute chunk c's subtree from its committed bytes into `bottom`; returns its root (a view). */
  private fillBottom(c: number): Uint8Array {
    const n = 1 << this.low, first = c * n, b = this.bottom;
    let src = this.data, at = first * 32;
    if (this.pinned.size > 0 || first + n > this.leaves) {
      // Assemble the committed leaves: the pinned ones' old bytes, zero past the last leaf.
      src = this.assembled ??= new Uint8Array(32 << this.low);
      src.fill(0);
      src.set(this.data.subarray(at, Math.min(at + 32 * n, this.leaves * 32)));
      for (let j = 0; j < n; j++) {
        const pin = this.pinned.size > 0 ? this.pinned.get(first + j) : undefined;
        if (pin) src.set(pin, j * 32);
      }
      at = 0;
    }
    subtreeInto(this.leafPrefix, this.nodePrefix, src, at, n, b, 0);
    this.bottomChunk = c;
    return b.subarray(b.length - 32);
  }

  /**
   * Chunk c's subtree (in `bottom`), checked against the stored chunk root: a mismatch means the
   * caller changed committed bytes without telling the tree, and no path may come from them.
   */
  private chunkSubtree(c: number): Uint8Array {
    if (this.bottomChunk !== c && !sameBytes(this.levels[0], c * 32, this.fillBottom(c))) {
      this.bottomChunk = -1;
      const n = 1 << this.low;
      throw new Error(`Merkle tree: leaves ${c * n}..${c * n + n - 1} changed in the caller's buffer since the tree last committed to them (sync the tree, or pin the leaves before overwriting them)`);
    }
    return this.bottom;
  }

  /** Refresh chunk c's fingerprint from its committed bytes (the buffer with its pinned leaves). */
  private refingerprint(c: number): void {
    const chunkBytes = 32 << this.low, at = c * chunkBytes;
    let src = this.data, from = at;
    if (this.pinned.size > 0) {
      src = this.assembled ??= new Uint8Array(chunkBytes);
      src.fill(0);
      src.set(this.data.subarray(at, Math.min(at + chunkBytes, this.data.length)));
      for (let j = 0; j < 1 << this.low; j++) {
        const pin = this.pinned.get((c << this.low) + j);
        if (pin) src.set(pin, j * 32);
      }
      from = 0;
    }
    fingerprintChunks(src, from, chunkBytes, 1);
    this.prints.set(chunkPrints.subarray(0, PRINT_WORDS), c * PRINT_WORDS);
  }

  /** Rehash the stored ancestors of the given chunks (ascending). */
  private rehashUp(chunks: number[]): void {
    let dirty = chunks;
    for (let j = 1; j < this.levels.length && dirty.length > 0; j++) {
      const parents: number[] = [];
      for (const i of dirty) {
        const p = i >>> 1;
        if (parents.length === 0 || parents[parents.length - 1] !== p) parents.push(p);
      }
      for (const p of parents) this.hashNode(j, p);
      dirty = parents;
    }
  }

  /** Stored node i of levels[j] from its two children (the right one may be padding). */
  private hashNode(j: number, i: number): void {
    const below = this.levels[j - 1];
    const hasRight = (2 * i + 1) * 32 < below.length;
    const right = hasRight ? below : this.zero[this.low + j - 1];
    this.hashPair(this.low + j, below, 2 * i * 32, right, hasRight ? (2 * i + 1) * 32 : 0, this.levels[j], i * 32);
  }

  /** The leaf hash of bytes[at, at + 32) into out (the zero leaf's hash, unhashed, for zero bytes). */
  private hashLeaf(bytes: Uint8Array, at: number, out: Uint8Array, outAt: number): void {
    if (isZero(bytes, at)) out.set(this.zero[0], outAt);
    else hashLeafInto(this.leafPrefix, bytes, at, out, outAt);
  }

  /** The node at height `level` over two children (the zero subtree's hash over two zero subtrees). */
  private hashPair(level: number, left: Uint8Array, leftAt: number, right: Uint8Array, rightAt: number, out: Uint8Array, outAt: number): void {
    const z = this.zero[level - 1];
    if (sameBytes(left, leftAt, z) && sameBytes(right, rightAt, z)) out.set(this.zero[level], outAt);
    else hashPairInto(this.nodePrefix, left, leftAt, right, rightAt, out, outAt);
  }
}

/**
 * [first, count] runs of consecutive chunks, each at most `per` long: of the ascending list
 * `chunks`, or of all chunks 0..total-1 without it.
 */
function* runsOf(chunks: number[] | undefined, per: number, total = 0): Generator<[number, number]> {
  if (!chunks) {
    for (let first = 0; first < total; first += per) yield [first, Math.min(per, total - first)];
    return;
  }
  for (let i = 0; i < chunks.length;) {
    let j = i + 1;
    while (j < chunks.length && j - i < per && chunks[j] === chunks[j - 1] + 1) j++;
    yield [chunks[i], j - i];
    i = j;
  }
}

/** Byte offset of height l in a bottom subtree of n leaves (heights 0..l-1 come first). */
function bottomOffset(n: number, l: number): number {
  return (2 * n - ((2 * n) >> l)) * 32;
}

function isZero(bytes: Uint8Array, at: number): boolean {
  for (let i = at; i < at + 32; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Whether bytes[at, at + 32) equal the 32-byte hash h. */
function sameBytes(bytes: Uint8Array, at: number, h: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) if (bytes[at + i] !== h[i]) return false;
  return true;
}

function samePrint(a: Uint32Array, aAt: number, b: Uint32Array, bAt: number): boolean {
  for (let i = 0; i < PRINT_WORDS; i++) if (a[aAt + i] !== b[bAt + i]) return false;
  return true;
}
