import { keccak_256 } from "@noble/hashes/sha3.js";
import { describe, expect, test } from "vitest";
import { hashWords, keccak256, toHex } from "../../vm/spec/hash.js";
import { MerkleTree, zeroHashes } from "../../vm/merkle.js";
import { rootFromPath } from "../../vm/merkle-roots.js";
import { Rng } from "../helpers/random.js";

describe("keccak256 and Merkle trees", () => {
  test("keccak256 (the WASM permutation) equals @noble/hashes for every length up to three blocks", () => {
    const rng = new Rng(1);
    for (let len = 0; len <= 3 * 136 + 1; len++) {
      const b = Uint8Array.from({ length: len }, () => rng.int(0, 255));
      expect(toHex(keccak256(b)), `length ${len}`).toBe(toHex(keccak_256(b)));
    }
  });

  test("prefixed word hashes are keccak(prefix ‖ words)", () => {
    const w = new Uint8Array(32).fill(7);
    const expected = keccak_256(new Uint8Array([...new TextEncoder().encode("detml.vm.stack:"), ...w, ...new Uint8Array(31), 5]));
    expect(toHex(hashWords("stack", w, 5))).toBe(toHex(expected));
  });

  test("incremental sync gives the same roots and paths as a rebuild; paths verify", () => {
    const rng = new Rng(2);
    for (const leaves of [1, 2, 3, 5, 8, 13, 64]) {
      const data = Uint8Array.from({ length: leaves * 32 }, () => rng.int(0, 255));
      const tree = new MerkleTree("memoryLeaf", "memoryNode", data);
      for (let round = 0; round < 5; round++) {
        for (let k = rng.int(0, 3); k > 0; k--) data[rng.int(0, data.length - 1)] ^= 1 + rng.int(0, 254);
        tree.sync(data);
        const fresh = new MerkleTree("memoryLeaf", "memoryNode", data);
        expect(toHex(tree.root())).toBe(toHex(fresh.root()));
        for (let i = 0; i < 2 ** tree.depth; i++) {
          expect(toHex(rootFromPath("memoryLeaf", "memoryNode", tree.leaf(i), i, tree.path(i)))).toBe(toHex(fresh.root()));
        }
      }
    }
  });

  test("padding leaves are zero leaves; an empty tree is the zero leaf hash", () => {
    const three = new MerkleTree("inputLeaf", "inputNode", new Uint8Array(96).fill(1));
    const four = new Uint8Array(128).fill(1);
    four.fill(0, 96);
    expect(toHex(three.root())).toBe(toHex(new MerkleTree("inputLeaf", "inputNode", four).root()));
    expect(toHex(new MerkleTree("inputLeaf", "inputNode", new Uint8Array(0)).root())).toBe(toHex(zeroHashes("inputLeaf", "inputNode", 0)[0]));
  });
});
