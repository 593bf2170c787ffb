/**
 * Where the on-chain commands find the Referee. `detml chain` writes a deployment file
 * (`detml-chain.json` by default: chain id, RPC URL, Referee and StepVerifier addresses, the block
 * the system was deployed in and the Referee's parameters) and the other commands read it when
 * `--referee` is not given. `openReferee` turns the common options (`--chain`, `--referee`,
 * `--deployment`, `--confirmations`, env DETML_REFEREE) into a connection and an attached
 * `RefereeClient`, with one-line errors for what can go wrong: no deployment and no --referee, a
 * malformed file or address, `--chain local` (the embedded chain lives inside one process, so a
 * second command can never see it), or a deployment file written for another chain. `--chain
 * anvil` names the node `detml chain` started (the file's url), never a new, empty one. Logs are
 * scanned from the deployment block when the Referee is the file's, from block 0 otherwise.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { Address } from "viem";
import { connectChain, type ChainConnection, type ConnectOptions } from "./connect.js";
import { RefereeClient, type ChainRefereeParams } from "./referee-client.js";

export const DEFAULT_DEPLOYMENT_FILE = "detml-chain.json";

export interface DeploymentRecord {
  chainId: number;
  url: string;
  referee: Address;
  verifier: Address;
  deployBlock: number;
  /** The Referee's constructor parameters; the bond in wei, as a decimal string (JSON has no bigint). */
  params: { bond: string; challengeBlocks: number; moveBlocks: number; degree: number };
}

export function deploymentRecord(chainId: number, url: string, referee: Address, verifier: Address, deployBlock: bigint, params: ChainRefereeParams): DeploymentRecord {
  return {
    chainId, url, referee, verifier, deployBlock: Number(deployBlock),
    params: { bond: params.bond.toString(), challengeBlocks: params.challengeBlocks, moveBlocks: params.moveBlocks, degree: params.degree },
  };
}

/** An amount of ETH as decimal text ("1", "0.5") in wei; a one-line error for anything else. */
export async function parseEth(text: string, flag: string): Promise<bigint> {
  const { parseEther } = await import("viem");
  let wei = 0n;
  try {
    wei = parseEther(text);
  } catch {
    // parseEther rejects what is not a decimal number: reported below as not an amount.
  }
  if (wei <= 0n) throw new Error(`${flag} ${text} is not a positive amount of ETH`);
  return wei;
}

export async function formatEth(wei: bigint): Promise<string> {
  return (await import("viem")).formatEther(wei);
}

export function writeDeployment(path: string, record: DeploymentRecord): void {
  writeFileSync(path, `${JSON.stringify(record, null, 2)}\n`);
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** The deployment file at `path`, or undefined when there is none. */
export function readDeployment(path: string): DeploymentRecord | undefined {
  if (!existsSync(path)) return undefined;
  let parsed: Partial<DeploymentRecord>;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8")) as Partial<DeploymentRecord>;
  } catch (e) {
    throw new Error(`${path} is not a detml deployment file: ${(e as Error).message}`);
  }
  const ok = typeof parsed.chainId === "number" && typeof parsed.url === "string" && typeof parsed.deployBlock === "number"
    && ADDRESS.test(String(parsed.referee)) && ADDRESS.test(String(parsed.verifier));
  if (!ok) throw new Error(`${path} is not a detml deployment file (expected chainId, url, referee, verifier, deployBlock): run detml chain to write one`);
  return parsed as DeploymentRecord;
}

export interface TargetOptions {
  /** --chain: a URL, or "anvil" for the node of the deployment file (the default). */
  chain?: string;
  /** --referee (default: env DETML_REFEREE, then the deployment file's referee). */
  referee?: string;
  /** --deployment (default ./detml-chain.json). */
  deployment?: string;
  /** --confirmations (default 0 on dev chains, 2 elsewhere). */
  confirmations?: number;
  env?: Readonly<Record<string, string | undefined>>;
  connect?: ConnectOptions;
}

export interface Target {
  conn: ChainConnection;
  client: RefereeClient;
  /** Blocks a log must be under the head before it is acted on. */
  confirmations: number;
  /** The deployment file used, if any. */
  deployment?: DeploymentRecord;
}

/** Connect to the chain and attach the Referee named by the common options (see the overview). */
export async function openReferee(opts: TargetOptions): Promise<Target> {
  const env = opts.env ?? process.env;
  if (opts.chain === "local") {
    throw new Error("--chain local is an in-process chain that no other command can reach: use detml dispute --chain local for a self-contained game, or run detml chain and point the other commands at it");
  }
  const path = opts.deployment ?? DEFAULT_DEPLOYMENT_FILE;
  const deployment = readDeployment(path);
  if (opts.deployment !== undefined && deployment === undefined) throw new Error(`no deployment file ${opts.deployment}: run detml chain --out ${opts.deployment}, or pass --referee 0x...`);
  const referee = opts.referee ?? (env.DETML_REFEREE?.trim() || undefined) ?? deployment?.referee;
  if (referee === undefined) throw new Error(`no Referee: run detml chain (it writes ${path}) or pass --referee 0x...`);
  // "anvil" names the node detml chain started (a fresh one would hold no Referee).
  if (opts.chain === "anvil" && deployment === undefined) throw new Error(`--chain anvil means the anvil detml chain started, and there is no deployment file ${path}: run detml chain, or pass --chain URL`);
  const spec = opts.chain === undefined || opts.chain === "anvil" ? deployment?.url : opts.chain;
  if (spec === undefined) throw new Error(`no chain: pass --chain URL (no deployment file ${path} to take it from)`);
  if (opts.confirmations !== undefined && !(Number.isInteger(opts.confirmations) && opts.confirmations >= 0)) {
    throw new Error(`--confirmations ${opts.confirmations} is not a block count`);
  }
  const conn = await connectChain(spec, { env, ...opts.connect });
  try {
    const fromDeployment = deployment !== undefined && deployment.referee.toLowerCase() === referee.toLowerCase();
    if (fromDeployment && deployment.chainId !== conn.chainId) {
      throw new Error(`${path} is for chain ${deployment.chainId}, but ${spec} is chain ${conn.chainId}: pass --deployment or --referee for this chain`);
    }
    const client = await RefereeClient.attach(conn, referee as Address, fromDeployment ? BigInt(deployment.deployBlock) : 0n);
    return { conn, client, confirmations: opts.confirmations ?? (conn.dev ? 0 : 2), deployment: fromDeployment ? deployment : undefined };
  } catch (e) {
    await conn.close();
    throw e;
  }
}
