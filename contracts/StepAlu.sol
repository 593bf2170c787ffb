// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/*
 * The integer semantics of the VM's numeric instructions for the on-chain one-step verifier, as
 * free functions inlined into StepVerifier. It mirrors vm/alu.ts: values are uint256 words holding
 * a 64-bit pattern (an i32 zero-extended to 2^32, an i64 below 2^64); i32 operands are masked to
 * 32 bits first; results are masked to their type; shifts and rotates take the count modulo the
 * width; comparisons give 0/1; div/rem trap DIV_ZERO on a zero divisor and div_s traps
 * INT_OVERFLOW on MIN / -1 (docs/vm-state.md section 6). Signed operations convert through int32 /
 * int64 to int256, where none of them can overflow, then mask back. All arithmetic is unchecked
 * on purpose: every result is masked, so no wrap-around can leak out.
 */

uint256 constant MASK32 = 0xffffffff;
uint256 constant MASK64 = 0xffffffffffffffff;

uint256 constant TRAP_DIV_ZERO = 3;
uint256 constant TRAP_INT_OVERFLOW = 4;

/// Whether `op` takes one operand: eqz, clz, ctz, popcnt, wrap/extend and the sign extensions.
function isUnaryOp(uint256 op) pure returns (bool) {
    return op == 0x45 || op == 0x50 || (op >= 0x67 && op <= 0x69) || (op >= 0x79 && op <= 0x7b) || op == 0xa7 || op == 0xac
        || op == 0xad || (op >= 0xc0 && op <= 0xc4);
}

/// Whether `op` is a two-operand integer instruction (comparisons and arithmetic, i32 and i64).
function isBinaryOp(uint256 op) pure returns (bool) {
    return (op >= 0x46 && op <= 0x4f) || (op >= 0x51 && op <= 0x5a) || (op >= 0x6a && op <= 0x78) || (op >= 0x7c && op <= 0x8a);
}

function asInt32(uint256 v) pure returns (int256) {
    return int256(int32(uint32(v)));
}

function asInt64(uint256 v) pure returns (int256) {
    return int256(int64(uint64(v)));
}

function flag(bool c) pure returns (uint256) {
    return c ? 1 : 0;
}

/// Leading zeros of `x` as a `bits`-wide integer (`bits` when x is 0); EIP-7939's CLZ opcode.
function leadingZeros(uint256 x, uint256 bits) pure returns (uint256 n) {
    assembly ("memory-safe") {
        n := sub(clz(x), sub(256, bits))
    }
}

/// Trailing zeros of `x` as a `bits`-wide integer (`bits` when x is 0): isolate the lowest set bit.
function trailingZeros(uint256 x, uint256 bits) pure returns (uint256 n) {
    if (x == 0) return bits;
    assembly ("memory-safe") {
        n := sub(255, clz(and(x, sub(0, x))))
    }
}

/// Set bits of a value below 2^64 (SWAR: pairs, nibbles, bytes, then a multiply sums the bytes).
function popCount(uint256 x) pure returns (uint256) {
    unchecked {
        x = x - ((x >> 1) & 0x5555555555555555);
        x = (x & 0x3333333333333333) + ((x >> 2) & 0x3333333333333333);
        x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0f;
        return ((x * 0x0101010101010101) & MASK64) >> 56;
    }
}

/// Sign-extend the low `bytesWide` bytes of `x`, masked to `mask` (the result type's width).
function signExtend(uint256 x, uint256 bytesWide, uint256 mask) pure returns (uint256 r) {
    assembly ("memory-safe") {
        r := and(signextend(sub(bytesWide, 1), x), mask)
    }
}

/// A one-operand instruction on `x` (< 2^64). None of them trap.
function aluUnary(uint256 op, uint256 x) pure returns (uint256) {
    uint256 x32 = x & MASK32;
    if (op == 0x45) return flag(x32 == 0); // i32.eqz
    if (op == 0x50) return flag(x == 0); // i64.eqz
    if (op == 0x67) return leadingZeros(x32, 32);
    if (op == 0x68) return trailingZeros(x32, 32);
    if (op == 0x69) return popCount(x32);
    if (op == 0x79) return leadingZeros(x, 64);
    if (op == 0x7a) return trailingZeros(x, 64);
    if (op == 0x7b) return popCount(x);
    if (op == 0xa7 || op == 0xad) return x32; // i32.wrap_i64, i64.extend_i32_u
    if (op == 0xac) return signExtend(x32, 4, MASK64); // i64.extend_i32_s
    if (op == 0xc0) return signExtend(x32, 1, MASK32);
    if (op == 0xc1) return signExtend(x32, 2, MASK32);
    if (op == 0xc2) return signExtend(x, 1, MASK64);
    if (op == 0xc3) return signExtend(x, 2, MASK64);
    return signExtend(x, 4, MASK64); // 0xc4, i64.extend32_s (callers pass only unary opcodes)
}

