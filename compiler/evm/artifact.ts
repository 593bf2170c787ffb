/**
 * The deployable form of a model compiled for the EVM (`detml compile --target evm`): the model
 * contract and its data contracts as creation/runtime bytecode with their ABI, in the shape of
 * contracts/build/artifacts.json entries (so chain/deploy.ts deploys them), plus the model's
 * input/output signature. The model's creation code copies its runtime to memory, writes each
 * constructor argument (a data-contract address, one 32-byte word) over its reserved PUSH32
 * immediate and returns it, so the runtime code in the artifact has zeros there, as immutables
 * do. A data contract's runtime is a STOP byte followed by its chunk of the weight image.
 * `flattenInputs` / `splitOutputs` convert between named tensors and the flat int32[] of the ABI.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { keccak_256 } from "@noble/hashes/sha3.js";
import type { Graph } from "../../lib/graph/ir.js";
import { type NamedTensors, orderInputs } from "../../lib/inputs.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { type EvmOptions, lowerToEvm, type LoweredModel } from "./lower.js";

type Hex = `0x${string}`;

/** One contract, as chain/artifacts.ts's Artifact. */
export interface ContractArtifact {
  abi: readonly unknown[];
  bytecode: Hex;
  deployedBytecode: Hex;
  runtimeBytes: number;
  runtimeHash: Hex;
}

export interface EvmModelArtifact {
  format: "detml-evm-model/1";
  /** The model contract: constructor(address data0, ...), infer(int32[]) -> int32[]. */
  model: ContractArtifact;
  /** The data contracts, in the order of the model's constructor arguments. */
  data: ContractArtifact[];
  inputs: LoweredModel["inputs"];
  outputs: LoweredModel["outputs"];
  macs: number;
  memoryBytes: number;
  weightBytes: number;
}

const toHex = (bytes: Uint8Array): Hex => `0x${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;

export function contract(abi: readonly unknown[], init: Uint8Array, runtime: Uint8Array): ContractArtifact {
  const bytecode = new Uint8Array(init.length + runtime.length);
  bytecode.set(init);
  bytecode.set(runtime, init.length);
  return { abi, bytecode: toHex(bytecode), deployedBytecode: toHex(runtime), runtimeBytes: runtime.length, runtimeHash: toHex(keccak_256(runtime)) };
}

const push2 = (v: number): number[] => [0x61, (v >> 8) & 0xff, v & 0xff];

/** Creation code returning `runtime` as it stands: PUSH2 len, DUP1, PUSH2 start, PUSH0, CODECOPY, PUSH0, RETURN. */
export function plainInit(runtimeLength: number): Uint8Array {
  const length = 11;
  return Uint8Array.from([...push2(runtimeLength), 0x80, ...push2(length), 0x5f, 0x39, 0x5f, 0xf3]);
}

/** Creation code that also copies constructor argument i over the 32 bytes at patchOffsets[i] of the runtime. */
export function patchingInit(runtimeLength: number, patchOffsets: number[]): Uint8Array {
  const length = 8 + 9 * patchOffsets.length + 5;
  const code: number[] = [...push2(runtimeLength), ...push2(length), 0x5f, 0x39];
  patchOffsets.forEach((offset, i) => code.push(0x60, 32, ...push2(length + runtimeLength + 32 * i), ...push2(offset), 0x39));
  code.push(...push2(runtimeLength), 0x5f, 0xf3);
  return Uint8Array.from(code);
}

export function modelAbi(dataContracts: number): readonly unknown[] {
  return [
    { type: "constructor", stateMutability: "nonpayable", inputs: Array.from({ length: dataContracts }, (_, i) => ({ name: `data${i}`, type: "address" })) },
    {
      type: "function", name: "infer", stateMutability: "view",
      inputs: [{ name: "input", type: "int32[]" }], outputs: [{ name: "output", type: "int32[]" }],
    },
  ];
}

/** Compile a graph to the EVM artifact (throws a one-line error on an unsupported op or a too-large model). */
export function compileEvm(graph: Graph, options: EvmOptions = {}): EvmModelArtifact {
  const lowered = lowerToEvm(graph, options);
  const data = lowered.chunks.map((chunk) => {
    const runtime = new Uint8Array(chunk.length + 1);
    runtime.set(chunk, 1);
    return contract([], plainInit(runtime.length), runtime);
  });
  return {
    format: "detml-evm-model/1",
    model: contract(modelAbi(data.length), patchingInit(lowered.runtime.length, lowered.patchOffsets), lowered.runtime),
    data,
    inputs: lowered.inputs,
    outputs: lowered.outputs,
    macs: lowered.macs,
    memoryBytes: lowered.memoryBytes,
    weightBytes: lowered.chunks.reduce((s, c) => s + c.length, 0),
  };
}

/** Gas of the cheapest multiply-accumulate the target emits (an unrolled tap, mac.ts). */
export const MIN_GAS_PER_MAC = 26;
/** EIP-7825: the most gas one transaction may carry. */
export const TX_GAS_CAP = 2 ** 24;

/**
 * Why the model cannot run in one transaction (its multiply-accumulates alone need more gas
 * than the EIP-7825 cap), or undefined when it may.
 */
export function overGasCap(artifact: Pick<EvmModelArtifact, "macs">): string | undefined {
  const gas = MIN_GAS_PER_MAC * artifact.macs;
  if (gas <= TX_GAS_CAP) return undefined;
  return `the model's ${artifact.macs} multiply-accumulates need at least ${gas} gas per inference (${MIN_GAS_PER_MAC} each), over the ${TX_GAS_CAP} gas one transaction may carry (EIP-7825)`;
}

/** Write `<dir>/<name>.evm.json`; returns the path. */
export function writeEvmArtifact(dir: string, name: string, artifact: EvmModelArtifact): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.evm.json`);
  writeFileSync(path, `${JSON.stringify(artifact, null, 1)}\n`);
  return path;
}

/**
 * The graph inputs as the one int32[] argument of `infer`: checked against the declared shapes,
 * brought to the declared fracs as the reference executor does (lib/inputs.ts), concatenated.
 */
export function flattenInputs(artifact: Pick<EvmModelArtifact, "inputs">, inputs: NamedTensors): number[] {
  return orderInputs(artifact.inputs, inputs).flatMap((t) => [...t.data]);
}

/** The int32[] that `infer` returns, split into the graph's outputs at their shapes and fracs. */
export function splitOutputs(artifact: Pick<EvmModelArtifact, "outputs">, flat: readonly number[]): Map<string, Tensor> {
  const outputs = new Map<string, Tensor>();
  let at = 0;
  for (const info of artifact.outputs) {
    const n = info.shape.reduce((s, d) => s * d, 1);
    if (at + n > flat.length) throw new Error(`infer returned ${flat.length} values, fewer than the model's outputs have`);
    outputs.set(info.name, new Tensor(info.shape, Int32Array.from(flat.slice(at, at + n)), info.frac));
    at += n;
  }
  if (at !== flat.length) throw new Error(`infer returned ${flat.length} values, the model's outputs have ${at}`);
  return outputs;
}
