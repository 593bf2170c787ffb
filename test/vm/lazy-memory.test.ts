/**
 * Lazy hashing of a weights image (vm/merkle.ts): a memory tree that takes the image's subtree as
 * known (its chunk roots) has the same root and the same paths as one that hashes every leaf,
 * before and after writes inside and outside the image; it never reads the image's leaves to
 * build its root (a chunk altered behind its back still gives the known root, and a path into
 * that chunk is refused); `sparseRoot` (a module's initial memory root) equals the full tree's
 * root; and a module decoded with its image gets the initial memory root a full hash gives.
 */
import { describe, expect, it } from "vitest";
import { imageTree, MerkleTree } from "../../vm/merkle.js";
import { sparseRoot } from "../../vm/merkle-roots.js";
import { decodeModule, initialMemory, memoryTree } from "../../vm/decode.js";
import { initialMemoryRoot } from "../../vm/identity.js";
import { toHex, traceModule, Session } from "../../vm/index.js";
import { treeDepth } from "../../vm/spec/isa.js";
import { Rng } from "../helpers/random.js";
import { module, wat } from "./helpers.js";

const MEMORY = 256 * 1024;
const OFFSET = 64 * 1024; // a multiple of the image's padded size (64 KiB)
const IMAGE_BYTES = 40_000 + 13; // not a multiple of 32: the last leaf is zero-padded

function randomBytes(rng: Rng, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => rng.int(0, 255));
}

/** A memory with scattered data and the image at OFFSET. */
function memoryWithImage(seed: number): { memory: Uint8Array; image: Uint8Array } {
  const rng = new Rng(seed);
  const memory = new Uint8Array(MEMORY);
  memory.set(randomBytes(rng, 3000), 32);
  memory.set(randomBytes(rng, 5000), 150_000);
  const image = randomBytes(rng, IMAGE_BYTES);
  memory.set(image, OFFSET);
  return { memory, image };
}

const full = (m: Uint8Array) => new MerkleTree("memoryLeaf", "memoryNode", m);
const lazy = (m: Uint8Array, image: Uint8Array) => new MerkleTree("memoryLeaf", "memoryNode", m, undefined, { firstLeaf: OFFSET / 32, tree: imageTree("memoryLeaf", "memoryNode", image) });

