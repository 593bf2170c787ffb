/**
 * The golden vector format (test/vm/golden/README.md describes it for porters) and the two ways
 * a vector is made: from a real step proof of the VM's prover, or from a crafted pre-state and
 * word list. Either way the expected verdict is fixed by the generator before the TS verifier is
 * asked: a real proof must reach the prover's post-state, a crafted one the post-state the spec
 * gives (computed here from the pre-state), and a rejection must be rejected with a ProofError,
 * whose message is recorded. A disagreement stops generation, so vectors.json never records a
 * verdict only because the TS verifier happens to give it.
 */
import {
  formatInstruction, keccak256, opcodeInfo, ProofError, proofBytes, STATE_FIELDS, toHex, verifyProof,
  type Instruction, type StateFields, type StepProof,
} from "../../../vm/index.js";

export type VectorClass = "step" | "trap" | "stopped" | "reject";

export type StateField = (typeof STATE_FIELDS)[number];

export type Expectation = { postStateHash: string } | { reject: true; reason: string };

export interface GoldenVector {
  name: string;
  class: VectorClass;
  /** The instruction at pc as people read it, or what the proof is when it reads none. */
  instruction: string;
  preStateHash: string;
  /** The 18 fields of the state behind preStateHash: numbers as decimal strings, hashes as 0x hex. */
  preState: Record<StateField, string>;
  /** The whole proof word stream, 0x hex. */
  proof: string;
  expect: Expectation;
}

/** A state whose numeric fields may be bigints (crafted states go past what a JS number holds). */
export type AnyState = StateFields<number | bigint>;

export function describeInstruction(ins: Instruction): string {
  return formatInstruction(ins, (op) => opcodeInfo(op)?.name);
}

export function labelled(s: AnyState): Record<StateField, string> {
  const out = {} as Record<StateField, string>;
  for (const k of STATE_FIELDS) {
    const v = s[k];
    out[k] = v instanceof Uint8Array ? toHex(v) : String(v);
  }
  return out;
}

/** A number as a 32-byte big-endian word. */
export function word(v: number | bigint): Uint8Array {
  const w = new Uint8Array(32);
  let x = BigInt(v);
  for (let i = 31; i >= 0; i--, x >>= 8n) w[i] = Number(x & 0xffn);
  return w;
}

/** The 18 pre-state words of a proof. */
export function stateWords(s: AnyState): Uint8Array[] {
  return STATE_FIELDS.map((k) => {
    const v = s[k];
    return v instanceof Uint8Array ? v : word(v);
  });
}

/** H(prefix, w1, ..., wn) of docs/vm-state.md section 1, written from the spec for the generator's own expectations. */
export function H(prefix: string, ...words: (Uint8Array | number | bigint)[]): Uint8Array {
  return keccak256(concat([new TextEncoder().encode(prefix), ...words.map((w) => (w instanceof Uint8Array ? w : word(w)))]));
}

export function stateHashOf(s: AnyState): Uint8Array {
  return H("detml.vm.state:", ...stateWords(s));
}

export function concat(words: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(words.reduce((n, w) => n + w.length, 0));
  let at = 0;
  for (const w of words) {
    out.set(w, at);
    at += w.length;
  }
  return out;
}

/** What the TS verifier says: the post-state hash, or the ProofError's message. */
function verdict(preHash: Uint8Array, proof: Uint8Array): Expectation {
  try {
    return { postStateHash: toHex(verifyProof(preHash, proof)) };
  } catch (err) {
    if (!(err instanceof ProofError)) throw new Error(`${(err as Error).stack} the verifier failed with a ${(err as Error).name}, not a ProofError: ${(err as Error).message}`);
    return { reject: true, reason: err.message };
  }
}

/** The vector of a real step proof: the verifier must reach the prover's post-state. */
export function proofVector(name: string, cls: "step" | "trap", p: StepProof): GoldenVector {
  return craftedVector(name, cls, describeInstruction(p.instruction), p.pre, proofBytes(p), { post: p.post });
}

/**
 * A vector over an agreed pre-state and proof bytes, with the verdict the spec gives: the
 * post-state, or a rejection. The proof's own 18 pre-state words are usually `agreed`'s; a
 * vector of a mismatch puts other words there.
 */
export function craftedVector(
  name: string, cls: VectorClass, instruction: string, agreed: AnyState, proof: Uint8Array, expected: { post: AnyState } | "reject",
): GoldenVector {
  const agreedHash = stateHashOf(agreed);
  const got = verdict(agreedHash, proof);
  let expect: Expectation;
  if (expected === "reject") {
    if (!("reject" in got)) throw new Error(`golden vector '${name}': the spec rejects this proof, the TS verifier accepts it (post-state ${got.postStateHash})`);
    expect = got;
  } else {
    expect = { postStateHash: toHex(stateHashOf(expected.post)) };
    if (!("postStateHash" in got) || got.postStateHash !== expect.postStateHash) {
      throw new Error(`golden vector '${name}': the spec's post-state is ${expect.postStateHash}, the TS verifier says ${JSON.stringify(got)}`);
    }
  }
  return { name, class: cls, instruction, preStateHash: toHex(agreedHash), preState: labelled(agreed), proof: toHex(proof), expect };
}
