/**
 * Running a model compiled for the EVM (compiler/evm, docs/evm.md) on a chain: `deployEvmModel`
 * deploys its data contracts, then the model contract with their addresses as constructor
 * arguments (chain/deploy.ts checks every runtime code landed); `inferEvm` calls
 * `infer(int32[])` with the flat input integers and returns the flat output integers, and with
 * `measureGas` also sends the call as a transaction to report the gas one inference costs
 * (receipt gasUsed: execution plus the 21,000 base and the calldata). Every transaction carries
 * an explicit gas limit of 2^24 (EIP-7825), so nothing depends on the node's gas estimation.
 * Flattening named tensors and splitting the outputs back is compiler/evm's (flattenInputs,
 * splitOutputs): this layer sees contracts and integers only.
 */
import { type Abi, type Address, encodeFunctionData, type Hex } from "viem";
import type { Artifact } from "./artifacts.js";
import type { ChainConnection } from "./connect.js";
import { deployContract } from "./deploy.js";
import { TX_GAS_CAP } from "./embedded.js";

/** The contracts of a compiled EVM model (compiler/evm's EvmModelArtifact has these fields). */
export interface EvmModelContracts {
  /** The model contract: constructor(address data0, ...), infer(int32[]) -> int32[]. */
  model: Artifact;
  /** The data contracts, in the order of the model's constructor arguments. */
  data: Artifact[];
}

export interface DeployedEvmModel {
  abi: Abi;
  address: Address;
  dataAddresses: Address[];
  /** Gas of all the creation transactions (data contracts and model). */
  deployGas: bigint;
}

export async function deployEvmModel(conn: ChainConnection, contracts: EvmModelContracts): Promise<DeployedEvmModel> {
  const dataAddresses: Address[] = [];
  let deployGas = 0n;
  for (const [i, data] of contracts.data.entries()) {
    const d = await deployContract(conn, `weights ${i}`, [], { artifact: data, gas: TX_GAS_CAP });
    dataAddresses.push(d.address);
    deployGas += d.gasUsed;
  }
  const model = await deployContract(conn, "model", dataAddresses, { artifact: contracts.model, gas: TX_GAS_CAP });
  return { abi: contracts.model.abi as Abi, address: model.address, dataAddresses, deployGas: deployGas + model.gasUsed };
}

/** The calldata of one inference: infer(input). */
export function inferCalldata(abi: Abi, input: readonly number[]): Hex {
  return encodeFunctionData({ abi, functionName: "infer", args: [input] });
}

export interface EvmInference {
  /** The returned int32[]: every output, flattened, in graph order. */
  output: number[];
  /** Gas used by the inference transaction (with `measureGas`). */
  gas?: bigint;
}

export async function inferEvm(conn: ChainConnection, model: DeployedEvmModel, input: readonly number[],
  options: { measureGas?: boolean } = {}): Promise<EvmInference> {
  const call = { address: model.address, abi: model.abi, functionName: "infer", args: [input] } as const;
  const output = [...await conn.publicClient.readContract(call) as readonly number[]];
  if (!options.measureGas) return { output };
  const wallet = conn.wallet("submitter");
  const hash = await wallet.writeContract({ ...call, gas: TX_GAS_CAP } as Parameters<typeof wallet.writeContract>[0]);
  const receipt = await conn.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`the inference transaction ${hash} reverted (gas used ${receipt.gasUsed})`);
  return { output, gas: receipt.gasUsed };
}
