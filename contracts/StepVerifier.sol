// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IStepVerifier} from "./IStepVerifier.sol";
import {aluBinary, aluUnary, isBinaryOp, isUnaryOp, signExtend, MASK32, MASK64} from "./StepAlu.sol";
import {
    foldPath, hashFrame, hashPair, hashStateAt, hashTrappedState, hashWord, treeDepth, STATE_BYTES, PREFIX_CODE_LEAF,
    PREFIX_CODE_NODE, PREFIX_INPUT_LEAF, PREFIX_INPUT_NODE, PREFIX_LOCAL, PREFIX_LOCALS_NODE, PREFIX_MEMORY_LEAF,
    PREFIX_MEMORY_NODE, PREFIX_OUTPUT, PREFIX_STACK
} from "./StepHash.sol";

/**
 * @title The on-chain one-step verifier of the detml VM.
 * @notice Mirrors vm/verifier.ts line by line (docs/vm-state.md sections 3, 4, 6, 7): given the
 * agreed pre-state hash and a proof (32-byte words read strictly in order through a cursor), it
 * recomputes the post-state hash of one step or reverts with a custom error naming the class of
 * the failed check. The state lives in a memory struct of 18 words (the same layout as the proof
 * and the hash preimage), every witness is checked against its commitment before use, and every
 * loop is bounded either by a constant (tree depths below 65, 64-bit counts) or by the words
 * actually present in the proof (checked before the loop starts). Protocol v2: numeric state
 * fields must be below 2^64 and are updated exactly (no wrap), memoryBytes must be a multiple of
 * 32 and at most 2^32, a pop from an empty stack and a return without a caller are rejected.
 */
