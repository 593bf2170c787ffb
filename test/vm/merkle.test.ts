/**
 * The Merkle tree (vm/merkle.ts) against a naive reference written from docs/vm-state.md section
 * 1 (every level of the padded tree hashed with @noble/hashes, no shortcuts), over many random
 * sizes around its 64-leaf chunks, with zero and nonzero leaves, and random sequences of in-place
 * edits + sync, syncs to other buffers, setLeaf and the prover's pin / overwrite / setLeaf
 * pattern; trees following a write log (only stamped chunks are read); the batch hasher (vm/keccak-batch.ts) for every tree's prefixes; plus the chunk
 * fingerprint kernel (vm/fingerprint.ts) against a BigInt NH.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { describe, expect, test } from "vitest";
import { chunkIsZero, chunkPrints, fingerprintChunks, MAX_CHUNK_BYTES, PRINT_WORDS, printKeys } from "../../vm/fingerprint.js";
import { subtreeInto } from "../../vm/keccak-batch.js";
import { PREFIX, toHex } from "../../vm/spec/hash.js";
import { imageChunkRootsInto, imageTree, imageTreeFromChunkRoots, MerkleTree, WRITE_CHUNK_SHIFT, type WriteLog } from "../../vm/merkle.js";
import { rootFromPath } from "../../vm/merkle-roots.js";
import { Rng } from "../helpers/random.js";

const LEAF = new TextEncoder().encode("detml.vm.memory-leaf:");
const NODE = new TextEncoder().encode("detml.vm.memory-node:");

/** Every level of the tree over `data` padded to 2^depth zero leaves, hashed naively. */
function referenceLevels(data: Uint8Array, depth: number): Uint8Array[][] {
  let level = Array.from({ length: 2 ** depth }, (_, i) => {
    const leaf = i * 32 < data.length ? data.subarray(i * 32, i * 32 + 32) : new Uint8Array(32);
    return keccak_256(Uint8Array.from([...LEAF, ...leaf]));
  });
  const levels = [level];
  while (level.length > 1) {
    const below = level;
    level = Array.from({ length: below.length / 2 }, (_, i) => keccak_256(Uint8Array.from([...NODE, ...below[2 * i], ...below[2 * i + 1]])));
    levels.push(level);
  }
  return levels;
}

function depthOf(leaves: number): number {
  return leaves <= 1 ? 0 : Math.ceil(Math.log2(leaves));
}

/** Random bytes with whole zero leaves and zero 64-leaf chunks mixed in (the zero shortcuts). */
function randomData(rng: Rng, leaves: number): Uint8Array {
  const data = new Uint8Array(leaves * 32);
  const zeroChance = rng.pick([0, 0.5, 0.95]);
  for (let i = 0; i < leaves; i++) {
    if (rng.next() < zeroChance || Math.floor(i / 64) % 3 === 2) continue;
    for (let j = 0; j < 32; j++) data[i * 32 + j] = rng.int(0, 255);
  }
  return data;
}

/** Expect the tree to commit to `committed`: root, and leaf + path of some indices (all when small). */
function expectCommits(tree: MerkleTree, committed: Uint8Array, rng: Rng, what: string): void {
  const levels = referenceLevels(committed, tree.depth);
  const root = levels[tree.depth][0];
  expect(toHex(tree.root()), `${what}: root`).toBe(toHex(root));
  const n = 2 ** tree.depth;
  const indices = n <= 80 ? Array.from({ length: n }, (_, i) => i) : Array.from({ length: 40 }, () => rng.int(0, n - 1));
  for (const i of indices) {
    const path = tree.path(i);
    expect(path.map(toHex), `${what}: path of leaf ${i}`).toEqual(levels.slice(0, tree.depth).map((lv, l) => toHex(lv[(i >>> l) ^ 1])));
    const leaf = i * 32 < committed.length ? committed.subarray(i * 32, i * 32 + 32) : new Uint8Array(32);
    expect(toHex(tree.leaf(i)), `${what}: leaf ${i}`).toBe(toHex(leaf));
    expect(toHex(rootFromPath("memoryLeaf", "memoryNode", tree.leaf(i), i, path))).toBe(toHex(root));
  }
}

/** One random edit in place: bytes, a range of random or zero bytes, or everything zero. */
function edit(rng: Rng, data: Uint8Array): void {
  if (data.length === 0) return;
  const kind = rng.int(0, 9);
  const from = rng.int(0, data.length - 1), to = Math.min(data.length, from + rng.int(1, 5000));
  if (kind < 5) for (let k = rng.int(1, 4); k > 0; k--) data[rng.int(0, data.length - 1)] ^= rng.int(1, 255);
  else if (kind < 7) for (let i = from; i < to; i++) data[i] = rng.int(0, 255);
  else if (kind < 9) data.fill(0, from, to);
  else data.fill(0);
}

