/**
 * A tiny in-process EVM for fast differential tests of the contracts: @ethereumjs/evm on a Common
 * at Hardfork.Osaka, with runtime bytecode placed at fixed addresses (no deployment transaction,
 * no chain, no ports) and `runCall` with raw calldata. It reports the call's execution gas and its
 * transaction-equivalent cost (21,000 + calldata per EIP-2028 / EIP-7623), decodes a revert into
 * the custom error it names, and encodes `StepVerifier.verify(bytes32, bytes)` by hand (two static
 * words, then the dynamic bytes), so a proof costs no ABI library call. Contracts come from
 * scripts/build-contracts.mjs (its cached build, so a fresh `npm run build` costs nothing here).
 * The second half is the differential check of the StepVerifier contract against the reference
 * verifier vm/spec/verifier.ts (through the vm barrel): a verdict is a post-state hash or a
 * rejection, and the two must agree on every proof; plus the proof mutations and crafted pre-states
 * the tests feed both, and the instruction class of a proof for the gas report.
 */
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Common, Hardfork, Mainnet } from "@ethereumjs/common";
import { createEVM, type EVM } from "@ethereumjs/evm";
import { createAddressFromString, type Address } from "@ethereumjs/util";
import { keccak256, STATE_FIELDS, toHex, verifyProof, type Hash } from "../../vm/index.js";

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

interface AbiParam {
  type: string;
}

interface AbiEntry {
  type: string;
  name?: string;
  inputs?: AbiParam[];
}

export interface ContractArtifact {
  abi: AbiEntry[];
  deployedBytecode: string;
  runtimeBytes: number;
  runtimeHash: string;
}

export interface ContractBuild {
  compiler: string;
  contracts: Record<string, ContractArtifact>;
}

/** The compiled contracts (scripts/build-contracts.mjs, from its cache when the sources are unchanged). */
export async function loadContracts(): Promise<ContractBuild> {
  const script = pathToFileURL(join(root, "scripts", "build-contracts.mjs")).href;
  const builder = (await import(script)) as { compileAll(useCache: boolean): ContractBuild };
  return builder.compileAll(true);
}

export function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.replace(/^0x/, ""), "hex"));
}

/** The 4-byte selector of a function or error signature such as "verify(bytes32,bytes)". */
export function selector(signature: string): Uint8Array {
  return keccak256(new TextEncoder().encode(signature)).slice(0, 4);
}

/** Calldata of `verify(bytes32 preStateHash, bytes proof)`: selector, hash, offset 0x40, length, proof padded to words. */
export function verifyCalldata(preStateHash: Uint8Array, proof: Uint8Array): Uint8Array {
  const padded = Math.ceil(proof.length / 32) * 32;
  const data = new Uint8Array(4 + 32 * 3 + padded);
  data.set(selector("verify(bytes32,bytes)"), 0);
  data.set(preStateHash, 4);
  data[4 + 63] = 0x40;
  new DataView(data.buffer).setUint32(4 + 92, proof.length);
  data.set(proof, 4 + 96);
  return data;
}

/**
 * Gas a transaction carrying `calldata` and spending `executionGas` pays (Prague/Osaka): 21,000
 * plus the larger of 4 gas per calldata token + execution (EIP-2028) and the EIP-7623 floor of 10
 * gas per token, a token being a zero byte or a quarter of a nonzero byte.
 */
export function transactionGas(calldata: Uint8Array, executionGas: bigint): bigint {
  let tokens = 0n;
  for (const b of calldata) tokens += b === 0 ? 1n : 4n;
  const standard = 4n * tokens + executionGas;
  const floor = 10n * tokens;
  return 21_000n + (standard > floor ? standard : floor);
}

export interface CallResult {
  ok: boolean;
  returnData: Uint8Array;
  executionGas: bigint;
  /** The custom error a revert names ("ProofLength", "UnknownOpcode(0x2a)"), or the EVM's error. */
  error?: string;
}

/** A running EVM with contracts placed at fixed addresses. */
export class EvmHarness {
  private readonly errors = new Map<string, { name: string; args: number }>();

  private constructor(private readonly evm: EVM) {}

  static async create(): Promise<EvmHarness> {
    const common = new Common({ chain: Mainnet, hardfork: Hardfork.Osaka });
    return new EvmHarness(await createEVM({ common }));
  }

  /** Place `artifact`'s runtime code at `address` (a 0x-prefixed 20-byte hex) and learn its custom errors. */
  async place(address: string, artifact: ContractArtifact): Promise<Address> {
    const at = createAddressFromString(address);
    await this.evm.stateManager.putCode(at, hexBytes(artifact.deployedBytecode));
    for (const e of artifact.abi.filter((x) => x.type === "error")) {
      const signature = `${e.name}(${(e.inputs ?? []).map((i) => i.type).join(",")})`;
      this.errors.set(Buffer.from(selector(signature)).toString("hex"), { name: e.name!, args: e.inputs?.length ?? 0 });
    }
    return at;
  }

  async call(to: Address, data: Uint8Array, gasLimit = 16_777_216n): Promise<CallResult> {
    const { execResult } = await this.evm.runCall({ to, data, gasLimit });
    const returnData = execResult.returnValue;
    if (!execResult.exceptionError) return { ok: true, returnData, executionGas: execResult.executionGasUsed };
    return { ok: false, returnData, executionGas: execResult.executionGasUsed, error: this.describeRevert(returnData, execResult.exceptionError.error) };
  }

