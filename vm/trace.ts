/**
 * `traceModule`: run every segment of a module in the VM and commit to the run: the boundary
 * before every segment the run reaches and after the last one (memory root from the VM's own
 * memory, rehashed incrementally), per segment its step count and VM time, the state where the
 * run stopped and its hash, the output bytes. The VM is the truth about a run (its step budget,
 * its limits and its traps), so this is where a dispute agent gets its op boundaries
 * (vm/session.ts); `detml trace` prints it and `detml run --engine vm` needs only `output`.
 */
import { decodeModule, memoryTree, type DecodedModule } from "./decode.js";
import { ZERO_HASH, type Hash } from "./spec/hash.js";
import { Status, statusText } from "./spec/isa.js";
import { Machine } from "./machine.js";
import type { MerkleTree } from "./merkle.js";
import { commitmentBase, controlState, type CommitmentBase } from "./state.js";
import { absorbOutput, boundaryHash, stateHash, type Boundary, type BoundaryFields, type StateFields } from "./spec/commitments.js";

export interface SegmentRun {
  index: number;
  export: string;
  steps: number;
  /** VM time for this segment, ms (no hashing). */
  ms: number;
  /** The boundary before this segment. */
  boundary: Hash;
}

export interface TraceResult {
  status: number;
  segments: SegmentRun[];
  /** Boundaries 0..k for every boundary the run reaches (all S + 1 when it halts). */
  boundaries: Boundary[];
  /** Boundary after the last segment (undefined when a segment trapped). */
  finalBoundary?: Hash;
  /** Set when a segment trapped: its index, the trap status and its text. */
  trap?: { segment: number; status: number; message: string };
  /** The state where the run stopped: halted after the last segment, or trapped. */
  finalState: StateFields;
  finalHash: Hash;
  output: Uint8Array;
  totalSteps: number;
  /** VM time over all segments, ms (no hashing). */
  ms: number;
}

export interface TraceOptions {
  /** The machine to run (left where the run stopped); a new one by default. */
  machine?: Machine;
  /** The commitments of this module and input, when already known. */
  base?: CommitmentBase;
  /** A memory tree over the machine's memory to reuse (left synced to the last boundary). */
  memoryTree?: MerkleTree;
  /** Called at every boundary the run reaches, with the machine's memory there. */
  onBoundary?: (k: number, machine: Machine) => void;
}

export function traceModule(module: Uint8Array | DecodedModule, input: Uint8Array, opts: TraceOptions = {}): TraceResult {
  const mod = module instanceof Uint8Array ? decodeModule(module) : module;
  const m = opts.machine ?? new Machine(mod, input);
  const base = opts.base ?? commitmentBase(mod, m.input);
  const tree = opts.memoryTree ?? memoryTree(mod, m.memory); // a weights image is hashed lazily, from its chunk roots
  const segments: SegmentRun[] = [];
  const boundaries: Boundary[] = [];
  const fields = (segment: number): BoundaryFields => {
    tree.sync(m.memory, m); // the machine's write log: only chunks written since the last boundary are read
    return { ...base, memoryRoot: tree.root(), outputAcc: absorbOutput(ZERO_HASH, m.outputBytes()), outputChunks: m.outputChunks, segment };
  };
  const record = (k: number): Hash => {
    const f = fields(k);
    const hash = boundaryHash(f);
    boundaries.push({ fields: f, hash, export: mod.segments[k]?.export });
    opts.onBoundary?.(k, m);
    return hash;
  };
  let ms = 0;
  for (const seg of mod.segments) {
    const boundary = record(seg.index);
    m.startSegment(seg.index);
    const started = performance.now();
    m.runUntil(Number.MAX_SAFE_INTEGER);
    const segMs = performance.now() - started;
    ms += segMs;
    segments.push({ index: seg.index, export: seg.export, steps: m.steps, ms: segMs, boundary });
    if (m.status !== Status.HALTED) break;
  }
  const halted = m.status === Status.HALTED;
  const finalBoundary = halted ? record(mod.segments.length) : undefined;
  const last = fields(m.segment);
  const finalState: StateFields = { ...last, segment: m.segment, step: m.steps, status: m.status, pc: m.pc, ...controlState(m) };
  return {
    status: m.status, segments, boundaries, finalBoundary,
    trap: halted ? undefined : { segment: m.segment, status: m.status, message: statusText(m.status) },
    finalState, finalHash: stateHash(finalState), output: m.outputBytes(),
    totalSteps: segments.reduce((s, x) => s + x.steps, 0), ms,
  };
}