/// A two-operand instruction `x op y` (x the first operand): (result, 0) or (0, trap status).
function aluBinary(uint256 op, uint256 x, uint256 y) pure returns (uint256, uint256) {
    if (op <= 0x4f || (op >= 0x6a && op <= 0x78)) return aluBinary32(op, x & MASK32, y & MASK32);
    return aluBinary64(op, x & MASK64, y & MASK64);
}

function aluBinary32(uint256 op, uint256 a, uint256 b) pure returns (uint256, uint256) {
    unchecked {
        uint256 sh = b & 31;
        if (op <= 0x4f) return (compare(op - 0x46, a, b, asInt32(a), asInt32(b)), 0);
        if (op == 0x6a) return ((a + b) & MASK32, 0);
        if (op == 0x6b) return ((a - b) & MASK32, 0);
        if (op == 0x6c) return ((a * b) & MASK32, 0);
        if (op >= 0x6d && op <= 0x70) {
            if (b == 0) return (0, TRAP_DIV_ZERO);
            int256 sa = asInt32(a);
            int256 sb = asInt32(b);
            if (op == 0x6d) {
                if (sa == type(int32).min && sb == -1) return (0, TRAP_INT_OVERFLOW);
                return (uint256(sa / sb) & MASK32, 0);
            }
            if (op == 0x6e) return (a / b, 0);
            if (op == 0x6f) return (uint256(sa % sb) & MASK32, 0);
            return (a % b, 0);
        }
        if (op == 0x71) return (a & b, 0);
        if (op == 0x72) return (a | b, 0);
        if (op == 0x73) return (a ^ b, 0);
        if (op == 0x74) return ((a << sh) & MASK32, 0);
        if (op == 0x75) return (uint256(asInt32(a) >> sh) & MASK32, 0);
        if (op == 0x76) return (a >> sh, 0);
        if (op == 0x77) return (((a << sh) | (a >> (32 - sh))) & MASK32, 0);
        return (((a >> sh) | (a << (32 - sh))) & MASK32, 0); // 0x78, i32.rotr
    }
}

function aluBinary64(uint256 op, uint256 a, uint256 b) pure returns (uint256, uint256) {
    unchecked {
        uint256 sh = b & 63;
        if (op <= 0x5a) return (compare(op - 0x51, a, b, asInt64(a), asInt64(b)), 0);
        if (op == 0x7c) return ((a + b) & MASK64, 0);
        if (op == 0x7d) return ((a - b) & MASK64, 0);
        if (op == 0x7e) return ((a * b) & MASK64, 0);
        if (op >= 0x7f && op <= 0x82) {
            if (b == 0) return (0, TRAP_DIV_ZERO);
            int256 sa = asInt64(a);
            int256 sb = asInt64(b);
            if (op == 0x7f) {
                if (sa == type(int64).min && sb == -1) return (0, TRAP_INT_OVERFLOW);
                return (uint256(sa / sb) & MASK64, 0);
            }
            if (op == 0x80) return (a / b, 0);
            if (op == 0x81) return (uint256(sa % sb) & MASK64, 0);
            return (a % b, 0);
        }
        if (op == 0x83) return (a & b, 0);
        if (op == 0x84) return (a | b, 0);
        if (op == 0x85) return (a ^ b, 0);
        if (op == 0x86) return ((a << sh) & MASK64, 0);
        if (op == 0x87) return (uint256(asInt64(a) >> sh) & MASK64, 0);
        if (op == 0x88) return (a >> sh, 0);
        if (op == 0x89) return (((a << sh) | (a >> (64 - sh))) & MASK64, 0);
        return (((a >> sh) | (a << (64 - sh))) & MASK64, 0); // 0x8a, i64.rotr
    }
}

/// The ten comparisons in WASM order (eq, ne, lt_s, lt_u, gt_s, gt_u, le_s, le_u, ge_s, ge_u).
function compare(uint256 which, uint256 a, uint256 b, int256 sa, int256 sb) pure returns (uint256) {
    if (which == 0) return flag(a == b);
    if (which == 1) return flag(a != b);
    if (which == 2) return flag(sa < sb);
    if (which == 3) return flag(a < b);
    if (which == 4) return flag(sa > sb);
    if (which == 5) return flag(a > b);
    if (which == 6) return flag(sa <= sb);
    if (which == 7) return flag(a <= b);
    if (which == 8) return flag(sa >= sb);
    return flag(a >= b);
}