contract StepVerifier is IStepVerifier {
    /// The 18 state words in hashing (and proof) order; the memory layout is the preimage's.
    struct State {
        bytes32 codeRoot;
        uint256 codeSize;
        bytes32 memoryRoot;
        uint256 memoryBytes;
        uint256 stepBudget;
        bytes32 inputRoot;
        uint256 inputChunks;
        bytes32 outputAcc;
        uint256 outputChunks;
        uint256 segment;
        uint256 step;
        uint256 status;
        uint256 pc;
        bytes32 stackHash;
        uint256 stackHeight;
        bytes32 localsRoot;
        bytes32 framesHash;
        uint256 callDepth;
    }

    /// The proof cursor: absolute calldata positions of the next word and of the end.
    struct Reader {
        uint256 pos;
        uint256 end;
    }

    /// A decoded instruction word: op u16 | a u32 | b u32 | c u32 | imm u64 | 10 zero bytes.
    struct Instruction {
        uint256 op;
        uint256 a;
        uint256 b;
        uint256 c;
        uint256 imm;
    }

    /// The proof is not a whole number of words, ends early, or has words left over.
    error ProofLength();
    /// The 18 pre-state words do not hash to the agreed pre-state hash.
    error PreStateMismatch();
    /// A numeric pre-state field is >= 2^64, memoryBytes is not a multiple of 32 at most 2^32, or
    /// status is not a status (0..9).
    error FieldOutOfRange();
    /// pc is outside the code, or the instruction is not the code tree's leaf at pc.
    error CodeMismatch();
    /// A popped value does not match the stack hash, is wider than 64 bits, or the stack is empty.
    error StackMismatch();
    /// A local is outside the instruction's locals tree, does not match the locals root, or is >= 2^64.
    error LocalMismatch();
    /// A memory leaf does not match the memory root.
    error MemoryMismatch();
    /// An input chunk does not match the input root.
    error InputMismatch();
    /// A return without a caller, a frame record that does not match the frames hash, or out of range.
    error FrameMismatch();
    /// The instruction's opcode is not one of the VM's (the float loads and stores included).
    error UnknownOpcode(uint256 op);
    /// A call instruction with fewer locals than parameters (c < b), which no decoder emits.
    error CallShape();

    uint256 private constant WORD = 32;
    uint256 private constant LIMIT64 = 1 << 64;
    uint256 private constant MAX_MEMORY_BYTES = 1 << 32;
    uint256 private constant MAX_CALL_DEPTH = 1024;
    uint256 private constant MAX_STACK_SLOTS = 65536;

    uint256 private constant RUNNING = 0;
    uint256 private constant HALTED = 1;
    uint256 private constant TRAP_UNREACHABLE = 2;
    uint256 private constant TRAP_OUT_OF_BOUNDS = 5;
    uint256 private constant TRAP_CALL_DEPTH = 6;
    uint256 private constant TRAP_STACK_OVERFLOW = 7;
    uint256 private constant TRAP_BAD_HOST_CALL = 8;
    uint256 private constant TRAP_STEP_LIMIT = 9;

    uint256 private constant OP_UNREACHABLE = 0x00;
    uint256 private constant OP_RETURN = 0x0f;
    uint256 private constant OP_CALL = 0x10;
    uint256 private constant OP_DROP = 0x1a;
    uint256 private constant OP_SELECT = 0x1b;
    uint256 private constant OP_LOCAL_GET = 0x20;
    uint256 private constant OP_LOCAL_SET = 0x21;
    uint256 private constant OP_LOCAL_TEE = 0x22;
    uint256 private constant OP_FIRST_LOAD = 0x28;
    uint256 private constant OP_FIRST_STORE = 0x36;
    uint256 private constant OP_LAST_STORE = 0x3e;
    uint256 private constant OP_I32_CONST = 0x41;
    uint256 private constant OP_I64_CONST = 0x42;
    uint256 private constant OP_JUMP = 0x100;
    uint256 private constant OP_JUMP_IF = 0x101;
    uint256 private constant OP_JUMP_UNLESS = 0x102;
    uint256 private constant OP_BR = 0x103;
    uint256 private constant OP_BR_IF = 0x104;
    uint256 private constant OP_BR_TABLE = 0x105;
    uint256 private constant OP_HALT = 0x106;
    uint256 private constant OP_READ_INPUT = 0x107;
    uint256 private constant OP_WRITE_OUTPUT = 0x108;

    /// Bytes accessed by the memory instructions 0x28..0x3e, one byte per opcode; 0 marks the
    /// float loads and stores (0x2a, 0x2b, 0x38, 0x39), which are not VM instructions.
    bytes23 private constant ACCESS_BYTES = hex"0408000001010202010102020404040800000102010204";

    /// Check a one-step proof against the agreed pre-state hash; return the post-state hash.
    /// `view`, not `pure`, as IStepVerifier declares it (the compiler's hint to restrict it is expected).
    function verify(bytes32 preStateHash, bytes calldata proof) external view returns (bytes32 postStateHash) {
        if (proof.length % WORD != 0 || proof.length < STATE_BYTES) revert ProofLength();
        uint256 proofAt;
        State memory s;
        assembly ("memory-safe") {
            proofAt := proof.offset
            calldatacopy(s, proofAt, STATE_BYTES)
        }
        checkRanges(s);
        if (hashStateAt(stateWords(s)) != preStateHash) revert PreStateMismatch();
        Reader memory r = Reader(proofAt + STATE_BYTES, proofAt + proof.length);
        if (s.status != RUNNING) {
            // A stopped machine stays as it is.
            finish(r);
            return preStateHash;
        }
        // A segment that has used its step budget traps on its next step, whatever the instruction.
        if (s.step >= s.stepBudget) {
            finish(r);
            return hashTrappedState(proofAt, s.step + 1, TRAP_STEP_LIMIT);
        }
        Instruction memory ins = readInstruction(s, r);
        uint256 prePc = s.pc;
        s.step += 1;
        s.pc = prePc + 1;
        uint256 trap = execute(s, r, ins, prePc);
        finish(r);
        // A trapping step changes only status and step: the pops read before the trap are not applied.
        if (trap != 0) return hashTrappedState(proofAt, s.step, trap);
        return hashStateAt(stateWords(s));
    }

    function stateWords(State memory s) private pure returns (uint256 ptr) {
        assembly ("memory-safe") {
            ptr := s
        }
    }

    /// Protocol v2 range rules on the pre-state's numeric fields.
    function checkRanges(State memory s) private pure {
        if (
            s.codeSize >= LIMIT64 || s.memoryBytes >= LIMIT64 || s.stepBudget >= LIMIT64 || s.inputChunks >= LIMIT64
                || s.outputChunks >= LIMIT64 || s.segment >= LIMIT64 || s.step >= LIMIT64 || s.status >= LIMIT64 || s.pc >= LIMIT64
                || s.stackHeight >= LIMIT64 || s.callDepth >= LIMIT64
        ) revert FieldOutOfRange();
        if (s.memoryBytes % WORD != 0 || s.memoryBytes > MAX_MEMORY_BYTES) revert FieldOutOfRange();
        if (s.status > TRAP_STEP_LIMIT) revert FieldOutOfRange();
    }

    /// The instruction word at pc, proven against the code root, decoded.
    function readInstruction(State memory s, Reader memory r) private pure returns (Instruction memory ins) {
        if (s.pc >= s.codeSize) revert CodeMismatch();
        bytes32 word = next(r);
        uint256 depth = treeDepth(s.codeSize);
        uint256 pathAt = skip(r, depth);
        if (foldPath(hashWord(PREFIX_CODE_LEAF, word), PREFIX_CODE_NODE, s.pc, pathAt, depth) != s.codeRoot) revert CodeMismatch();
        uint256 w = uint256(word);
        ins = Instruction({
            op: (w >> 240) & 0xffff, a: (w >> 208) & MASK32, b: (w >> 176) & MASK32, c: (w >> 144) & MASK32, imm: (w >> 80) & MASK64
        });
    }

    /// Apply one instruction to `s`, reading its witnesses; returns the trap status, or 0.
    function execute(State memory s, Reader memory r, Instruction memory ins, uint256 prePc) private pure returns (uint256) {
        uint256 op = ins.op;
        if (isBinaryOp(op)) {
            uint256 y = pop(s, r);
            uint256 x = pop(s, r);
            (uint256 value, uint256 trap) = aluBinary(op, x, y);
            if (trap != 0) return trap;
            push(s, value);
        } else if (isUnaryOp(op)) {
            push(s, aluUnary(op, pop(s, r)));
        } else if (op >= OP_FIRST_LOAD && op <= OP_LAST_STORE) {
            return memoryAccess(s, r, ins);
        } else if (op == OP_UNREACHABLE) {
            return TRAP_UNREACHABLE;
        } else if (op == OP_I32_CONST || op == OP_I64_CONST) {
            push(s, ins.imm);
        } else if (op == OP_DROP) {
            pop(s, r);
        } else if (op == OP_SELECT) {
            uint256 cond = pop(s, r) & MASK32;
            uint256 second = pop(s, r);
            uint256 first = pop(s, r);
            push(s, cond != 0 ? first : second);
        } else if (op == OP_LOCAL_GET) {
            (bytes32 value,) = readLocal(s, r, ins);
            push(s, uint256(value));
        } else if (op == OP_LOCAL_SET || op == OP_LOCAL_TEE) {
            uint256 v = pop(s, r);
            (, uint256 pathAt) = readLocal(s, r, ins);
            s.localsRoot = foldPath(hashWord(PREFIX_LOCAL, bytes32(v)), PREFIX_LOCALS_NODE, ins.a, pathAt, ins.b);
            if (op == OP_LOCAL_TEE) push(s, v);
        } else if (op == OP_JUMP) {
            s.pc = ins.a;
        } else if (op == OP_JUMP_IF || op == OP_JUMP_UNLESS) {
            uint256 cond = pop(s, r) & MASK32;
            if ((cond != 0) == (op == OP_JUMP_IF)) s.pc = ins.a;
        } else if (op == OP_BR || op == OP_BR_IF) {
            if (op == OP_BR || (pop(s, r) & MASK32) != 0) branch(s, r, ins);
        } else if (op == OP_BR_TABLE) {
            uint256 i = pop(s, r) & MASK32;
            s.pc = prePc + 1 + (i < ins.a ? i : ins.a);
        } else if (op == OP_CALL) {
            return call(s, r, ins, prePc);
        } else if (op == OP_RETURN) {
            ret(s, r, ins);
        } else if (op == OP_HALT) {
            s.status = HALTED;
            s.pc = prePc;
        } else if (op == OP_READ_INPUT) {
            return readInput(s, r);
        } else if (op == OP_WRITE_OUTPUT) {
            return writeOutput(s, r);
        } else {
            revert UnknownOpcode(op);
        }
        return 0;
    }

    // ---- proof cursor ----

    function next(Reader memory r) private pure returns (bytes32 w) {
        uint256 pos = r.pos;
        if (r.end - pos < WORD) revert ProofLength();
        assembly ("memory-safe") {
            w := calldataload(pos)
        }
        r.pos = pos + WORD;
    }

    /// Step over `words` words (a Merkle path, folded later straight from calldata); returns where they start.
    function skip(Reader memory r, uint256 words) private pure returns (uint256 start) {
        start = r.pos;
        requireWords(r, words);
        r.pos = start + words * WORD;
    }

    /// Reject up front a proof too short for `words` more words, so loops over them stay bounded by the proof.
    function requireWords(Reader memory r, uint256 words) private pure {
        if (words > (r.end - r.pos) / WORD) revert ProofLength();
    }

    function finish(Reader memory r) private pure {
        if (r.pos != r.end) revert ProofLength();
    }

    // ---- witnesses ----

    /// Pop: `value, below` with H("detml.vm.stack:", below, value) == stackHash; value < 2^64.
    function pop(State memory s, Reader memory r) private pure returns (uint256 v) {
        if (s.stackHeight == 0) revert StackMismatch();
        bytes32 value = next(r);
        bytes32 below = next(r);
        if (hashPair(PREFIX_STACK, below, value) != s.stackHash) revert StackMismatch();
        v = uint256(value);
        if (v > MASK64) revert StackMismatch();
        s.stackHash = below;
        s.stackHeight -= 1;
    }

    function push(State memory s, uint256 v) private pure {
        s.stackHash = hashPair(PREFIX_STACK, s.stackHash, bytes32(v));
        s.stackHeight += 1;
    }

    /// Local `a` with its `b` siblings (b is the depth of the locals tree), checked against localsRoot.
    function readLocal(State memory s, Reader memory r, Instruction memory ins) private pure returns (bytes32 value, uint256 pathAt) {
        value = next(r);
        pathAt = skip(r, ins.b);
        if (ins.a >> ins.b != 0) revert LocalMismatch();
        if (foldPath(hashWord(PREFIX_LOCAL, value), PREFIX_LOCALS_NODE, ins.a, pathAt, ins.b) != s.localsRoot) revert LocalMismatch();
        if (uint256(value) > MASK64) revert LocalMismatch();
    }

    /// Memory leaf `index` with its path, checked against the current memory root.
    function readLeaf(State memory s, Reader memory r, uint256 index) private pure returns (bytes32 leaf, uint256 pathAt) {
        uint256 depth = treeDepth(s.memoryBytes / WORD);
        leaf = next(r);
        pathAt = skip(r, depth);
        if (foldPath(hashWord(PREFIX_MEMORY_LEAF, leaf), PREFIX_MEMORY_NODE, index, pathAt, depth) != s.memoryRoot) revert MemoryMismatch();
    }

    /// Replace memory leaf `index` by `leaf`, with the path read for it.
    function writeLeaf(State memory s, uint256 index, uint256 pathAt, bytes32 leaf) private pure {
        s.memoryRoot = foldPath(hashWord(PREFIX_MEMORY_LEAF, leaf), PREFIX_MEMORY_NODE, index, pathAt, treeDepth(s.memoryBytes / WORD));
    }

    // ---- instruction classes ----

    /**
     * Loads and stores: ea = uint32(addr) + a; OUT_OF_BOUNDS when ea + size > memoryBytes. The
     * access spans leaf ea/32 and, when it straddles, the next one; a store's second leaf is
     * proven against the root after the first write.
     */
    function memoryAccess(State memory s, Reader memory r, Instruction memory ins) private pure returns (uint256) {
        uint256 op = ins.op;
        uint256 size = uint8(ACCESS_BYTES[op - OP_FIRST_LOAD]);
        if (size == 0) revert UnknownOpcode(op);
        bool isStore = op >= OP_FIRST_STORE;
        uint256 value = isStore ? pop(s, r) : 0;
        uint256 ea = (pop(s, r) & MASK32) + ins.a;
        if (ea + size > s.memoryBytes) return TRAP_OUT_OF_BOUNDS;
        uint256 first = ea / WORD;
        uint256 offset = ea % WORD;
        bool straddles = offset + size > WORD;
        // The two leaves side by side, so an access at any offset is one contiguous byte range.
        bytes32[2] memory span;
        (bytes32 leaf, uint256 pathAt) = readLeaf(s, r, first);
        span[0] = leaf;
        if (isStore) {
            writeLittleEndian(span, offset, size, value);
            writeLeaf(s, first, pathAt, span[0]);
            if (straddles) {
                (leaf, pathAt) = readLeaf(s, r, first + 1);
                span[1] = leaf;
                writeLittleEndian(span, offset, size, value);
                writeLeaf(s, first + 1, pathAt, span[1]);
            }
        } else {
            if (straddles) (span[1],) = readLeaf(s, r, first + 1);
            push(s, extendLoad(op, readLittleEndian(span, offset, size)));
        }
        return 0;
    }

    /// br: pop c (0/1) kept values, pop b more, push the kept ones back, jump to a.
    function branch(State memory s, Reader memory r, Instruction memory ins) private pure {
        uint256 kept = ins.c != 0 ? pop(s, r) : 0;
        requireWords(r, 2 * ins.b);
        for (uint256 i = 0; i < ins.b; i++) pop(s, r);
        if (ins.c != 0) push(s, kept);
        s.pc = ins.a;
    }

    /**
     * call: rejected when it has fewer locals than parameters (c < b); traps CALL_DEPTH at depth
     * 1024, then STACK_OVERFLOW when stackHeight + c + imm > 65536 + b (the callee's locals and
     * operands after the b parameters are popped); else pops the parameters (last first), pushes
     * the caller's frame record and enters the callee.
     */
    function call(State memory s, Reader memory r, Instruction memory ins, uint256 prePc) private pure returns (uint256) {
        if (ins.c < ins.b) revert CallShape();
        if (s.callDepth >= MAX_CALL_DEPTH) return TRAP_CALL_DEPTH;
        if (s.stackHeight + ins.c + ins.imm > MAX_STACK_SLOTS + ins.b) return TRAP_STACK_OVERFLOW;
        uint256 nParams = ins.b;
        requireWords(r, 2 * nParams);
        bytes32[] memory locals = new bytes32[](nParams == 0 ? 1 : nParams);
        for (uint256 i = nParams; i > 0; i--) locals[i - 1] = bytes32(pop(s, r));
        s.framesHash = hashFrame(s.framesHash, prePc + 1, s.stackHash, s.stackHeight, s.localsRoot);
        s.localsRoot = localsRootOf(locals, nParams, ins.c);
        s.stackHash = bytes32(0);
        s.stackHeight += ins.c;
        s.callDepth += 1;
        s.pc = ins.a;
        return 0;
    }

    /**
     * Root of the locals tree of `n` locals holding the `count` (<= n) parameters in `level` then
     * zeros, computed in place level by level (`level` has room for at least one node).
     */
    function localsRootOf(bytes32[] memory level, uint256 count, uint256 n) private pure returns (bytes32) {
        uint256 depth = treeDepth(n);
        bytes32 zero = hashWord(PREFIX_LOCAL, bytes32(0));
        for (uint256 i = 0; i < count; i++) level[i] = hashWord(PREFIX_LOCAL, level[i]);
        if (count == 0) {
            level[0] = zero;
            count = 1;
        }
        for (uint256 l = 0; l < depth; l++) {
            uint256 parents = (count + 1) / 2;
            for (uint256 i = 0; i < parents; i++) {
                level[i] = hashPair(PREFIX_LOCALS_NODE, level[2 * i], 2 * i + 1 < count ? level[2 * i + 1] : zero);
            }
            zero = hashPair(PREFIX_LOCALS_NODE, zero, zero);
            count = parents;
        }
        return level[0];
    }

    /// return: pop the result if a = 1, pop the caller's frame record, resume the caller.
    function ret(State memory s, Reader memory r, Instruction memory ins) private pure {
        uint256 result = ins.a != 0 ? pop(s, r) : 0;
        if (s.callDepth == 0) revert FrameMismatch();
        uint256 returnPc = uint256(next(r));
        bytes32 callerStackHash = next(r);
        uint256 callerStackHeight = uint256(next(r));
        bytes32 callerLocalsRoot = next(r);
        bytes32 below = next(r);
        if (hashFrame(below, returnPc, callerStackHash, callerStackHeight, callerLocalsRoot) != s.framesHash) revert FrameMismatch();
        if (returnPc > MASK32 || callerStackHeight > MASK32) revert FrameMismatch();
        s.pc = returnPc;
        s.stackHash = callerStackHash;
        s.stackHeight = callerStackHeight;
        if (ins.a != 0) push(s, result);
        s.localsRoot = callerLocalsRoot;
        s.framesHash = below;
        s.callDepth -= 1;
    }

    /// read_input: pop dst, chunk; memory leaf dst/32 = input chunk `chunk` (proven against inputRoot).
    function readInput(State memory s, Reader memory r) private pure returns (uint256) {
        uint256 dst = pop(s, r) & MASK32;
        uint256 chunk = pop(s, r) & MASK32;
        if (dst % WORD != 0 || dst + WORD > s.memoryBytes || chunk >= s.inputChunks) return TRAP_BAD_HOST_CALL;
        bytes32 data = next(r);
        uint256 depth = treeDepth(s.inputChunks);
        uint256 pathAt = skip(r, depth);
        if (foldPath(hashWord(PREFIX_INPUT_LEAF, data), PREFIX_INPUT_NODE, chunk, pathAt, depth) != s.inputRoot) revert InputMismatch();
        (, uint256 leafPathAt) = readLeaf(s, r, dst / WORD);
        writeLeaf(s, dst / WORD, leafPathAt, data);
        return 0;
    }

    /// write_output: pop src; outputAcc = H("detml.io.output:", outputAcc, leaf src/32).
    function writeOutput(State memory s, Reader memory r) private pure returns (uint256) {
        uint256 src = pop(s, r) & MASK32;
        if (src % WORD != 0 || src + WORD > s.memoryBytes) return TRAP_BAD_HOST_CALL;
        (bytes32 leaf,) = readLeaf(s, r, src / WORD);
        s.outputAcc = hashPair(PREFIX_OUTPUT, s.outputAcc, leaf);
        s.outputChunks += 1;
        return 0;
    }

    // ---- bytes of the memory span ----

    /// Store the low `size` bytes of `value`, least significant first, at byte `offset` of the span.
    function writeLittleEndian(bytes32[2] memory span, uint256 offset, uint256 size, uint256 value) private pure {
        assembly ("memory-safe") {
            let at := add(span, offset)
            for { let i := 0 } lt(i, size) { i := add(i, 1) } {
                mstore8(add(at, i), shr(shl(3, i), value))
            }
        }
    }

    /// The `size` bytes at byte `offset` of the span as a little-endian number.
    function readLittleEndian(bytes32[2] memory span, uint256 offset, uint256 size) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            let w := mload(add(span, offset))
            for { let i := 0 } lt(i, size) { i := add(i, 1) } {
                v := or(v, shl(shl(3, i), byte(i, w)))
            }
        }
    }

    /// Narrow signed loads sign-extend to their result type (i32 or i64); the others are as read.
    function extendLoad(uint256 op, uint256 v) private pure returns (uint256) {
        if (op == 0x2c) return signExtend(v, 1, MASK32);
        if (op == 0x2e) return signExtend(v, 2, MASK32);
        if (op == 0x30) return signExtend(v, 1, MASK64);
        if (op == 0x32) return signExtend(v, 2, MASK64);
        if (op == 0x34) return signExtend(v, 4, MASK64);
        return v;
    }
}