  private describeRevert(data: Uint8Array, evmError: string): string {
    const known = data.length >= 4 ? this.errors.get(Buffer.from(data.subarray(0, 4)).toString("hex")) : undefined;
    if (!known) return evmError;
    const args = Array.from({ length: known.args }, (_, i) => `0x${BigInt(`0x${Buffer.from(data.subarray(4 + 32 * i, 36 + 32 * i)).toString("hex")}`).toString(16)}`);
    return `${known.name}${known.args > 0 ? `(${args.join(", ")})` : ""}`;
  }
}

// ---- StepVerifier against vm/spec/verifier.ts ----

/** Where the tests place StepVerifier (any address without a precompile works). */
export const STEP_VERIFIER_ADDRESS = "0x5e7e000000000000000000000000000000000001";

/** A verifier's answer: the post-state hash, or why it rejected. */
export interface Verdict {
  post?: string;
  reject?: string;
}

export function referenceVerdict(preStateHash: Hash, proof: Uint8Array): Verdict {
  try {
    return { post: toHex(verifyProof(preStateHash, proof)) };
  } catch (err) {
    return { reject: (err as Error).message };
  }
}

/** StepVerifier placed in a fresh EVM, with its verdicts and their gas. */
export class StepVerifierRunner {
  private constructor(private readonly evm: EvmHarness, private readonly at: Address) {}

  static async create(build: ContractBuild): Promise<StepVerifierRunner> {
    const evm = await EvmHarness.create();
    return new StepVerifierRunner(evm, await evm.place(STEP_VERIFIER_ADDRESS, build.contracts.StepVerifier));
  }

  /** The contract's verdict, with its execution gas and transaction-equivalent gas. */
  async verdict(preStateHash: Hash, proof: Uint8Array): Promise<Verdict & { executionGas: bigint; txGas: bigint }> {
    const data = verifyCalldata(preStateHash, proof);
    const r = await this.evm.call(this.at, data);
    const gas = { executionGas: r.executionGas, txGas: transactionGas(data, r.executionGas) };
    if (!r.ok) return { reject: r.error, ...gas };
    if (r.returnData.length !== 32) throw new Error(`verify returned ${r.returnData.length} bytes`);
    return { post: toHex(r.returnData), ...gas };
  }

  /**
   * Both verifiers on one proof: the reference's verdict, the contract's, and whether they agree
   * (both reject, or both accept with the same post-state hash).
   */
  async compare(preStateHash: Hash, proof: Uint8Array): Promise<{ reference: Verdict; contract: Verdict & { executionGas: bigint; txGas: bigint }; agree: boolean }> {
    const reference = referenceVerdict(preStateHash, proof);
    const contract = await this.verdict(preStateHash, proof);
    const agree = reference.post !== undefined ? reference.post === contract.post : contract.post === undefined;
    return { reference, contract, agree };
  }
}

export const STATE_BYTES = 32 * STATE_FIELDS.length;
const STATE_PREFIX = new TextEncoder().encode("detml.vm.state:");

/** The state hash of the 18 pre-state words at the start of `proof` (whatever their values). */
export function preStateHashOf(proof: Uint8Array): Hash {
  const preimage = new Uint8Array(STATE_PREFIX.length + STATE_BYTES);
  preimage.set(STATE_PREFIX);
  preimage.set(proof.subarray(0, STATE_BYTES), STATE_PREFIX.length);
  return keccak256(preimage);
}

/**
 * A copy of `proof` whose pre-state has the numeric `fields` replaced (any uint256), cut to
 * `words` words if given, with the hash of the new pre-state: a crafted state the verifiers must
 * decide on its own terms (its commitments still open the same witnesses).
 */
export function craftPreState(proof: Uint8Array, fields: Partial<Record<(typeof STATE_FIELDS)[number], bigint>>, words?: number): { preStateHash: Hash; proof: Uint8Array } {
  const out = proof.slice(0, words === undefined ? proof.length : words * 32);
  for (const [name, value] of Object.entries(fields)) {
    const at = STATE_FIELDS.indexOf(name as (typeof STATE_FIELDS)[number]) * 32;
    let v = value;
    for (let i = 31; i >= 0; i--, v >>= 8n) out[at + i] = Number(v & 0xffn);
  }
  return { preStateHash: preStateHashOf(out), proof: out };
}

/**
 * Mutations of a valid proof, each with a name: one flipped byte in every word (a different byte
 * position per word), the proof cut by a word and by a byte, a zero word appended, every pair of
 * neighbouring words swapped (the pre-state and witnesses alike).
 */
export function mutations(proof: Uint8Array): { name: string; proof: Uint8Array }[] {
  const words = proof.length / 32;
  const out: { name: string; proof: Uint8Array }[] = [];
  for (let w = 0; w < words; w++) {
    const m = proof.slice();
    const byte = (w * 7 + 31) % 32;
    m[w * 32 + byte] ^= 1 << (w % 8);
    out.push({ name: `flip word ${w} byte ${byte}`, proof: m });
  }
  out.push({ name: "truncated by a word", proof: proof.slice(0, proof.length - 32) });
  out.push({ name: "truncated by a byte", proof: proof.slice(0, proof.length - 1) });
  const longer = new Uint8Array(proof.length + 32);
  longer.set(proof);
  out.push({ name: "a zero word appended", proof: longer });
  for (let w = 0; w + 1 < words; w++) {
    const m = proof.slice();
    m.set(proof.subarray((w + 1) * 32, (w + 2) * 32), w * 32);
    m.set(proof.subarray(w * 32, (w + 1) * 32), (w + 1) * 32);
    if (m.some((b, i) => b !== proof[i])) out.push({ name: `words ${w} and ${w + 1} swapped`, proof: m });
  }
  return out;
}