describe("a memory tree with a known weights image", () => {
  it("has the full tree's root and paths, before and after writes inside and outside the image", () => {
    const { memory, image } = memoryWithImage(1);
    const a = full(memory.slice()), b = lazy(memory, image);
    expect(toHex(b.root())).toBe(toHex(a.root()));
    const rng = new Rng(2);
    const leaves = [OFFSET / 32, OFFSET / 32 + 700, (OFFSET + IMAGE_BYTES) / 32 | 0, 5, 150_000 / 32, MEMORY / 32 - 1];
    for (const i of leaves) expect(b.path(i).map(toHex)).toEqual(a.path(i).map(toHex));
    // A write inside the image (setLeaf) and one outside (sync): both trees follow.
    const leaf = randomBytes(rng, 32);
    a.setLeaf(OFFSET / 32 + 9, leaf);
    b.setLeaf(OFFSET / 32 + 9, leaf);
    memory.set(leaf, OFFSET + 9 * 32);
    const other = memory.slice();
    other.set(randomBytes(rng, 64), 200_000);
    other.set(randomBytes(rng, 64), OFFSET + 30_000);
    a.sync(other.slice());
    b.sync(other);
    expect(toHex(b.root())).toBe(toHex(a.root()));
    for (const i of [...leaves, OFFSET / 32 + 30_000 / 32]) expect(b.path(i).map(toHex)).toEqual(a.path(i).map(toHex));
  });

  it("builds its root from the chunk roots without reading the image's leaves, and checks a chunk when a path needs it", () => {
    const { memory, image } = memoryWithImage(3);
    const root = toHex(full(memory.slice()).root());
    const altered = memory.slice();
    altered[OFFSET + 10_000] ^= 0xff; // in chunk 4 of the image (2 KiB chunks)
    const t = lazy(altered, image);
    expect(toHex(t.root())).toBe(root);
    expect(() => t.path((OFFSET + 10_000) / 32)).toThrow(/changed in the caller's buffer/);
    expect(t.path(OFFSET / 32).length).toBe(treeDepth(MEMORY / 32));
  });

  it("refuses chunk roots that do not hash to the image's root", () => {
    const { memory, image } = memoryWithImage(4);
    const tree = imageTree("memoryLeaf", "memoryNode", image);
    const chunkRoots = tree.chunkRoots.slice();
    chunkRoots[40] ^= 1;
    expect(() => new MerkleTree("memoryLeaf", "memoryNode", memory, undefined, { firstLeaf: OFFSET / 32, tree: { ...tree, chunkRoots } })).toThrow(/do not hash to its root/);
  });

  it("gives sparseRoot the full tree's root", () => {
    const { memory, image } = memoryWithImage(5);
    const pieces = [{ offset: 32, bytes: memory.slice(32, 3032) }, { offset: 150_000, bytes: memory.slice(150_000, 155_000) }, { offset: 40, bytes: new Uint8Array(7) }];
    const expected = memory.slice();
    expected.fill(0, 40, 47);
    const tree = imageTree("memoryLeaf", "memoryNode", image);
    const depth = treeDepth(MEMORY / 32);
    expect(toHex(sparseRoot("memoryLeaf", "memoryNode", depth, pieces, { firstLeaf: OFFSET / 32, depth: tree.depth, root: tree.root }))).toBe(toHex(full(expected).root()));
    expect(toHex(sparseRoot("memoryLeaf", "memoryNode", depth, []))).toBe(toHex(full(new Uint8Array(MEMORY)).root()));
  });
});

describe("a module decoded with a weights image", () => {
  // Four pages; segment 0 sums 64 words of the image at 65536 and stores the sum at 32.
  const bytes = wat(module(`
    (data (i32.const 64) "\\01\\02\\03")
    (func (export "load_inputs")
      (local $i i32) (local $s i32)
      (loop $l
        (local.set $s (i32.add (local.get $s) (i32.load offset=65536 (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const 64))))
      (i32.store (i32.const 32) (local.get $s)))
    (func (export "store_outputs") (call $write_output (i32.const 32)))
  `, 4));
  const image = randomBytes(new Rng(6), 10_000);

  it("has the initial memory root of a full hash, and a session's boundaries equal a fully hashed trace", () => {
    const mod = decodeModule(bytes, { weights: { offset: 65536, bytes: image } });
    expect(toHex(initialMemoryRoot(mod))).toBe(toHex(full(initialMemory(mod)).root()));
    expect(toHex(memoryTree(mod, initialMemory(mod)).root())).toBe(toHex(full(initialMemory(mod)).root()));
    const session = new Session(bytes, new Uint8Array(0), { weights: { offset: 65536, bytes: image } });
    const traced = traceModule(mod, new Uint8Array(0));
    expect(session.boundaries.map((b) => toHex(b.hash))).toEqual(traced.boundaries.map((b) => toHex(b.hash)));
    const sum = new DataView(traced.output.buffer).getInt32(0, true);
    let want = 0;
    for (let i = 0; i < 64; i++) want = (want + new DataView(image.buffer).getInt32(4 * i, true)) | 0;
    expect(sum).toBe(want);
  });

  it("refuses an image at an unaligned offset, outside memory or over a data segment", () => {
    expect(() => decodeModule(bytes, { weights: { offset: 65536 + 8192, bytes: image } })).toThrow(/must start at a multiple of 16384/);
    expect(() => decodeModule(bytes, { weights: { offset: 4 * 65536, bytes: image } })).toThrow(/fit in the 262144-byte memory/);
    expect(() => decodeModule(bytes, { weights: { offset: 0, bytes: image } })).toThrow(/data segment 0 overlaps the weights image/);
  });
});
