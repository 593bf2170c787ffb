// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/**
 * @title What the Referee keeps, and the commitments it computes
 * @notice The state of contracts/Referee.sol (parameters, deposits, models, claims, games,
 * requests), its custom errors (named after the rejection codes of dispute/referee.ts), its events
 * (enough for a watcher to follow and resume every claim and game from logs alone), the funds
 * (deposits credited to balances, bonds locked into `escrow`, pulled withdrawals) and the hashes of
 * docs/vm-state.md: model id, boundary, state, trapped-run hash, input tree and output accumulator.
 * Invariant: the sum of all balances plus `escrow` equals the contract's ether balance.
 */
abstract contract RefereeBase {
    // ---- errors (dispute/referee.ts RejectCode, plus requests and withdrawals) --------------
    error UnknownModel();
    error UnknownClaim();
    error BadClaim();
    error InsufficientFunds();
    error ChallengeClosed();
    error NotChallengeable();
    error GameOver();
    error NotYourTurn();
    error WrongMove();
    error DeadlinePassed();
    error BadFormat();
    error HashMismatch();
    error InvalidProof();
    error NotTimedOut();
    error StillOpen();
    error UnknownGame();
    error RequestPending();
    error RequestFinal();
    error UnknownRequest();
    error TransferFailed();

    // ---- events ---------------------------------------------------------------------------
    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event ModelRegistered(
        bytes32 indexed modelId, bytes32 codeRoot, uint256 codeSize, uint256 memoryBytes, bytes32 initialMemoryRoot, uint256 segments, uint256 stepBudget
    );
    /// `input` is empty for an answer to a request: its bytes are in the request's event.
    event ClaimSubmitted(
        uint256 indexed claimId, address indexed submitter, bytes32 indexed modelId, uint256 parent, uint256 requestId,
        bytes input, bytes output, bytes32 finalMemoryRoot, bytes32 finalBoundary
    );
    event TrapClaimSubmitted(
        uint256 indexed claimId, address indexed submitter, bytes32 indexed modelId, uint256 parent, uint256 requestId, bytes input, bytes32[18] trappedState
    );
    event ClaimFinalized(uint256 indexed claimId, bool accepted);
    event Requested(uint256 indexed requestId, address indexed requester, bytes32 indexed modelId, uint256 fee, bytes input);
    event Challenged(uint256 indexed gameId, uint256 indexed claimId, address indexed challenger, uint256 deadline);
    event Bisected(uint256 indexed gameId, uint256 lo, uint256 hi, bytes32[] hashes);
    event Chosen(uint256 indexed gameId, uint256 index, uint256 lo, uint256 hi);
    event Revealed(uint256 indexed gameId, bytes32[10] boundary, bytes32[18] finalState);
    event TrappedOpened(uint256 indexed gameId, bytes32[18] state);
    event Proved(uint256 indexed gameId, bytes32 postStateHash);
    event GameEnded(uint256 indexed gameId, Winner winner);

    // ---- state ----------------------------------------------------------------------------
    enum ClaimStatus { None, Open, Accepted, Rejected }
    enum Phase { None, Ops, Reveal, Steps, Prove, Over }
    /// Cancelled: the claim was rejected in another game, the bond refunded.
    enum Winner { None, Submitter, Challenger, Cancelled }
    enum Move { Bisect, Choose, Reveal, Trapped, Prove }

    struct Model {
        bytes32 codeRoot;
        bytes32 initialMemoryRoot;
        uint64 codeSize;
        uint64 memoryBytes;
        uint64 segments;
        uint64 stepBudget;
    }

    struct Claim {
        bytes32 modelId;
        bytes32 inputRoot;
        bytes32 outputAcc;
        bytes32 finalMemoryRoot;
        bytes32 finalBoundary;
        address submitter;
        uint64 blockNumber;
        ClaimStatus status;
        bool trap;
        uint64 inputChunks;
        uint64 outputChunks;
        uint64 parent;
        uint64 requestId;
        uint256 openGames;
        bytes output;
    }

    struct Game {
        uint64 claimId;
        address challenger;
        Phase phase;
        bool challengerTurn;
        Winner winner;
        /// The disputed interval: boundary indices (Ops, Reveal) or steps of `segment` (Steps, Prove).
        uint64 lo;
        uint64 hi;
        uint64 segment;
        uint64 deadline;
        bytes32 loHash;
        bytes32 hiHash;
        /// keccak of the hashes of the last bisect, zero when none awaits a choice.
        bytes32 postedHash;
    }

    struct Request {
        bytes32 modelId;
        bytes32 inputRoot;
        address requester;
        uint64 inputChunks;
        bool isFinal;
        uint256 fee;
        /// The current answer (0: none yet).
        uint256 claimId;
    }

    /// Longest input or output, in 32-byte chunks: it bounds every loop over them (2 MiB).
    uint256 public constant MAX_IO_CHUNKS = 1 << 16;
    uint256 internal constant HALTED = 1;
    uint256 internal constant LAST_TRAP = 9;
    // Word positions in a state (18 words) and a boundary (10 words), docs/vm-state.md sections 4-5.
    uint256 internal constant S_SEGMENT = 9;
    uint256 internal constant S_STEP = 10;
    uint256 internal constant S_STATUS = 11;
    uint256 internal constant B_SEGMENT = 9;
    uint256 internal constant DATA_WORDS = 9;
    // Which words are counts (must be below 2^64): state words 1,3,4,6,8,9,10,11,12,14,17; boundary 1,3,4,6,8,9.
    uint256 internal constant STATE_COUNTS = (1 << 1) | (1 << 3) | (1 << 4) | (1 << 6) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12)
        | (1 << 14) | (1 << 17);
    uint256 internal constant BOUNDARY_COUNTS = (1 << 1) | (1 << 3) | (1 << 4) | (1 << 6) | (1 << 8) | (1 << 9);

    address public immutable verifier;
    uint256 public immutable bond;
    uint256 public immutable challengeBlocks;
    uint256 public immutable moveBlocks;
    uint256 public immutable degree;
    /// H("detml.vm.local:", ZERO): the locals root of a segment's start state.
    bytes32 internal immutable EMPTY_LOCALS_ROOT;

    mapping(address => uint256) public balances;
    /// Bonds of open claims and games, and fees of requests not yet paid.
    uint256 public escrow;
    mapping(bytes32 => Model) public models;
    mapping(uint256 => Claim) public claims;
    mapping(uint256 => Game) public games;
    mapping(uint256 => Request) public requests;
    uint256 public claimCount;
    uint256 public gameCount;
    uint256 public requestCount;

    /// @dev Rule: degree in 2..16, positive bond and block counts (BadFormat).
    constructor(address verifier_, uint256 bond_, uint256 challengeBlocks_, uint256 moveBlocks_, uint256 degree_) {
        if (degree_ < 2 || degree_ > 16 || bond_ == 0 || challengeBlocks_ == 0 || moveBlocks_ == 0) revert BadFormat();
        verifier = verifier_;
        bond = bond_;
        challengeBlocks = challengeBlocks_;
        moveBlocks = moveBlocks_;
        degree = degree_;
        EMPTY_LOCALS_ROOT = keccak256(abi.encodePacked("detml.vm.local:", bytes32(0)));
    }

    // ---- funds ----------------------------------------------------------------------------

    /// @notice Credit msg.value (positive, else BadFormat) to the sender's balance.
    function deposit() external payable {
        if (msg.value == 0) revert BadFormat();
        _deposit();
    }

    /// @notice Pull `amount` of the sender's balance (InsufficientFunds beyond it).
    function withdraw(uint256 amount) external {
        if (balances[msg.sender] < amount) revert InsufficientFunds();
        balances[msg.sender] -= amount;
        emit Withdrawn(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed();
    }

    function _deposit() internal {
        if (msg.value == 0) return;
        balances[msg.sender] += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @dev Rule: submit, answer and challenge lock `bond` from the sender's balance after
    /// depositing msg.value (InsufficientFunds when short). Checked after every other rule.
    function _lockBond() internal {
        _deposit();
        if (balances[msg.sender] < bond) revert InsufficientFunds();
        balances[msg.sender] -= bond;
        escrow += bond;
    }

    function _release(address to, uint256 amount) internal {
        escrow -= amount;
        balances[to] += amount;
    }

    // ---- models ---------------------------------------------------------------------------

    /**
     * @notice Register a compiled model by its constants; returns its id, computed here as
     * H("detml.vm.module:", codeRoot, codeSize, memoryBytes, initialMemoryRoot, segments, stepBudget)
     * (vm-state.md section 5). Registering twice is harmless (same id, same record).
     * @dev Rule: counts below 2^64, at least one instruction, segment and step, whole memory
     * leaves (BadFormat).
     */
    function registerModel(bytes32 codeRoot, uint256 codeSize, uint256 memoryBytes, bytes32 initialMemoryRoot, uint256 segments, uint256 stepBudget)
        external
        returns (bytes32 modelId)
    {
        if ((codeSize | memoryBytes | segments | stepBudget) > type(uint64).max) revert BadFormat();
        if (codeSize == 0 || segments == 0 || stepBudget == 0 || memoryBytes % 32 != 0) revert BadFormat();
        modelId = keccak256(abi.encodePacked("detml.vm.module:", codeRoot, codeSize, memoryBytes, initialMemoryRoot, segments, stepBudget));
        models[modelId] = Model(codeRoot, initialMemoryRoot, uint64(codeSize), uint64(memoryBytes), uint64(segments), uint64(stepBudget));
        emit ModelRegistered(modelId, codeRoot, codeSize, memoryBytes, initialMemoryRoot, segments, stepBudget);
    }

    function _model(bytes32 modelId) internal view returns (Model storage m) {
        m = models[modelId];
        if (m.segments == 0) revert UnknownModel();
    }

    // ---- claims ---------------------------------------------------------------------------

    /// @dev Claim ids start at 1 (0 means "none" for a parent or a request's answer).
    function _claim(uint256 claimId) internal view returns (Claim storage c) {
        c = claims[claimId];
        if (c.status == ClaimStatus.None) revert UnknownClaim();
    }

    /**
     * @dev Rule: `parent` is 0 or an earlier claim (UnknownClaim) of the same model that is not a
     * trap claim and not rejected (BadClaim).
     */
    function _checkParent(bytes32 modelId, uint256 parent) internal view {
        if (parent == 0) return;
        Claim storage p = _claim(parent);
        if (p.modelId != modelId || p.trap || p.status == ClaimStatus.Rejected) revert BadClaim();
    }

    /**
     * @dev Rules of a trap claim (protocol.md section 1, BadClaim): the state has a trap status
     * and a segment of the model; the model's code root, code size, memory size and step budget;
     * the claim's input root and chunk count. Its output and final memory are zero and its final
     * boundary the trapped-run hash by construction (the contract sets them).
     */
    function _checkTrap(Model storage m, bytes32 inputRoot, uint256 inputChunks, bytes32[18] calldata s) internal view {
        // State words: 0 codeRoot, 1 codeSize, 3 memoryBytes, 4 stepBudget, 5 inputRoot, 6 inputChunks.
        if (!_isTrap(uint256(s[S_STATUS])) || uint256(s[S_SEGMENT]) >= m.segments) revert BadClaim();
        if (s[0] != m.codeRoot || uint256(s[1]) != m.codeSize || uint256(s[3]) != m.memoryBytes || uint256(s[4]) != m.stepBudget) revert BadClaim();
        if (s[5] != inputRoot || uint256(s[6]) != inputChunks) revert BadClaim();
    }

    function _openClaim(
        bytes32 modelId, bytes32 inputRoot, uint256 inputChunks, bytes32 outputAcc, uint256 outputChunks, bytes32 finalMemoryRoot,
        bytes32 finalBoundary, uint256 parent, uint256 requestId
    ) internal returns (uint256 claimId) {
        _lockBond();
        claimId = ++claimCount;
        Claim storage c = claims[claimId];
        c.modelId = modelId;
        c.inputRoot = inputRoot;
        c.outputAcc = outputAcc;
        c.finalMemoryRoot = finalMemoryRoot;
        c.finalBoundary = finalBoundary;
        c.submitter = msg.sender;
        c.blockNumber = uint64(block.number);
        c.status = ClaimStatus.Open;
        c.inputChunks = uint64(inputChunks);
        c.outputChunks = uint64(outputChunks);
        c.parent = uint64(parent);
        c.requestId = uint64(requestId);
    }

    // ---- games ----------------------------------------------------------------------------

    /// @dev Game ids start at 1.
    function _game(uint256 gameId) internal view returns (Game storage g, Claim storage c) {
        g = games[gameId];
        if (g.phase == Phase.None) revert UnknownGame();
        c = claims[g.claimId];
    }

    /// @dev m = min(degree, hi - lo): the sub-intervals of a bisection round.
    function _parts(Game storage g) internal view returns (uint256) {
        uint256 length = g.hi - g.lo;
        return length < degree ? length : degree;
    }

    function _expectedMove(Game storage g) internal view returns (Move) {
        if (g.phase == Phase.Reveal) return Move.Reveal;
        if (g.phase == Phase.Prove) return Move.Prove;
        return g.postedHash == 0 ? Move.Bisect : Move.Choose;
    }

    /**
     * @dev End a game. A challenger who loses forfeits its bond to the submitter; the claim stays
     * open for its other games. A submitter who loses has its claim rejected: its bond and the
     * challenger's go to the challenger (the first challenger to win).
     */
    function _end(uint256 gameId, Game storage g, Claim storage c, bool submitterWins) internal {
        g.phase = Phase.Over;
        c.openGames -= 1;
        if (submitterWins) {
            g.winner = Winner.Submitter;
            _release(c.submitter, bond);
        } else {
            g.winner = Winner.Challenger;
            c.status = ClaimStatus.Rejected;
            _release(g.challenger, 2 * bond);
            emit ClaimFinalized(g.claimId, false);
        }
        emit GameEnded(gameId, g.winner);
    }

    /**
     * @dev Games still running over a claim rejected in another game end with their bonds
     * refunded, one at a time, when anything touches them (never in a loop).
     */
    function _cancelIfClaimRejected(uint256 gameId, Game storage g, Claim storage c) internal returns (bool) {
        if (g.phase == Phase.Over || c.status != ClaimStatus.Rejected) return false;
        g.phase = Phase.Over;
        g.winner = Winner.Cancelled;
        c.openGames -= 1;
        _release(g.challenger, bond);
        emit GameEnded(gameId, Winner.Cancelled);
        return true;
    }

    // ---- commitments (docs/vm-state.md) ----------------------------------------------------

    /**
     * @notice The input commitment of `input`: its 32-byte chunks (the last zero-padded) as leaves
     * H("detml.io.input-leaf:", chunk), zero leaves up to a power of two, nodes
     * H("detml.io.input-node:", left, right); an empty input is one zero leaf with 0 chunks.
     * @dev Rule: at most MAX_IO_CHUNKS chunks (BadFormat).
     */
    function inputCommitment(bytes calldata input) public pure returns (bytes32 root, uint256 chunks) {
        chunks = (input.length + 31) / 32;
        if (chunks > MAX_IO_CHUNKS) revert BadFormat();
        uint256 n = chunks == 0 ? 1 : chunks;
        bytes32[] memory level = new bytes32[](n);
        // One scratch buffer for every hash (prefix + up to two words): a fresh abi.encodePacked per
        // hash would grow memory with the input, and memory costs grow quadratically.
        bytes memory buf = new bytes(84);
        bytes20 leafPrefix = "detml.io.input-leaf:";
        bytes20 nodePrefix = "detml.io.input-node:";
        assembly ("memory-safe") {
            let scratch := add(buf, 32)
            let slots := add(level, 32)
            mstore(scratch, leafPrefix)
            mstore(add(scratch, 20), 0)
            let zero := keccak256(scratch, 52) // the zero leaf: an empty input's root, and the padding
            mstore(slots, zero)
            let length := input.length
            for { let i := 0 } lt(i, chunks) { i := add(i, 1) } {
                let at := mul(i, 32)
                let size := sub(length, at)
                if gt(size, 32) { size := 32 }
                mstore(add(scratch, 20), 0) // the last chunk is zero-padded
                calldatacopy(add(scratch, 20), add(input.offset, at), size)
                mstore(add(slots, at), keccak256(scratch, 52))
            }
            // Fold level by level; a missing right child is the zero subtree of that level, which is
            // what padding to a power of two with zero leaves gives.
            mstore(scratch, nodePrefix)
            for {} gt(n, 1) {} {
                let half := shr(1, add(n, 1))
                for { let j := 0 } lt(j, half) { j := add(j, 1) } {
                    let left := add(slots, mul(j, 64))
                    mstore(add(scratch, 20), mload(left))
                    switch lt(add(mul(j, 2), 1), n)
                    case 1 { mstore(add(scratch, 52), mload(add(left, 32))) }
                    default { mstore(add(scratch, 52), zero) }
                    mstore(add(slots, mul(j, 32)), keccak256(scratch, 84))
                }
                mstore(add(scratch, 20), zero)
                mstore(add(scratch, 52), zero)
                zero := keccak256(scratch, 84)
                n := half
            }
            root := mload(slots)
        }
    }

    /**
     * @notice The output commitment of `output`: acc = H("detml.io.output:", acc, chunk) over its
     * chunks from ZERO, and the chunk count.
     * @dev Rule: whole 32-byte chunks, at most MAX_IO_CHUNKS (BadFormat).
     */
    function outputCommitment(bytes calldata output) public pure returns (bytes32 acc, uint256 chunks) {
        chunks = output.length / 32;
        if (output.length % 32 != 0 || chunks > MAX_IO_CHUNKS) revert BadFormat();
        bytes memory buf = new bytes(80);
        bytes16 prefix = "detml.io.output:";
        assembly ("memory-safe") {
            let scratch := add(buf, 32)
            mstore(scratch, prefix)
            for { let i := 0 } lt(i, chunks) { i := add(i, 1) } {
                mstore(add(scratch, 16), acc)
                calldatacopy(add(scratch, 48), add(output.offset, mul(i, 32)), 32)
                acc := keccak256(scratch, 80)
            }
        }
    }

    /// Boundary k of a run of model m with the given memory, input and output commitments.
    function _boundary(Model storage m, bytes32 memoryRoot, bytes32 inputRoot, uint256 inputChunks, bytes32 outputAcc, uint256 outputChunks, uint256 k)
        internal
        view
        returns (bytes32)
    {
        return keccak256(
            abi.encodePacked(
                "detml.vm.boundary:", m.codeRoot, uint256(m.codeSize), memoryRoot, uint256(m.memoryBytes), uint256(m.stepBudget), inputRoot, inputChunks,
                outputAcc, outputChunks, k
            )
        );
    }

    function _hashBoundary(bytes32[10] memory b) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("detml.vm.boundary:", b));
    }

    function _hashState(bytes32[18] memory s) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("detml.vm.state:", s));
    }

    function _trappedRunHash(bytes32[18] memory s) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("detml.vm.trapped:", _hashState(s)));
    }

    /// The canonical start state of segment k from boundary k: its data words, pc 2k, all else empty.
    function _segmentStart(bytes32[10] memory b) internal view returns (bytes32[18] memory s) {
        for (uint256 i = 0; i < DATA_WORDS; i++) s[i] = b[i];
        s[S_SEGMENT] = b[B_SEGMENT];
        s[12] = bytes32(2 * uint256(b[B_SEGMENT]));
        s[15] = EMPTY_LOCALS_ROOT;
    }

    /// The boundary after a segment that halted in state s: its data words and segment + 1.
    function _boundaryAfter(bytes32[18] memory s) internal pure returns (bytes32[10] memory b) {
        for (uint256 i = 0; i < DATA_WORDS; i++) b[i] = s[i];
        b[B_SEGMENT] = bytes32(uint256(s[S_SEGMENT]) + 1);
    }

    function _isTrap(uint256 status) internal pure returns (bool) {
        return status > HALTED && status <= LAST_TRAP;
    }

    /// @dev Rule: every count word of a revealed state or boundary is below 2^64 (BadFormat).
    function _checkWords(bytes32[18] memory s, uint256 countMask) internal pure {
        for (uint256 i = 0; i < 18; i++) {
            if ((countMask >> i) & 1 == 1 && uint256(s[i]) > type(uint64).max) revert BadFormat();
        }
    }

    function _checkWords(bytes32[10] memory b, uint256 countMask) internal pure {
        for (uint256 i = 0; i < 10; i++) {
            if ((countMask >> i) & 1 == 1 && uint256(b[i]) > type(uint64).max) revert BadFormat();
        }
    }
}
