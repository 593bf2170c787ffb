/**
 * `traceModule`: run every segment of a module in the VM and commit to the run: per segment its
 * step count, VM time and the boundary hash before it (memory root from the VM's own memory,
 * rehashed incrementally), the final state and its hash, the output bytes. This is what
 * `detml trace` prints; `detml run --engine vm` needs only `output`.
 */
import { decodeModule, type DecodedModule } from "./decode.js";
import { commitmentBase } from "./fast.js";
import { ZERO_HASH, type Hash } from "./hash.js";
import { Status } from "./isa.js";
import { Machine } from "./machine.js";
import { MerkleTree } from "./merkle.js";
import { absorbOutput, boundaryHash, controlState, stateHash, type BoundaryFields, type StateFields } from "./state.js";

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
  /** Boundary after the last segment (undefined when a segment trapped). */
  finalBoundary?: Hash;
  /** The state where the run stopped: halted after the last segment, or trapped. */
  finalState: StateFields;
  finalHash: Hash;
  output: Uint8Array;
  totalSteps: number;
  /** VM time over all segments, ms (no hashing). */
  ms: number;
}

export function traceModule(module: Uint8Array | DecodedModule, input: Uint8Array): TraceResult {
  const mod = module instanceof Uint8Array ? decodeModule(module) : module;
  const base = commitmentBase(mod, input);
  const m = new Machine(mod, input);
  const tree = new MerkleTree("memoryLeaf", "memoryNode", m.memory);
  const segments: SegmentRun[] = [];
  const fields = (segment: number): BoundaryFields => {
    tree.sync(m.memory);
    return {
      ...base, memoryRoot: tree.root(), memoryBytes: mod.memoryBytes, outputAcc: absorbOutput(ZERO_HASH, m.outputBytes()),
      outputChunks: m.outputChunks, segment,
    };
  };
  let ms = 0;
  for (const seg of mod.segments) {
    const boundary = boundaryHash(fields(seg.index));
    m.startSegment(seg.index);
    const started = performance.now();
    m.runUntil(Number.MAX_SAFE_INTEGER);
    const segMs = performance.now() - started;
    ms += segMs;
    segments.push({ index: seg.index, export: seg.export, steps: m.steps, ms: segMs, boundary });
    if (m.status !== Status.HALTED) break;
  }
  const last = fields(m.segment);
  const finalState: StateFields = { ...last, segment: m.segment, step: m.steps, status: m.status, pc: m.pc, ...controlState(m) };
  return {
    status: m.status, segments,
    finalBoundary: m.status === Status.HALTED ? boundaryHash({ ...last, segment: mod.segments.length }) : undefined,
    finalState, finalHash: stateHash(finalState), output: m.outputBytes(),
    totalSteps: segments.reduce((s, x) => s + x.steps, 0), ms,
  };
}
