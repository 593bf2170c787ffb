// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/*
 * The domain-separated hashes of the VM's commitments for the on-chain one-step verifier
 * (docs/vm-state.md section 1): H(prefix, w1, ..., wn) = keccak256(abi.encodePacked(prefix, w1,
 * ..., wn)), with the ASCII prefixes of vm/hash.ts. Each prefix constant packs the prefix bytes,
 * left-aligned, with its length in the lowest byte (every prefix is at most 21 bytes, so the two
 * never overlap); the hash functions store that word at the start of free memory and the hashed
 * words right after the prefix, which overwrites the length byte, so no copy of the prefix is
 * needed. Hashing uses the memory past the free-memory pointer as scratch without allocating
 * (Solidity allows this in memory-safe assembly), and Merkle paths are folded straight from
 * calldata.
 */

uint256 constant PREFIX_STATE = uint256(bytes32("detml.vm.state:")) | 15;
uint256 constant PREFIX_CODE_LEAF = uint256(bytes32("detml.vm.code-leaf:")) | 19;
uint256 constant PREFIX_CODE_NODE = uint256(bytes32("detml.vm.code-node:")) | 19;
uint256 constant PREFIX_MEMORY_LEAF = uint256(bytes32("detml.vm.memory-leaf:")) | 21;
uint256 constant PREFIX_MEMORY_NODE = uint256(bytes32("detml.vm.memory-node:")) | 21;
uint256 constant PREFIX_LOCAL = uint256(bytes32("detml.vm.local:")) | 15;
uint256 constant PREFIX_LOCALS_NODE = uint256(bytes32("detml.vm.locals-node:")) | 21;
uint256 constant PREFIX_STACK = uint256(bytes32("detml.vm.stack:")) | 15;
uint256 constant PREFIX_FRAME = uint256(bytes32("detml.vm.frame:")) | 15;
uint256 constant PREFIX_INPUT_LEAF = uint256(bytes32("detml.io.input-leaf:")) | 20;
uint256 constant PREFIX_INPUT_NODE = uint256(bytes32("detml.io.input-node:")) | 20;
uint256 constant PREFIX_OUTPUT = uint256(bytes32("detml.io.output:")) | 16;

// The 18 state words take 576 bytes, in the proof and in memory alike.
uint256 constant STATE_BYTES = 576;

/// H(prefix, w): a leaf.
function hashWord(uint256 prefix, bytes32 w) pure returns (bytes32 h) {
    assembly ("memory-safe") {
        let p := mload(0x40)
        let len := and(prefix, 0xff)
        mstore(p, prefix)
        mstore(add(p, len), w)
        h := keccak256(p, add(len, 32))
    }
}

/// H(prefix, left, right): a Merkle node, a stack push or an output absorption.
function hashPair(uint256 prefix, bytes32 left, bytes32 right) pure returns (bytes32 h) {
    assembly ("memory-safe") {
        let p := mload(0x40)
        let len := and(prefix, 0xff)
        mstore(p, prefix)
        mstore(add(p, len), left)
        mstore(add(p, add(len, 32)), right)
        h := keccak256(p, add(len, 64))
    }
}

/// H("detml.vm.frame:", below, returnPc, callerStackHash, callerStackHeight, callerLocalsRoot).
function hashFrame(bytes32 below, uint256 returnPc, bytes32 callerStackHash, uint256 callerStackHeight, bytes32 callerLocalsRoot)
    pure
    returns (bytes32 h)
{
    uint256 prefix = PREFIX_FRAME;
    assembly ("memory-safe") {
        let p := mload(0x40)
        let at := add(p, and(prefix, 0xff))
        mstore(p, prefix)
        mstore(at, below)
        mstore(add(at, 32), returnPc)
        mstore(add(at, 64), callerStackHash)
        mstore(add(at, 96), callerStackHeight)
        mstore(add(at, 128), callerLocalsRoot)
        h := keccak256(p, sub(add(at, 160), p))
    }
}

/// The state hash over 18 words held in memory at `words` (a State struct).
function hashStateAt(uint256 words) pure returns (bytes32 h) {
    uint256 prefix = PREFIX_STATE;
    assembly ("memory-safe") {
        let p := mload(0x40)
        let len := and(prefix, 0xff)
        mstore(p, prefix)
        mcopy(add(p, len), words, STATE_BYTES)
        h := keccak256(p, add(len, STATE_BYTES))
    }
}

/**
 * The state hash of the pre-state words in calldata at `preAt` with `step` and `status` replaced:
 * the post-state of a trapping step, which changes nothing else (docs/vm-state.md section 4).
 */
function hashTrappedState(uint256 preAt, uint256 step, uint256 status) pure returns (bytes32 h) {
    uint256 prefix = PREFIX_STATE;
    assembly ("memory-safe") {
        let p := mload(0x40)
        let len := and(prefix, 0xff)
        mstore(p, prefix)
        calldatacopy(add(p, len), preAt, STATE_BYTES)
        mstore(add(p, add(len, 320)), step) // word 10
        mstore(add(p, add(len, 352)), status) // word 11
        h := keccak256(p, add(len, STATE_BYTES))
    }
}

/**
 * Fold the node hash `h` of leaf `index` up the `depth` sibling hashes in calldata at `pathAt`:
 * bit l of the index says whether the node at level l is a right child.
 */
function foldPath(bytes32 h, uint256 nodePrefix, uint256 index, uint256 pathAt, uint256 depth) pure returns (bytes32) {
    assembly ("memory-safe") {
        let p := mload(0x40)
        let left := add(p, and(nodePrefix, 0xff))
        let right := add(left, 32)
        let len := add(and(nodePrefix, 0xff), 64)
        mstore(p, nodePrefix)
        for { let l := 0 } lt(l, depth) { l := add(l, 1) } {
            let sibling := calldataload(add(pathAt, shl(5, l)))
            switch and(shr(l, index), 1)
            case 0 {
                mstore(left, h)
                mstore(right, sibling)
            }
            default {
                mstore(left, sibling)
                mstore(right, h)
            }
            h := keccak256(p, len)
        }
    }
    return h;
}

/// depth(n) = ceil(log2(max(n, 1))): the bit length of n - 1.
function treeDepth(uint256 n) pure returns (uint256 d) {
    if (n <= 1) return 0;
    assembly ("memory-safe") {
        d := sub(256, clz(sub(n, 1)))
    }
}
