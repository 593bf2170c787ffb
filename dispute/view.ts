/**
 * What a party believes about a run: the boundary fields at every op boundary, the state hash at
 * every step of a segment, the halted end state of a segment, and one-step proofs. The honest view
 * computes everything from a vm Session (boundaries from the VM's run, states and
 * proofs from VM snapshots), caching state hashes so that many games over one run stay cheap; a
 * state past the end of a segment is its halted state (a halted state never changes). A lying
 * view (for fault injection) agrees with the truth up to step `fromStep` of segment `segment` and
 * believes altered values from there on: altered state hashes inside the segment, an altered end
 * state (changed memory root, or changed output for an output lie) and boundaries after it that
 * follow from it.
 * A run that traps in segment t has no boundaries after t: the honest view holds the trapped-run
 * hash there (vm/state.ts), which no result claim and no revealed boundary can match (its claim is a trap claim). A liar about such
 * a run denies the trap: it cannot lie later than segment t, claims that t halts, and makes up
 * the boundaries after it.
 */
import {
  absorbOutput, boundaryAfter, boundaryHash, keccak256, proofBytes, stateHash, STATE_FIELDS, Status, trappedRunHash,
  type BoundaryFields, type Hash, type Session, type StateFields,
} from "../vm/index.js";
import { ZERO } from "./claim.js";

export interface View {
  readonly segments: number;
  /** The fields of boundary k (to reveal it or to claim boundary S). */
  boundary(k: number): BoundaryFields;
  /** The hash this party holds at boundary k (what it posts and compares in phase 1). */
  boundaryHash(k: number): Hash;
  /** The trapped state, when boundary k comes after a segment that trapped (k = segments: the run traps). */
  trappedAt(k: number): StateFields | undefined;
  stateHash(k: number, step: number): Hash;
  /** The halted state ending segment k. */
  finalState(k: number): StateFields;
  /** Proof bytes of step `step` of segment k (the truth: a liar cannot prove its lies). */
  proof(k: number, step: number): Uint8Array;
}

/** A 32-byte word of a number (big-endian uint256). */
function numberWord(v: number): Uint8Array {
  const w = new Uint8Array(32);
  let x = BigInt(v);
  for (let i = 31; i >= 0; i--, x >>= 8n) w[i] = Number(x & 0xffn);
  return w;
}

/** The proof of a step from a halted state: its 17 words (docs/vm-state.md section 7). */
export function haltedProof(s: StateFields): Uint8Array {
  const out = new Uint8Array(STATE_FIELDS.length * 32);
  STATE_FIELDS.forEach((f, i) => {
    const v = s[f];
    out.set(typeof v === "number" ? numberWord(v) : v, i * 32);
  });
  return out;
}

/** A hash derived from another one and a tag: stands for a value a liar made up. */
export function altered(h: Hash, tag: string): Hash {
  const buf = new Uint8Array(32 + tag.length);
  buf.set(h);
  buf.set(new TextEncoder().encode(tag), 32);
  return keccak256(buf);
}

export class HonestView implements View {
  /** State hashes by segment, then by step. */
  private readonly hashes = new Map<number, Map<number, Hash>>();
  private readonly finals = new Map<number, StateFields>();

  constructor(readonly session: Session) {}

  get segments(): number {
    return this.session.segmentCount;
  }

  /** The segment that traps, if the run traps (its boundaries stop after it). */
  get trapSegment(): number | undefined {
    return this.session.run.trap?.segment;
  }

  /** The last segment the run executes: the trapping one, or the last of the module. */
  get lastSegment(): number {
    return this.trapSegment ?? this.segments - 1;
  }

  boundary(k: number): BoundaryFields {
    const b = this.session.boundaries[k];
    if (b) return b.fields;
    const trap = this.session.run.trap;
    const why = trap ? `: segment ${trap.segment} (${this.session.mod.segments[trap.segment].export}) traps (${trap.message}), so the run has no result` : "";
    throw new Error(`boundary ${k} does not exist (the run has boundaries 0..${this.session.boundaries.length - 1})${why}`);
  }

