/**
 * Proof serialization. The binary proof is the verifier's input: the 32-byte words in the order
 * vm/spec/verifier.ts reads them, nothing else. proof.json wraps it for files and humans: format and
 * version, the segment and step, the instruction, the pre- and post-state hashes, the words as
 * 0x-prefixed hex (with a parallel list of labels saying what each word is). Parsing a file
 * checks its shape and reports the first problem by field name. Checking a file trusts only its
 * words and its two state hashes: segment, step, instruction and labels are annotations for
 * people, never read back. What a proof proves (segment, step, status, pc, instruction) is
 * decoded from its verified words instead: the pre-state words that hash to the pre-state hash,
 * and the instruction word proven against their code root (docs/vm-state.md section 7).
 */
import { fromHex, toHex, type Hash } from "./spec/hash.js";
import { decodeInstruction, formatInstruction, INSTRUCTION_BYTES, type Instruction } from "./spec/isa.js";
import { STATE_FIELDS, type StateFields } from "./spec/commitments.js";
import { opcodeInfo } from "./subset.js";
import { verifyProof } from "./spec/verifier.js";

export interface ProofWord {
  label: string;
  value: Uint8Array;
}

/** One step's proof as the prover (vm/prove.ts) builds it: the words in verifier order, with the states they join. */
export interface StepProof {
  segment: number;
  step: number;
  instruction: Instruction;
  pre: StateFields;
  preHash: Hash;
  post: StateFields;
  postHash: Hash;
  words: ProofWord[];
}

export const PROOF_FORMAT = "detml-vm-proof";
export const PROOF_VERSION = 1;

export interface ProofJson {
  format: typeof PROOF_FORMAT;
  version: number;
  segment: number;
  step: number;
  instruction: string;
  preStateHash: string;
  postStateHash: string;
  words: string[];
  labels: string[];
}

/** The binary proof: the words in verifier order. */
export function proofBytes(p: StepProof): Uint8Array {
  const out = new Uint8Array(p.words.length * 32);
  p.words.forEach((w, i) => out.set(w.value, i * 32));
  return out;
}

/** An instruction as people read it (WASM names for WASM instructions). */
export function describeInstruction(ins: Instruction): string {
  return formatInstruction(ins, (op) => opcodeInfo(op)?.name);
}

export function proofToJson(p: StepProof, segmentName?: string): ProofJson {
  const name = describeInstruction(p.instruction);
  return {
    format: PROOF_FORMAT, version: PROOF_VERSION, segment: p.segment, step: p.step,
    instruction: segmentName ? `${name} (segment ${segmentName}, pc ${p.pre.pc})` : `${name} (pc ${p.pre.pc})`,
    preStateHash: toHex(p.preHash), postStateHash: toHex(p.postHash),
    words: p.words.map((w) => toHex(w.value)), labels: p.words.map((w) => w.label),
  };
}

/** What checking a proof file reads from it (the annotations are left out on purpose). */
export interface ParsedProof {
  preStateHash: Hash;
  postStateHash: Hash;
  bytes: Uint8Array;
}