const SIZES = [0, 1, 2, 3, 5, 7, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 191, 192, 255, 256, 257, 300, 511, 513, 700];

describe("Merkle tree against a naive reference", () => {
  test("roots, leaves and paths over random sizes and contents", () => {
    const rng = new Rng(11);
    for (const leaves of [...SIZES, ...Array.from({ length: 15 }, () => rng.int(0, 1100))]) {
      const data = randomData(rng, leaves);
      expectCommits(new MerkleTree("memoryLeaf", "memoryNode", data), data, rng, `${leaves} leaves`);
    }
  });

  test("a tree deeper than its leaves need pads with zero leaves", () => {
    const rng = new Rng(12);
    for (const [leaves, depth] of [[0, 3], [1, 1], [3, 7], [64, 7], [65, 9], [200, 10]]) {
      const data = randomData(rng, leaves);
      const tree = new MerkleTree("memoryLeaf", "memoryNode", data, depth);
      expect(tree.depth).toBe(depth);
      expectCommits(tree, data, rng, `${leaves} leaves at depth ${depth}`);
    }
  });

  test("random in-place edits, each followed by sync, and syncs to other buffers", () => {
    const rng = new Rng(13);
    for (const leaves of [1, 2, 5, 64, 65, 129, 300, 777]) {
      let data = randomData(rng, leaves);
      const tree = new MerkleTree("memoryLeaf", "memoryNode", data);
      for (let round = 0; round < 12; round++) {
        const before = data.slice();
        if (rng.next() < 0.2) data = data.slice(); // the caller hands over another buffer
        for (let k = rng.int(0, 3); k > 0; k--) edit(rng, data);
        const changedLeaves = Array.from({ length: leaves }, (_, i) => i).filter((i) => toHex(before.subarray(i * 32, i * 32 + 32)) !== toHex(data.subarray(i * 32, i * 32 + 32)));
        const rehashed = tree.sync(data);
        expect(rehashed).toBeGreaterThanOrEqual(changedLeaves.length);
        if (changedLeaves.length === 0) expect(rehashed).toBe(0);
        expectCommits(tree, data, rng, `${leaves} leaves, round ${round}`);
      }
    }
  });

  test("setLeaf with bytes the buffer does not hold, then sync back to the buffer", () => {
    const rng = new Rng(14);
    for (const leaves of [1, 3, 64, 130, 400]) {
      const data = randomData(rng, leaves);
      const tree = new MerkleTree("memoryLeaf", "memoryNode", data);
      const committed = data.slice();
      for (let k = 0; k < 20; k++) {
        const i = rng.int(0, leaves - 1);
        const bytes = rng.next() < 0.3 ? new Uint8Array(32) : Uint8Array.from({ length: 32 }, () => rng.int(0, 255));
        tree.setLeaf(i, bytes);
        committed.set(bytes, i * 32);
      }
      expectCommits(tree, committed, rng, `${leaves} leaves after setLeaf`);
      expect(() => tree.setLeaf(leaves, new Uint8Array(32))).toThrow(/not one of the/);
      tree.sync(data);
      expectCommits(tree, data, rng, `${leaves} leaves synced back`);
    }
  });

  test("the prover's pattern: pin, overwrite in the buffer, prove against the old bytes, setLeaf", () => {
    const rng = new Rng(15);
    for (const leaves of [2, 64, 65, 300]) {
      const data = randomData(rng, leaves);
      const tree = new MerkleTree("memoryLeaf", "memoryNode", data);
      for (let step = 0; step < 25; step++) {
        // A store of `size` bytes at `ea`, possibly straddling two leaves (second path after the first write).
        const size = rng.pick([1, 4, 8, 32]);
        const ea = rng.int(0, leaves * 32 - size);
        const first = Math.floor(ea / 32), last = Math.floor((ea + size - 1) / 32);
        const committed = data.slice();
        for (let i = first; i <= last; i++) tree.pin(i);
        for (let b = ea; b < ea + size; b++) data[b] = rng.int(0, 255);
        for (let i = first; i <= last; i++) {
          expectCommits(tree, committed, rng, `step ${step}, leaf ${i} before its write`);
          tree.setLeaf(i, data.subarray(i * 32, i * 32 + 32));
          committed.set(data.subarray(i * 32, i * 32 + 32), i * 32);
        }
        expectCommits(tree, data, rng, `step ${step} after the writes`);
        if (rng.next() < 0.3) tree.sync(data);
      }
    }
  });

  test("a path over leaves changed behind the tree's back throws instead of lying", () => {
    const data = new Uint8Array(200 * 32).fill(3);
    const tree = new MerkleTree("memoryLeaf", "memoryNode", data);
    data[70 * 32] ^= 1;
    expect(() => tree.path(71)).toThrow(/changed in the caller's buffer/);
    expect(tree.path(3)).toHaveLength(8); // other chunks still answer
    tree.sync(data);
    expectCommits(tree, data, new Rng(16), "after sync");
  });
});

describe("write logs: a tree reads only the chunks stamped since its last sync", () => {
  const CHUNK = 1 << WRITE_CHUNK_SHIFT;

  /** A buffer with its write log; `write` stamps only the chunk of a write's first byte, as the VM does. */
  function logged(bytes: Uint8Array) {
    const log: WriteLog = { memory: bytes, stamps: new Uint32Array(Math.ceil(bytes.length / CHUNK)), epoch: 1 };
    const write = (at: number, values: Uint8Array) => {
      bytes.set(values, at);
      log.stamps[at >>> WRITE_CHUNK_SHIFT] = log.epoch;
    };
    return { log, write };
  }

  test("stamped writes of up to 32 bytes, spilling into the next chunk too, are all seen by two trees synced at different times", () => {
    const rng = new Rng(41);
    for (const leaves of [64, 200, 64 * 9 + 5]) {
      const data = randomData(rng, leaves);
      const { log, write } = logged(data);
      const early = new MerkleTree("memoryLeaf", "memoryNode", data), late = new MerkleTree("memoryLeaf", "memoryNode", data);
      early.sync(data, log);
      late.sync(data, log);
      for (let round = 0; round < 12; round++) {
        for (let k = rng.int(1, 6); k > 0; k--) {
          const size = rng.pick([1, 2, 4, 8, 32]);
          // Half the writes end past a chunk boundary: only their first chunk is stamped.
          const boundary = rng.int(1, Math.max(1, Math.floor((data.length - 1) / CHUNK))) * CHUNK;
          const at = rng.next() < 0.5 && boundary < data.length ? Math.max(0, boundary - rng.int(1, size)) : rng.int(0, data.length - size);
          write(Math.min(at, data.length - size), Uint8Array.from({ length: size }, () => rng.int(0, 255)));
        }
        early.sync(data, log);
        expectCommits(early, data, rng, `${leaves} leaves, round ${round}, synced every round`);
        if (round % 3 === 2) {
          late.sync(data, log);
          expectCommits(late, data, rng, `${leaves} leaves, round ${round}, synced every third round`);
        }
      }
    }
  });

  test("the log is what the tree reads: an unstamped write goes unseen, and another buffer is read in full", () => {
    const rng = new Rng(42);
    const data = randomData(rng, 64 * 4);
    const { log } = logged(data);
    const tree = new MerkleTree("memoryLeaf", "memoryNode", data);
    tree.sync(data, log);
    const before = toHex(tree.root());
    data[3 * CHUNK + 5] ^= 0xff; // not stamped: outside the contract
    tree.sync(data, log);
    expect(toHex(tree.root())).toBe(before);
    // Without the log, or with a buffer the log does not describe, every chunk is fingerprinted.
    tree.sync(data);
    expectCommits(tree, data, rng, "synced without the log");
    const other = data.slice();
    other[CHUNK + 1] ^= 0xff;
    tree.sync(data, log);
    tree.sync(other, log);
    expectCommits(tree, other, rng, "another buffer");
  });
});

describe("batch hashing (vm/keccak-batch.ts)", () => {
  test("a bottom subtree hashes like noble's keccak for every tree's prefixes and every size", () => {
    const rng = new Rng(21);
    const trees = [["codeLeaf", "codeNode"], ["inputLeaf", "inputNode"], ["memoryLeaf", "memoryNode"]] as const;
    for (const [leafName, nodeName] of trees) {
      const [leafP, nodeP] = [PREFIX[leafName], PREFIX[nodeName]].map((p) => new TextEncoder().encode(p));
      for (const n of [1, 2, 4, 8, 16, 32, 64]) {
        const leaves = Uint8Array.from({ length: 32 * n + 32 }, () => rng.int(0, 255));
        const out = new Uint8Array((2 * n - 1) * 32 + 5);
        subtreeInto(leafName, nodeName, leaves, 32, n, out, 5);
        let level = Array.from({ length: n }, (_, i) => keccak_256(Uint8Array.from([...leafP, ...leaves.subarray(32 + 32 * i, 64 + 32 * i)])));
        const expected = [...level];
        while (level.length > 1) {
          const below = level;
          level = Array.from({ length: below.length / 2 }, (_, i) => keccak_256(Uint8Array.from([...nodeP, ...below[2 * i], ...below[2 * i + 1]])));
          expected.push(...level);
        }
        expect(toHex(out.subarray(5)), `${leafName} ${n} leaves`).toBe(toHex(Uint8Array.from(expected.flatMap((h) => [...h]))));
      }
    }
    expect(() => subtreeInto("memoryLeaf", "memoryNode", new Uint8Array(32 * 3), 0, 3, new Uint8Array(160), 0)).toThrow(/not a power of two/);
    expect(() => subtreeInto("memoryLeaf", "memoryNode", new Uint8Array(32 * 3), 0, 4, new Uint8Array(224), 0)).toThrow(/pass the end/);
  });
});

describe("image trees from chunk roots (what abi/image-tree.ts splits across threads)", () => {
  test("chunk roots hashed in pieces and joined give imageTree's tree", () => {
    const rng = new Rng(23);
    for (const length of [64 * 32, 64 * 32 * 5 + 100, 64 * 32 * 16, 300_000]) {
      const bytes = randomData(rng, Math.ceil(length / 32)).subarray(0, length);
      const whole = imageTree("memoryLeaf", "memoryNode", bytes);
      const chunks = whole.chunkRoots.length / 32;
      const roots = new Uint8Array(chunks * 32);
      const split = Math.floor(chunks / 3);
      imageChunkRootsInto("memoryLeaf", "memoryNode", bytes, split, chunks - split, roots, split * 32);
      imageChunkRootsInto("memoryLeaf", "memoryNode", bytes, 0, split, roots, 0);
      const joined = imageTreeFromChunkRoots("memoryNode", whole.depth, roots);
      expect(toHex(joined.root), `${length} bytes`).toBe(toHex(whole.root));
      expect(toHex(joined.chunkRoots)).toBe(toHex(whole.chunkRoots));
    }
    expect(() => imageTreeFromChunkRoots("memoryNode", 8, new Uint8Array(32))).toThrow(/needs 4 chunk roots/);
  });
});

describe("chunk fingerprints", () => {
  /** NH over a chunk with instance t's key, as docs in vm/fingerprint.ts say, in BigInt. */
  function referencePrint(chunk: Uint8Array, t: number): bigint {
    const m = new Uint32Array(chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.length));
    const k = printKeys.subarray((t * MAX_CHUNK_BYTES) / 4);
    let sum = 0n;
    for (let leaf = 0; leaf < m.length; leaf += 8) {
      for (let j = leaf; j < leaf + 4; j++) {
        sum += BigInt((m[j] + k[j]) >>> 0) * BigInt((m[j + 4] + k[j + 4]) >>> 0);
      }
    }
    return BigInt.asUintN(64, sum);
  }

  test("the SIMD kernel computes NH with the module's keys, and exact zero flags, past the data's end too", () => {
    const rng = new Rng(21);
    for (const chunkBytes of [32, 64, 256, 2048]) {
      const count = rng.int(1, 9);
      const data = Uint8Array.from({ length: count * chunkBytes - rng.int(0, chunkBytes - 1) }, () => (rng.next() < 0.5 ? 0 : rng.int(0, 255)));
      data.fill(0, 0, Math.min(chunkBytes, data.length)); // chunk 0 all zero
      if (count > 1) data[chunkBytes + rng.int(0, chunkBytes - 1)] = 0x80; // chunk 1 has a nonzero byte
      fingerprintChunks(data, 0, chunkBytes, count);
      for (let c = 0; c < count; c++) {
        const chunk = new Uint8Array(chunkBytes);
        chunk.set(data.subarray(c * chunkBytes, (c + 1) * chunkBytes));
        for (let t = 0; t < PRINT_WORDS / 2; t++) {
          const got = BigInt(chunkPrints[c * PRINT_WORDS + 2 * t]) | (BigInt(chunkPrints[c * PRINT_WORDS + 2 * t + 1]) << 32n);
          expect(got, `chunk ${c} of ${chunkBytes} bytes, instance ${t}`).toBe(referencePrint(chunk, t));
        }
        expect(chunkIsZero[c], `chunk ${c} zero flag`).toBe(chunk.every((b) => b === 0) ? 1 : 0);
      }
    }
  });

  test("one changed bit changes the fingerprint", () => {
    const rng = new Rng(22);
    const data = Uint8Array.from({ length: 2048 }, () => rng.int(0, 255));
    fingerprintChunks(data, 0, 2048, 1);
    const before = chunkPrints.slice(0, PRINT_WORDS);
    for (let k = 0; k < 200; k++) {
      const at = rng.int(0, 2047), bit = 1 << rng.int(0, 7);
      data[at] ^= bit;
      fingerprintChunks(data, 0, 2048, 1);
      expect(Array.from(chunkPrints.subarray(0, PRINT_WORDS))).not.toEqual(Array.from(before));
      data[at] ^= bit;
    }
  });
});
