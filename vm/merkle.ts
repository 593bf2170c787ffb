/**
 * Binary Merkle trees over 32-byte leaves (memory, code, input). A leaf hash is
 * keccak(leafPrefix ‖ 32 bytes), an inner node keccak(nodePrefix ‖ left ‖ right); the tree is
 * padded to 2^depth leaves with all-zero leaves, whose subtree hashes are precomputed, so only
 * the real leaves are stored. Those precomputed hashes also stand in for every all-zero leaf and
 * every node over two all-zero subtrees, which skips most of the hashing of a fresh memory. `sync(image)` brings the tree to a new content incrementally: it
 * compares the image with the tree's copy leaf by leaf and rehashes only the changed leaves and
 * their ancestors (memory images between checkpoints differ in few leaves).
 */
import { hashLeafInto, hashPairInto, type Hash, type PrefixName } from "./hash.js";
import { treeDepth } from "./isa.js";

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

export class MerkleTree {
  readonly depth: number;
  readonly leaves: number;
  /** A copy of the committed bytes (leaves * 32). */
  readonly image: Uint8Array;
  /** levels[l] holds ceil(leaves / 2^l) node hashes; levels[depth] is the root. */
  private readonly levels: Uint8Array[];
  private readonly zero: Uint8Array[];

  constructor(readonly leafPrefix: PrefixName, readonly nodePrefix: PrefixName, data: Uint8Array, depth = treeDepth(data.length / 32)) {
    if (data.length % 32 !== 0) throw new Error(`Merkle data must be a multiple of 32 bytes, got ${data.length}`);
    this.leaves = data.length / 32;
    if (this.leaves > 2 ** depth) throw new Error(`${this.leaves} leaves do not fit a tree of depth ${depth}`);
    this.depth = depth;
    this.zero = zeroHashes(leafPrefix, nodePrefix, depth);
    this.image = data.slice();
    this.levels = [];
    for (let l = 0, n = this.leaves; l <= depth; l++, n = Math.ceil(n / 2)) this.levels.push(new Uint8Array(Math.max(n, 1) * 32));
    for (let i = 0; i < this.leaves; i++) this.hashLeaf(i);
    if (this.leaves === 0) this.levels[0].set(this.zero[0]);
    for (let l = 1; l <= depth; l++) {
      const n = this.levels[l].length / 32;
      for (let i = 0; i < n; i++) this.hashNode(l, i);
    }
  }

  private hashLeaf(i: number): void {
    const at = i * 32;
    if (isZero(this.image, at, 32)) this.levels[0].set(this.zero[0], at);
    else hashLeafInto(this.leafPrefix, this.image, at, this.levels[0], at);
  }

  private hashNode(level: number, i: number): void {
    const below = this.levels[level - 1];
    const nBelow = below.length / 32;
    const right = 2 * i + 1 < nBelow ? below : this.zero[level - 1];
    const rightAt = right === below ? (2 * i + 1) * 32 : 0;
    const zero = this.zero[level - 1];
    if (sameBytes(below, 2 * i * 32, zero) && sameBytes(right, rightAt, zero)) this.levels[level].set(this.zero[level], i * 32);
    else hashPairInto(this.nodePrefix, below, 2 * i * 32, right, rightAt, this.levels[level], i * 32);
  }

  root(): Hash {
    return this.levels[this.depth].slice(0, 32);
  }

  /** The sibling hashes from leaf `index` up to the root (depth entries, bottom first). */
  path(index: number): Hash[] {
    if (index < 0 || index >= 2 ** this.depth) throw new Error(`leaf ${index} outside a tree of depth ${this.depth}`);
    const out: Hash[] = [];
    for (let l = 0, i = index; l < this.depth; l++, i >>>= 1) {
      const s = i ^ 1;
      const level = this.levels[l];
      out.push(s * 32 < level.length ? level.slice(s * 32, s * 32 + 32) : this.zero[l].slice());
    }
    return out;
  }

  /** The 32 bytes of leaf `index` (zero for padding leaves). */
  leaf(index: number): Uint8Array {
    return index < this.leaves ? this.image.slice(index * 32, index * 32 + 32) : new Uint8Array(32);
  }

  /** Replace leaf `index` (which must be a real leaf) and rehash its ancestors. */
  setLeaf(index: number, bytes: Uint8Array): void {
    this.image.set(bytes.subarray(0, 32), index * 32);
    this.rehash([index]);
  }

  /**
   * Make the tree commit to `data` (same length), rehashing only the leaves that differ and
   * their ancestors. Returns the number of changed leaves.
   */
  sync(data: Uint8Array): number {
    if (data.length !== this.image.length) throw new Error(`sync: ${data.length} bytes for a tree of ${this.image.length}`);
    const changed: number[] = [];
    const aligned = data.byteOffset % 4 === 0 && this.image.byteOffset % 4 === 0;
    if (aligned) {
      const a = new Int32Array(data.buffer, data.byteOffset, data.length >> 2);
      const b = new Int32Array(this.image.buffer, this.image.byteOffset, this.image.length >> 2);
      for (let i = 0, w = 0; i < this.leaves; i++, w += 8) {
        if (a[w] !== b[w] || a[w + 1] !== b[w + 1] || a[w + 2] !== b[w + 2] || a[w + 3] !== b[w + 3]
          || a[w + 4] !== b[w + 4] || a[w + 5] !== b[w + 5] || a[w + 6] !== b[w + 6] || a[w + 7] !== b[w + 7]) changed.push(i);
      }
    } else {
      for (let i = 0; i < this.leaves; i++) {
        for (let j = i * 32; j < i * 32 + 32; j++) {
          if (data[j] !== this.image[j]) {
            changed.push(i);
            break;
          }
        }
      }
    }
    for (const i of changed) this.image.set(data.subarray(i * 32, i * 32 + 32), i * 32);
    this.rehash(changed);
    return changed.length;
  }

  /** Rehash the given leaves (ascending) and every ancestor of them. */
  private rehash(indices: number[]): void {
    for (const i of indices) this.hashLeaf(i);
    let dirty = indices;
    for (let l = 1; l <= this.depth && dirty.length > 0; l++) {
      const parents: number[] = [];
      for (const i of dirty) {
        const p = i >>> 1;
        if (parents.length === 0 || parents[parents.length - 1] !== p) parents.push(p);
      }
      for (const p of parents) this.hashNode(l, p);
      dirty = parents;
    }
  }
}

function isZero(bytes: Uint8Array, at: number, n: number): boolean {
  for (let i = at; i < at + n; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Whether bytes[at, at + 32) equal the 32-byte hash h. */
function sameBytes(bytes: Uint8Array, at: number, h: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) if (bytes[at + i] !== h[i]) return false;
  return true;
}

/** Recompute a Merkle root from a leaf's 32 bytes, its index and its sibling path. */
export function rootFromPath(leafPrefix: PrefixName, nodePrefix: PrefixName, leaf: Uint8Array, index: number, path: readonly Uint8Array[]): Hash {
  const h = new Uint8Array(32);
  hashLeafInto(leafPrefix, leaf, 0, h, 0);
  for (let l = 0, i = index; l < path.length; l++, i = Math.floor(i / 2)) {
    if (i % 2 === 0) hashPairInto(nodePrefix, h, 0, path[l], 0, h, 0);
    else hashPairInto(nodePrefix, path[l], 0, h, 0, h, 0);
  }
  return h;
}
