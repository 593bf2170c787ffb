// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IStepVerifier} from "./IStepVerifier.sol";
import {RefereeBase} from "./RefereeBase.sol";

/**
 * @title The detml referee: optimistic verification of neural-network inference on chain
 * @notice The dispute protocol of docs/protocol.md (version 2), on chain. A submitter claims the
 * result of a registered model on an input (or that the run traps) with a bond; anyone may
 * challenge it within `challengeBlocks`, each challenge being its own game. A game bisects the op
 * boundaries of the run (phase 1), the submitter reveals the disputed op's boundary and end state,
 * the game bisects the VM steps of that op (phase 2), and the one-step verifier decides the last
 * step. Every move has `moveBlocks`; after a missed deadline anyone may call `timeout` and the
 * party to move loses. dispute/referee.ts is the executable specification: the same checks in the
 * same order, the same outcomes, custom errors named after its rejection codes (held to it by
 * test/contracts/referee-diff.test.ts). Requests let other contracts ask for an inference with a
 * fee and read the result once an answering claim is accepted (contracts/MnistConsumer.sol).
 * BAD_BLOCK cannot happen here: block.number never goes back, so the TypeScript referee's
 * monotonic-clock check holds by construction. The state kept (RefereeBase) and the commitments
 * are in contracts/RefereeBase.sol.
 */
