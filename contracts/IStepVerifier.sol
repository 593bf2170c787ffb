// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/**
 * @title The one-step verifier the Referee calls at the end of a game
 * @notice Checks one VM step as docs/vm-state.md section 7 defines it: given the agreed pre-state
 * hash and the proof words (18 pre-state words, the instruction and its witnesses), it returns the
 * post-state hash, and reverts when the proof does not open the pre-state or is malformed. The
 * Referee treats any revert as INVALID_PROOF. vm/verifier.ts is the reference implementation.
 */
interface IStepVerifier {
    function verify(bytes32 preStateHash, bytes calldata proof) external view returns (bytes32);
}
