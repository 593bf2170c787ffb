/**
 * Proof serialization. The binary proof is the verifier's input: the 32-byte words in the order
 * vm/verifier.ts reads them, nothing else. proof.json wraps it for files and humans: format and
 * version, the segment and step, the instruction, the pre- and post-state hashes, the words as
 * 0x-prefixed hex (with a parallel list of labels saying what each word is). Parsing a file
 * checks its shape and reports the first problem by field name.
 */
import { fromHex, toHex, type Hash } from "./hash.js";
import { formatInstruction } from "./isa.js";
import type { StepProof } from "./prove.js";
import { opcodeInfo } from "./subset.js";
import { verifyProof } from "./verifier.js";

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

export function proofToJson(p: StepProof, segmentName?: string): ProofJson {
  const name = formatInstruction(p.instruction, (op) => opcodeInfo(op)?.name);
  return {
    format: PROOF_FORMAT, version: PROOF_VERSION, segment: p.segment, step: p.step,
    instruction: segmentName ? `${name} (segment ${segmentName}, pc ${p.pre.pc})` : `${name} (pc ${p.pre.pc})`,
    preStateHash: toHex(p.preHash), postStateHash: toHex(p.postHash),
    words: p.words.map((w) => toHex(w.value)), labels: p.words.map((w) => w.label),
  };
}

export interface ParsedProof {
  segment: number;
  step: number;
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
  const int = (k: string): number => {
    const v = j[k];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new Error(`malformed proof file: ${k} must be a non-negative integer`);
    return v;
  };
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
  return { segment: int("segment"), step: int("step"), preStateHash: hash("preStateHash"), postStateHash: hash("postStateHash"), bytes };
}

/**
 * Check a proof file: verify the words against its pre-state hash and compare the result with
 * the post-state hash it claims. Returns the post-state hash; throws ProofError or Error.
 */
export function checkProofJson(text: string): Hash {
  const p = parseProofJson(text);
  const post = verifyProof(p.preStateHash, p.bytes);
  if (toHex(post) !== toHex(p.postStateHash)) {
    throw new Error(`the proof verifies to post-state ${toHex(post)}, not the claimed ${toHex(p.postStateHash)}`);
  }
  return post;
}
