/**
 * Deploys one compiled contract: `deployContract(connection, name, args, options)` sends the
 * creation transaction from a wallet of the connection (default: the submitter), waits for the
 * receipt and checks what landed: the transaction succeeded, the runtime code is at most 24,576
 * bytes (EIP-170; also checked before sending) and it is the artifact's runtime code. Immutables
 * are written by the constructor into bytes the artifact leaves as zeros, so the rule is: same
 * length, and every nonzero byte of the artifact's deployedBytecode equal at the same offset
 * (`runtimeMatches`). The artifact is looked up by name in contracts/build/artifacts.json, or
 * given in `options.artifact` (e.g. a contract compiled by a test). Returns the address, the
 * transaction hash, the gas used and the runtime size. Deploying a whole protocol (verifier,
 * referee, wiring) is built on this by the CLI.
 */
import type { Abi, Address, Hex } from "viem";
import { getArtifact, type Artifact } from "./artifacts.js";
import type { ChainConnection, WalletRole } from "./connect.js";

/** EIP-170: the largest runtime code a contract may have. */
export const MAX_RUNTIME_BYTES = 24_576;

export interface DeployOptions {
  /** Who deploys (default "submitter"). */
  from?: WalletRole;
  /** The compiled contract, instead of looking `name` up in contracts/build/artifacts.json. */
  artifact?: Artifact;
  /** Gas limit of the creation transaction (default: estimated by the node). */
  gas?: bigint;
}

export interface Deployment {
  name: string;
  address: Address;
  txHash: Hex;
  blockNumber: bigint;
  gasUsed: bigint;
  runtimeBytes: number;
}

/** Whether deployed runtime code is the artifact's, immutables aside (see the overview). */
export function runtimeMatches(deployed: Hex, artifactRuntime: Hex): boolean {
  if (deployed.length !== artifactRuntime.length) return false;
  const a = deployed.toLowerCase();
  const b = artifactRuntime.toLowerCase();
  for (let i = 2; i < b.length; i += 2) {
    const expected = b.slice(i, i + 2);
    if (expected !== "00" && a.slice(i, i + 2) !== expected) return false;
  }
  return true;
}

export async function deployContract(
  connection: Pick<ChainConnection, "publicClient" | "wallet">,
  name: string,
  args: readonly unknown[] = [],
  options: DeployOptions = {},
): Promise<Deployment> {
  const artifact = options.artifact ?? getArtifact(name);
  const expectedBytes = (artifact.deployedBytecode.length - 2) / 2;
  if (expectedBytes > MAX_RUNTIME_BYTES) throw new Error(`${name}: runtime code is ${expectedBytes} bytes, over the ${MAX_RUNTIME_BYTES}-byte limit (EIP-170)`);
  const wallet = connection.wallet(options.from ?? "submitter");
  const txHash = await wallet.deployContract({
    abi: artifact.abi as Abi, bytecode: artifact.bytecode, args: args as unknown[], gas: options.gas,
  } as Parameters<typeof wallet.deployContract>[0]);
  const receipt = await connection.publicClient.waitForTransactionReceipt({ hash: txHash });
  if (receipt.status !== "success" || receipt.contractAddress == null) {
    throw new Error(`deploying ${name} failed: transaction ${txHash} reverted (gas used ${receipt.gasUsed})`);
  }
  const address = receipt.contractAddress;
  const code = await connection.publicClient.getCode({ address, blockNumber: receipt.blockNumber }) ?? "0x";
  const runtimeBytes = (code.length - 2) / 2;
  if (runtimeBytes > MAX_RUNTIME_BYTES) throw new Error(`${name} at ${address}: runtime code is ${runtimeBytes} bytes, over the ${MAX_RUNTIME_BYTES}-byte limit (EIP-170)`);
  if (!runtimeMatches(code, artifact.deployedBytecode)) {
    throw new Error(`${name} at ${address}: the deployed code (${runtimeBytes} bytes) is not the artifact's runtime code (${expectedBytes} bytes)`);
  }
  return { name, address, txHash, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed, runtimeBytes };
}

/** The node's gas estimate of calling `functionName` of contract `name` at `address` as a transaction. */
export async function estimateCallGas(
  connection: Pick<ChainConnection, "publicClient">, name: string, address: Address, functionName: string, args: readonly unknown[],
): Promise<bigint> {
  const { encodeFunctionData } = await import("viem");
  const data = encodeFunctionData({ abi: getArtifact(name).abi as Abi, functionName, args: args as unknown[] });
  return connection.publicClient.estimateGas({ to: address, data });
}