/** Parse proof.json text; throws an Error naming the malformed field. */
export function parseProofJson(text: string): ParsedProof {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`malformed proof file: not JSON (${(err as Error).message})`);
  }
  if (typeof j !== "object" || j === null || Array.isArray(j)) throw new Error("malformed proof file: not a JSON object");
  if (j.format !== PROOF_FORMAT) throw new Error(`malformed proof file: format is ${JSON.stringify(j.format)}, expected "${PROOF_FORMAT}"`);
  if (j.version !== PROOF_VERSION) throw new Error(`unsupported proof version ${JSON.stringify(j.version)} (this verifier reads version ${PROOF_VERSION})`);
  const hash = (k: string): Hash => {
    if (typeof j[k] !== "string") throw new Error(`malformed proof file: ${k} must be a 0x-prefixed 32-byte hex string`);
    try {
      return fromHex(j[k] as string, 32);
    } catch (err) {
      throw new Error(`malformed proof file: ${k}: ${(err as Error).message}`);
    }
  };
  if (!Array.isArray(j.words) || j.words.length === 0) throw new Error("malformed proof file: words must be a non-empty array of 32-byte hex words");
  const bytes = new Uint8Array(j.words.length * 32);
  j.words.forEach((w, i) => {
    if (typeof w !== "string") throw new Error(`malformed proof file: words[${i}] is not a string`);
    try {
      bytes.set(fromHex(w, 32), i * 32);
    } catch (err) {
      throw new Error(`malformed proof file: words[${i}]: ${(err as Error).message}`);
    }
  });
  return { preStateHash: hash("preStateHash"), postStateHash: hash("postStateHash"), bytes };
}

/** What a valid proof proves, every field taken from its verified words. */
export interface ProvenStep {
  preStateHash: Hash;
  postStateHash: Hash;
  segment: number;
  /** The step proven: the pre-state's step count (steps numbered from 0 in the segment). */
  step: number;
  status: number;
  pc: number;
  stepBudget: number;
  /** The instruction executed; undefined when the step reads none (a stopped machine, or a used-up step budget). */
  instruction?: Instruction;
}

/** A numeric pre-state field: a big-endian word among the first words of a proof (the verifier checked its range). */
function preStateNumber(proof: Uint8Array, field: (typeof STATE_FIELDS)[number]): number {
  const at = STATE_FIELDS.indexOf(field) * 32;
  let v = 0n;
  for (let i = at; i < at + 32; i++) v = (v << 8n) | BigInt(proof[i]);
  return Number(v);
}

/**
 * Check a proof file: verify the words against its pre-state hash and compare the result with
 * the post-state hash it claims. Returns what the proof proves, decoded from its words; throws
 * ProofError or Error.
 */
export function checkProofJson(text: string): ProvenStep {
  const p = parseProofJson(text);
  const post = verifyProof(p.preStateHash, p.bytes);
  if (toHex(post) !== toHex(p.postStateHash)) {
    throw new Error(`the proof verifies to post-state ${toHex(post)}, not the claimed ${toHex(p.postStateHash)}`);
  }
  // The verifier rejects words left over, and reads an instruction word right after the
  // pre-state exactly when the step executes one (proven against the code root at pc).
  const end = STATE_FIELDS.length * 32;
  return {
    preStateHash: p.preStateHash, postStateHash: post,
    segment: preStateNumber(p.bytes, "segment"), step: preStateNumber(p.bytes, "step"), status: preStateNumber(p.bytes, "status"),
    pc: preStateNumber(p.bytes, "pc"), stepBudget: preStateNumber(p.bytes, "stepBudget"),
    instruction: p.bytes.length > end ? decodeInstruction(p.bytes.subarray(end, end + INSTRUCTION_BYTES)) : undefined,
  };
}

export type InstructionClass = "alu" | "load" | "store" | "local" | "control" | "call/return" | "io" | "stopped";

const STATE_BYTES = 32 * STATE_FIELDS.length;

/** The instruction class of a proof's step, for gas reports ("stopped": the proof is the state alone). */
export function instructionClass(proof: Uint8Array): InstructionClass {
  if (proof.length <= STATE_BYTES) return "stopped";
  const op = (proof[STATE_BYTES] << 8) | proof[STATE_BYTES + 1];
  if (op === 0x41 || op === 0x42 || (op >= 0x45 && op <= 0xc4)) return "alu";
  if (op >= 0x28 && op <= 0x35) return "load";
  if (op >= 0x36 && op <= 0x3e) return "store";
  if (op >= 0x20 && op <= 0x22) return "local";
  if (op === 0x0f || op === 0x10) return "call/return";
  if (op === 0x107 || op === 0x108) return "io";
  return "control";
}
