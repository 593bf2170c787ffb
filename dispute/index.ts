/**
 * The dispute game (docs/protocol.md): claims and their commitments, the referee (the executable
 * specification of the on-chain contract), the views and agents that play it, and `runDispute`,
 * which plays a whole game in-process. Depends only on vm/.
 */
export { ZERO, sameHash, sameClaim, modelId, modelRecordOf, initialBoundary, claimedFinalBoundary, claimFromBoundary, trapClaim, type Claim, type ModelRecord } from "./claim.js";
export {
  Referee, RefereeError, DEFAULT_PARAMS, splitPoints, type Address, type Role, type Phase, type Move, type Game, type ClaimRecord,
  type RefereeParams, type RejectCode,
} from "./referee.js";
export { HonestView, LyingView, haltedProof, altered, type View, type LieKind } from "./view.js";
export { Agent, isDishonestStrategy, type Strategy } from "./agent.js";
export { runDispute, parseCheat, cheater, seeded, type Cheat, type DisputeOptions, type DisputeResult, type MoveRecord } from "./game.js";
export { ClaimChain, disputeChainedRun, type ChainedRun, type ChainedDisputeResult } from "./chained.js";
