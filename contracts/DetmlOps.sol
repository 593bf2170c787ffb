// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/**
 * @title Calls to the DNN-operator precompiles of detml's extended EVM
 * @notice The precompiles (docs/evm.md, "The extended EVM") exist only on detml's embedded chain
 * (`--chain local`). Each takes a header of little-endian int32 words (input count; per input
 * its rank, dims and frac; the output frac; the op's attributes) followed by the inputs'
 * elements as little-endian int32, and returns the output's elements the same way. `call` runs
 * one and checks it returned the expected number of bytes (a chain without the precompiles
 * returns none); `available` tells whether this chain has them.
 */
library DetmlOps {
    error OpFailed(address op);

    address internal constant MATMUL = address(0x0d01);
    address internal constant GEMM = address(0x0d02);
    address internal constant CONV = address(0x0d03);
    address internal constant CONV_TRANSPOSE = address(0x0d04);
    address internal constant MAX_POOL = address(0x0d10);
    address internal constant AVERAGE_POOL = address(0x0d11);
    address internal constant RELU = address(0x0d20);
    address internal constant TANH = address(0x0d30);
    address internal constant SIGMOID = address(0x0d31);
    address internal constant SOFTMAX = address(0x0d35);
    address internal constant ADD = address(0x0d40);

    /// @notice Run precompile `op` on `input`; reverts with OpFailed unless it returns `outputBytes` bytes.
    function call(address op, bytes memory input, uint256 outputBytes) internal view returns (bytes memory output) {
        (bool ok, bytes memory returned) = op.staticcall(input);
        if (!ok || returned.length != outputBytes) revert OpFailed(op);
        return returned;
    }

    /// @notice Whether the precompiles exist here: Relu of one element, 2^16 at Q16, must return it.
    function available() internal view returns (bool) {
        // Header: 1 input, rank 1, dim 1, frac 16; output frac 16; then the element 65536.
        bytes memory input = hex"010000000100000001000000100000001000000000000100";
        (bool ok, bytes memory returned) = RELU.staticcall(input);
        return ok && returned.length == 4 && bytes4(returned) == hex"00000100";
    }
}
