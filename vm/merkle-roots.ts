/**
 * Merkle roots without a tree (docs/vm-state.md section 1, the hashing of vm/merkle.ts): the root
 * of a sparse memory given as pieces of bytes and an optional known subtree (a module's initial
 * memory root, without a buffer of the whole memory), and the root a leaf's sibling path reaches.
 */
import { zeroHashes } from "./merkle.js";
import { hashLeafInto, hashPairInto, type Hash, type PrefixName } from "./spec/hash.js";

/** Bytes placed at a byte offset (a data segment, say). */
export interface Piece {
  offset: number;
  bytes: Uint8Array;
}

/**
 * The root of a tree of 2^depth leaves holding `pieces` (applied in order, later ones winning
 * where they overlap) and zeros elsewhere, with an optional known subtree, which no piece may
 * touch: it costs the pieces' leaves and the known root, without a buffer of the whole tree's
 * bytes (a module's initial memory root, vm/identity.ts).
 */
export function sparseRoot(leafPrefix: PrefixName, nodePrefix: PrefixName, depth: number, pieces: readonly Piece[], known?: { firstLeaf: number; depth: number; root: Hash }): Hash {
  const zero = zeroHashes(leafPrefix, nodePrefix, depth);
  const leaf = new Uint8Array(32);
  const node = (level: number, index: number, inside: readonly Piece[]): Uint8Array => {
    const from = index * 2 ** level * 32, to = from + 2 ** level * 32;
    if (known && level === known.depth && index * 2 ** level === known.firstLeaf) {
      if (inside.length > 0) throw new Error("sparseRoot: a piece overlaps the known subtree");
      return known.root;
    }
    const holdsKnown = known !== undefined && level > known.depth && known.firstLeaf >= index * 2 ** level && known.firstLeaf < (index + 1) * 2 ** level;
    if (inside.length === 0 && !holdsKnown) return zero[level];
    const out = new Uint8Array(32);
    if (level === 0) {
      leaf.fill(0);
      for (const p of inside) {
        const a = Math.max(from, p.offset), b = Math.min(to, p.offset + p.bytes.length);
        leaf.set(p.bytes.subarray(a - p.offset, b - p.offset), a - from);
      }
      if (leaf.every((x) => x === 0)) return zero[0];
      hashLeafInto(leafPrefix, leaf, 0, out, 0);
      return out;
    }
    const mid = from + 2 ** (level - 1) * 32;
    const left = node(level - 1, 2 * index, inside.filter((p) => p.offset < mid));
    const right = node(level - 1, 2 * index + 1, inside.filter((p) => p.offset + p.bytes.length > mid));
    if (sameHash(left, zero[level - 1]) && sameHash(right, zero[level - 1])) return zero[level];
    hashPairInto(nodePrefix, left, 0, right, 0, out, 0);
    return out;
  };
  return node(depth, 0, pieces.filter((p) => p.bytes.length > 0)).slice();
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

function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return false;
  return true;
}