  boundaryHash(k: number): Hash {
    const b = this.session.boundaries[k];
    if (b) return b.hash;
    const trapped = this.trappedAt(k);
    return trapped ? trappedRunHash(trapped) : boundaryHash(this.boundary(k));
  }

  trappedAt(k: number): StateFields | undefined {
    const t = this.trapSegment;
    return t !== undefined && k > t && k <= this.segments ? this.finalState(t) : undefined;
  }

  steps(k: number): number {
    return this.session.traceSegment(k).steps;
  }

  stateHash(k: number, step: number): Hash {
    const at = Math.min(step, this.steps(k));
    let bySegment = this.hashes.get(k);
    if (!bySegment) this.hashes.set(k, (bySegment = new Map()));
    let h = bySegment.get(at);
    if (!h) {
      h = this.session.stateAt(k, at).hash;
      bySegment.set(at, h);
    }
    return h;
  }

  finalState(k: number): StateFields {
    let f = this.finals.get(k);
    if (!f) {
      f = this.session.stateAt(k, this.steps(k)).fields;
      this.finals.set(k, f);
    }
    return f;
  }

  proof(k: number, step: number): Uint8Array {
    return step < this.steps(k) ? proofBytes(this.session.prove(k, step)) : haltedProof(this.finalState(k));
  }
}

export type LieKind = "memory" | "output";

export class LyingView implements View {
  private readonly fakeFinal: StateFields;

  readonly segment: number;

  /**
   * Lies from state `fromStep` of `segment` on (clamped to its end state), altering memory or
   * output; in a run that traps, from the trapping segment at the latest, claiming that it halts.
   */
  constructor(readonly truth: HonestView, segment: number, readonly fromStep: number, kind: LieKind = "memory") {
    this.segment = Math.min(segment, truth.lastSegment);
    const real = { ...truth.finalState(this.segment), status: Status.HALTED };
    this.fakeFinal = kind === "memory" ? { ...real, memoryRoot: altered(real.memoryRoot, "memory") } : { ...real, outputAcc: this.alteredOutput(real) };
  }

  /** The output accumulator with one output byte flipped (the output a cheater would post). */
  private alteredOutput(real: StateFields): Hash {
    const before = this.truth.boundary(this.segment);
    const out = this.truth.session.run.output;
    if (before.outputChunks > 0 || real.outputChunks * 32 !== out.length || out.length === 0) return altered(real.outputAcc, "output");
    const fake = out.slice();
    fake[0] ^= 1;
    return absorbOutput(ZERO, fake);
  }

  get segments(): number {
    return this.truth.segments;
  }

  boundary(k: number): BoundaryFields {
    if (k <= this.segment) return this.truth.boundary(k);
    const after = boundaryAfter(this.fakeFinal);
    if (k === this.segment + 1) return after;
    const real = this.truth.session.boundaries[k]?.fields ?? { ...after, segment: k };
    return { ...real, memoryRoot: altered(real.memoryRoot, "memory"), outputAcc: altered(real.outputAcc, "output") };
  }

  boundaryHash(k: number): Hash {
    return boundaryHash(this.boundary(k));
  }

  /** A liar denies the trap: it never holds a trapped state. */
  trappedAt(): undefined {
    return undefined;
  }

  stateHash(k: number, step: number): Hash {
    if (k !== this.segment) return this.truth.stateHash(k, step);
    const end = this.truth.steps(k);
    if (step >= end) return stateHash(this.fakeFinal);
    return step < this.fromStep ? this.truth.stateHash(k, step) : altered(this.truth.stateHash(k, step), "state");
  }

  finalState(k: number): StateFields {
    return k === this.segment ? this.fakeFinal : this.truth.finalState(k);
  }

  proof(k: number, step: number): Uint8Array {
    return this.truth.proof(k, step);
  }
}
