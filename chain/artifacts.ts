/**
 * The compiled contracts: `loadArtifacts()` reads contracts/build/artifacts.json (written by
 * scripts/build-contracts.mjs during `npm run build`, shipped in the published package) and
 * `getArtifact(name)` returns one contract's ABI, creation bytecode and runtime bytecode. The
 * file is found relative to this module, which runs both from source (chain/artifacts.ts:
 * ../contracts) and compiled (dist/chain/artifacts.js: ../../contracts);
 * a missing file is an error that says to run `npm run build`. The file is read once per process.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

type Hex = `0x${string}`;

/** One compiled contract, as scripts/build-contracts.mjs writes it. */
export interface Artifact {
  /** The Solidity file it comes from, e.g. "contracts/Referee.sol". */
  source?: string;
  abi: readonly unknown[];
  /** Creation bytecode (constructor arguments are appended to it). */
  bytecode: Hex;
  /** Runtime bytecode, with zeros where immutables go. */
  deployedBytecode: Hex;
  runtimeBytes: number;
  /** keccak256 of the runtime bytecode. */
  runtimeHash: Hex;
}

export interface Artifacts {
  compiler: string;
  settings: { evmVersion: string; optimizer: { enabled: boolean; runs: number }; viaIR: boolean };
  contracts: Record<string, Artifact>;
}

const here = dirname(fileURLToPath(import.meta.url));
/** From source the module sits in chain/, compiled in dist/chain/. */
const CANDIDATES = [join(here, "..", "contracts", "build", "artifacts.json"), join(here, "..", "..", "contracts", "build", "artifacts.json")];

let cached: Artifacts | undefined;

export function artifactsPath(): string | undefined {
  return CANDIDATES.find((p) => existsSync(p));
}

export function loadArtifacts(): Artifacts {
  if (cached !== undefined) return cached;
  const path = artifactsPath();
  if (path === undefined) throw new Error(`no compiled contracts (contracts/build/artifacts.json): run npm run build`);
  cached = JSON.parse(readFileSync(path, "utf8")) as Artifacts;
  return cached;
}

export function getArtifact(name: string): Artifact {
  const { contracts } = loadArtifacts();
  const artifact = contracts[name];
  if (artifact === undefined) throw new Error(`no contract ${name} in contracts/build/artifacts.json (has: ${Object.keys(contracts).join(", ")}); run npm run build`);
  return artifact;
}
