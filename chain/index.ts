/**
 * The chain layer of detml, which every on-chain command uses. `connectChain("local" | "anvil" |
 * URL)` gives viem clients, role wallets (keys from DETML_PRIVATE_KEY / DETML_CHALLENGER_KEY,
 * else the dev accounts of a dev chain), `mine`, `snapshot` / `revert` and `close`
 * (connect.ts); `createEmbeddedChain` is the in-process Osaka dev chain behind "local"
 * (embedded.ts); `startAnvil` runs anvil (anvil.ts); `loadArtifacts` / `getArtifact` read the
 * compiled contracts (artifacts.ts) and `deployContract` deploys and checks one (deploy.ts).
 * Built on them: `RefereeClient` (the contracts from TypeScript), `playGame` and
 * `disputeOnChain` (dispute games played on chain). Nothing here imports viem or @ethereumjs
 * until a function is called (test/chain/lazy-imports.test.ts).
 */
export { connectChain, type ChainConnection, type ChainKind, type ChainSpec, type ConnectOptions, type WalletRole } from "./connect.js";
export { createEmbeddedChain, DEV_CHAIN_ID, DEV_PRIVATE_KEYS, JsonRpcError, TX_GAS_CAP, type EmbeddedChain, type Eip1193Provider } from "./embedded.js";
export { findAnvilBinary, startAnvil, type AnvilNode, type AnvilOptions } from "./anvil.js";
export { artifactsPath, getArtifact, loadArtifacts, type Artifact, type Artifacts } from "./artifacts.js";
export { deployContract, estimateCallGas, MAX_RUNTIME_BYTES, runtimeMatches, type DeployOptions, type Deployment } from "./deploy.js";
export { RefereeClient, ChainRejection, DEV_REFEREE_PARAMS, revertName, type ChainRefereeParams, type ChainClaim, type ChainGame, type SentTx } from "./referee-client.js";
export { playGame, expectedMove, type ChainMove, type PlayOptions, type PlayedGame } from "./onchain-game.js";
export { disputeOnChain, chainClaim, type ChainClaimData, type ChainDisputeOptions, type ChainDisputeResult, type ChainTx } from "./onchain-dispute.js";