contract Referee is RefereeBase {
    constructor(address verifier_, uint256 bond_, uint256 challengeBlocks_, uint256 moveBlocks_, uint256 degree_)
        RefereeBase(verifier_, bond_, challengeBlocks_, moveBlocks_, degree_)
    {}

    // ---- claims ---------------------------------------------------------------------------

    /**
     * @notice Claim that `modelId` maps `input` to `output` (whole 32-byte chunks) with final memory
     * root `finalMemoryRoot`. Locks `bond` (msg.value is deposited first). `parent` is 0 or an
     * earlier claim this run continues from (a chained claim).
     * @dev Rule: finalBoundary must be boundaryHash(model constants, finalMemoryRoot, input
     * commitment, output commitment, S), else BadClaim; the input and output commitments are
     * computed here from the bytes, so they always match the data every watcher sees.
     */
    function submit(bytes32 modelId, bytes calldata input, bytes calldata output, bytes32 finalMemoryRoot, bytes32 finalBoundary, uint256 parent)
        external
        payable
        returns (uint256 claimId)
    {
        (bytes32 inputRoot, uint256 inputChunks) = inputCommitment(input);
        (bytes32 outputAcc, uint256 outputChunks) = outputCommitment(output);
        Model storage m = _model(modelId);
        _checkParent(modelId, parent);
        if (finalBoundary != _boundary(m, finalMemoryRoot, inputRoot, inputChunks, outputAcc, outputChunks, m.segments)) revert BadClaim();
        claimId = _openClaim(modelId, inputRoot, inputChunks, outputAcc, outputChunks, finalMemoryRoot, finalBoundary, parent, 0);
        claims[claimId].output = output;
        emit ClaimSubmitted(claimId, msg.sender, modelId, parent, 0, input, output, finalMemoryRoot, finalBoundary);
    }

    /**
     * @notice Claim that the run of `modelId` on `input` traps, in `trappedState` (18 state words).
     * Its output is nothing: output accumulator and final memory root ZERO, 0 output chunks, and
     * its final boundary the trapped-run hash (all set here, so no caller can claim otherwise).
     */
    function submitTrap(bytes32 modelId, bytes calldata input, bytes32[18] calldata trappedState, uint256 parent)
        external
        payable
        returns (uint256 claimId)
    {
        (bytes32 inputRoot, uint256 inputChunks) = inputCommitment(input);
        _checkWords(trappedState, STATE_COUNTS);
        Model storage m = _model(modelId);
        _checkParent(modelId, parent);
        _checkTrap(m, inputRoot, inputChunks, trappedState);
        claimId = _openClaim(modelId, inputRoot, inputChunks, 0, 0, 0, _trappedRunHash(trappedState), parent, 0);
        claims[claimId].trap = true;
        emit TrapClaimSubmitted(claimId, msg.sender, modelId, parent, 0, input, trappedState);
    }

    /**
     * @notice Accept a claim once its window has closed and every game over it was won by its
     * submitter: the bond returns, and an answered request becomes final with its fee paid.
     * @dev Rules: an open game (StillOpen); a chained claim waits for its parent (StillOpen) and is
     * rejected, bond refunded and no fee paid, when the parent was rejected (its run started from a
     * wrong state).
     */
    function finalize(uint256 claimId) external {
        Claim storage c = _claim(claimId);
        if (c.status != ClaimStatus.Open) revert NotChallengeable();
        if (block.number <= c.blockNumber + challengeBlocks) revert StillOpen();
        if (c.openGames > 0) revert StillOpen();
        ClaimStatus parentStatus = c.parent == 0 ? ClaimStatus.Accepted : claims[c.parent].status;
        if (parentStatus == ClaimStatus.Open) revert StillOpen();
        bool accepted = parentStatus == ClaimStatus.Accepted;
        c.status = accepted ? ClaimStatus.Accepted : ClaimStatus.Rejected;
        _release(c.submitter, bond);
        if (accepted && c.requestId != 0) {
            Request storage r = requests[c.requestId];
            r.isFinal = true;
            _release(c.submitter, r.fee);
        }
        emit ClaimFinalized(claimId, accepted);
    }

    // ---- requests -------------------------------------------------------------------------

    /**
     * @notice Ask for the result of `modelId` on `input`, paying msg.value as the fee of the
     * answer that gets accepted. The input is kept as its commitment; its bytes are in the event.
     */
    function request(bytes32 modelId, bytes calldata input) external payable returns (uint256 requestId) {
        (bytes32 inputRoot, uint256 inputChunks) = inputCommitment(input);
        _model(modelId);
        requestId = ++requestCount;
        requests[requestId] = Request(modelId, inputRoot, msg.sender, uint64(inputChunks), false, msg.value, 0);
        escrow += msg.value;
        emit Requested(requestId, msg.sender, modelId, msg.value, input);
    }

    /** @notice Answer a request with a result claim (as `submit`, on the request's input). */
    function answer(uint256 requestId, bytes calldata output, bytes32 finalMemoryRoot, bytes32 finalBoundary)
        external
        payable
        returns (uint256 claimId)
    {
        Request storage r = _answerable(requestId);
        (bytes32 outputAcc, uint256 outputChunks) = outputCommitment(output);
        Model storage m = models[r.modelId];
        if (finalBoundary != _boundary(m, finalMemoryRoot, r.inputRoot, r.inputChunks, outputAcc, outputChunks, m.segments)) revert BadClaim();
        claimId = _openClaim(r.modelId, r.inputRoot, r.inputChunks, outputAcc, outputChunks, finalMemoryRoot, finalBoundary, 0, requestId);
        claims[claimId].output = output;
        r.claimId = claimId;
        emit ClaimSubmitted(claimId, msg.sender, r.modelId, 0, requestId, "", output, finalMemoryRoot, finalBoundary);
    }

    /** @notice Answer a request with a trap claim (as `submitTrap`, on the request's input). */
    function answerTrap(uint256 requestId, bytes32[18] calldata trappedState) external payable returns (uint256 claimId) {
        Request storage r = _answerable(requestId);
        _checkWords(trappedState, STATE_COUNTS);
        _checkTrap(models[r.modelId], r.inputRoot, r.inputChunks, trappedState);
        claimId = _openClaim(r.modelId, r.inputRoot, r.inputChunks, 0, 0, 0, _trappedRunHash(trappedState), 0, requestId);
        claims[claimId].trap = true;
        r.claimId = claimId;
        emit TrapClaimSubmitted(claimId, msg.sender, r.modelId, 0, requestId, "", trappedState);
    }

    /**
     * @notice The result of a request: not final until an answering claim is accepted; then
     * either the run trapped or `output` holds its output bytes.
     */
    function resultOf(uint256 requestId) external view returns (bool isFinal, bool didTrap, bytes memory output) {
        Request storage r = requests[requestId];
        if (r.modelId == bytes32(0)) revert UnknownRequest();
        if (!r.isFinal) return (false, false, "");
        Claim storage c = claims[r.claimId];
        return (true, c.trap, c.output);
    }

    /**
     * @dev Rules: one claim per request at a time. A new answer is accepted only when there is
     * none or the previous one was rejected (RequestPending otherwise); a final request takes no
     * more answers (RequestFinal).
     */
    function _answerable(uint256 requestId) private view returns (Request storage r) {
        r = requests[requestId];
        if (r.modelId == bytes32(0)) revert UnknownRequest();
        if (r.isFinal) revert RequestFinal();
        if (r.claimId != 0 && claims[r.claimId].status != ClaimStatus.Rejected) revert RequestPending();
    }

    // ---- games ----------------------------------------------------------------------------

    /**
     * @notice Challenge an open claim within its window, locking a bond equal to the claim's
     * (msg.value is deposited first): starts a game over boundaries [0, S], the submitter to move.
     * @dev Rules: ChallengeClosed after block claim + challengeBlocks; a submitter cannot challenge
     * its own claim (BadFormat). Boundary 0 is computed here from the model (or, for a chained
     * claim, the parent's final memory root) and the input commitment.
     */
    function challenge(uint256 claimId) external payable returns (uint256 gameId) {
        Claim storage c = _claim(claimId);
        if (c.status != ClaimStatus.Open) revert NotChallengeable();
        if (block.number > c.blockNumber + challengeBlocks) revert ChallengeClosed();
        if (msg.sender == c.submitter) revert BadFormat();
        _lockBond();
        Model storage m = models[c.modelId];
        bytes32 startMemory = c.parent == 0 ? m.initialMemoryRoot : claims[c.parent].finalMemoryRoot;
        gameId = ++gameCount;
        Game storage g = games[gameId];
        g.claimId = uint64(claimId);
        g.challenger = msg.sender;
        g.phase = m.segments == 1 ? Phase.Reveal : Phase.Ops;
        g.hi = m.segments;
        g.loHash = _boundary(m, startMemory, c.inputRoot, c.inputChunks, 0, 0, 0);
        g.hiHash = c.finalBoundary;
        g.deadline = uint64(block.number + moveBlocks);
        c.openGames += 1;
        emit Challenged(gameId, claimId, msg.sender, g.deadline);
    }

    /**
     * @notice Submitter: the hashes at the interior split points lo + floor(j (hi - lo) / m),
     * j = 1..m-1, m = min(degree, hi - lo). Only their keccak is stored; they are in the event.
     * @dev Rule: exactly m - 1 hashes (BadFormat).
     */
    function bisect(uint256 gameId, bytes32[] calldata hashes) external {
        (Game storage g,, bool cancelled) = _move(gameId, Move.Bisect);
        if (cancelled) return;
        if (hashes.length + 1 != _parts(g)) revert BadFormat();
        g.postedHash = keccak256(abi.encodePacked(hashes));
        g.challengerTurn = true;
        _nextDeadline(g);
        emit Bisected(gameId, g.lo, g.hi, hashes);
    }

    /**
     * @notice Challenger: keep sub-interval `index` (its start agreed, its end disputed), resending
     * the hashes the submitter posted.
     * @dev Rules: 0 <= index < m (BadFormat); `posted` must be the posted hashes (HashMismatch).
     */
    function choose(uint256 gameId, uint256 index, bytes32[] calldata posted) external {
        (Game storage g,, bool cancelled) = _move(gameId, Move.Choose);
        if (cancelled) return;
        uint256 parts = _parts(g);
        if (index >= parts) revert BadFormat();
        if (posted.length + 1 != parts || keccak256(abi.encodePacked(posted)) != g.postedHash) revert HashMismatch();
        uint256 lo = g.lo;
        uint256 length = g.hi - lo;
        if (index > 0) g.loHash = posted[index - 1];
        if (index + 1 < parts) g.hiHash = posted[index];
        g.lo = uint64(lo + (index * length) / parts);
        g.hi = uint64(lo + ((index + 1) * length) / parts);
        g.postedHash = 0;
        g.challengerTurn = false;
        if (g.hi - g.lo == 1) g.phase = g.phase == Phase.Ops ? Phase.Reveal : Phase.Prove;
        _nextDeadline(g);
        emit Chosen(gameId, index, g.lo, g.hi);
    }

    /**
     * @notice Submitter, at boundaries [k, k + 1]: open boundary k (10 words) and the state that
     * ends segment k (18 words), then phase 2 bisects steps [0, N] of segment k.
     * @dev Rules, in order: every count field below 2^64 (BadFormat); both of segment k
     * (BadFormat); boundaryHash(boundary) == loHash (HashMismatch); the final state halted or
     * trapped (BadFormat) with step N >= 1 (BadFormat); it connects to hiHash: boundaryHash of the
     * boundary after it when halted, its trapped-run hash when trapped (HashMismatch).
     */
    function reveal(uint256 gameId, bytes32[10] calldata boundary, bytes32[18] calldata finalState) external {
        (Game storage g,, bool cancelled) = _move(gameId, Move.Reveal);
        if (cancelled) return;
        bytes32[10] memory b = boundary;
        bytes32[18] memory f = finalState;
        _checkWords(b, BOUNDARY_COUNTS);
        _checkWords(f, STATE_COUNTS);
        uint256 k = g.lo;
        if (uint256(b[B_SEGMENT]) != k || uint256(f[S_SEGMENT]) != k) revert BadFormat();
        if (_hashBoundary(b) != g.loHash) revert HashMismatch();
        uint256 status = uint256(f[S_STATUS]);
        if (status != HALTED && !_isTrap(status)) revert BadFormat();
        if (uint256(f[S_STEP]) < 1) revert BadFormat();
        bytes32 next = status == HALTED ? _hashBoundary(_boundaryAfter(f)) : _trappedRunHash(f);
        if (next != g.hiHash) revert HashMismatch();
        g.segment = uint64(k);
        g.lo = 0;
        g.hi = uint64(uint256(f[S_STEP]));
        g.loHash = _hashState(_segmentStart(b));
        g.hiHash = _hashState(f);
        g.phase = g.hi == 1 ? Phase.Prove : Phase.Steps;
        _nextDeadline(g);
        emit Revealed(gameId, boundary, finalState);
    }

    /**
     * @notice Submitter, in place of a reveal: both ends of the disputed interval are the
     * trapped-run hash of `state`, and a trapped run stays trapped, so the submitter wins.
     * @dev Rules: a trap status (BadFormat); loHash == hiHash == its trapped-run hash (HashMismatch).
     */
    function trapped(uint256 gameId, bytes32[18] calldata state) external {
        (Game storage g, Claim storage c, bool cancelled) = _move(gameId, Move.Trapped);
        if (cancelled) return;
        bytes32[18] memory s = state;
        _checkWords(s, STATE_COUNTS);
        if (!_isTrap(uint256(s[S_STATUS]))) revert BadFormat();
        bytes32 h = _trappedRunHash(s);
        if (h != g.loHash || h != g.hiHash) revert HashMismatch();
        emit TrappedOpened(gameId, state);
        _end(gameId, g, c, true);
    }

    /**
     * @notice Submitter, at one step: the verifier's post-state from the agreed loHash decides.
     * Equal to hiHash, the submitter wins; otherwise the challenger does.
     * @dev Rule: a verifier that reverts (or answers anything but one word) is InvalidProof.
     */
    function prove(uint256 gameId, bytes calldata proof) external {
        (Game storage g, Claim storage c, bool cancelled) = _move(gameId, Move.Prove);
        if (cancelled) return;
        (bool ok, bytes memory ret) = verifier.staticcall(abi.encodeCall(IStepVerifier.verify, (g.loHash, proof)));
        if (!ok || ret.length != 32) revert InvalidProof();
        bytes32 post = abi.decode(ret, (bytes32));
        emit Proved(gameId, post);
        _end(gameId, g, c, post == g.hiHash);
    }

    /**
     * @notice After the deadline of the party to move (block.number > deadline) anyone may end the
     * game: that party loses. A game over a claim rejected in another game ends here with its
     * bond refunded instead.
     * @dev Rules: GameOver after the end; NotTimedOut up to the deadline.
     */
    function timeout(uint256 gameId) external {
        (Game storage g, Claim storage c) = _game(gameId);
        if (_cancelIfClaimRejected(gameId, g, c)) return;
        if (g.phase == Phase.Over) revert GameOver();
        if (block.number <= g.deadline) revert NotTimedOut();
        _end(gameId, g, c, g.challengerTurn);
    }

    /**
     * @notice End a game whose claim was rejected in another game, refunding its challenger's bond.
     * Games are never ended in a loop: each is settled when anyone touches it (here, or any move or
     * timeout on it).
     * @dev Rules: GameOver after the end; StillOpen while its claim is not rejected.
     */
    function settle(uint256 gameId) external {
        (Game storage g, Claim storage c) = _game(gameId);
        if (_cancelIfClaimRejected(gameId, g, c)) return;
        if (g.phase == Phase.Over) revert GameOver();
        revert StillOpen();
    }

    /**
     * @dev The checks every move starts with, in the specification's order: the game exists
     * (UnknownGame); GameOver; NotYourTurn; DeadlinePassed (block.number > deadline); WrongMove
     * (not the move the phase expects). Before GameOver, a game over a claim rejected in another
     * game is settled (its bond refunded) and `cancelled` tells the move to return without effect:
     * the transaction succeeds, so the refund stays (the specification ends such games at once).
     */
    function _move(uint256 gameId, Move kind) private returns (Game storage g, Claim storage c, bool cancelled) {
        (g, c) = _game(gameId);
        if (_cancelIfClaimRejected(gameId, g, c)) return (g, c, true);
        if (g.phase == Phase.Over) revert GameOver();
        if (msg.sender != (g.challengerTurn ? g.challenger : c.submitter)) revert NotYourTurn();
        if (block.number > g.deadline) revert DeadlinePassed();
        Move wanted = _expectedMove(g);
        if (kind != wanted && !(wanted == Move.Reveal && kind == Move.Trapped)) revert WrongMove();
    }

    /** @dev Every accepted move gives the next party moveBlocks blocks. */
    function _nextDeadline(Game storage g) private {
        g.deadline = uint64(block.number + moveBlocks);
    }
}
