/**
 * A proving session over one (module, input) run: the object a dispute agent keeps. It runs the
 * module once in the VM (the JIT) for the op boundaries: the VM is the truth about its step
 * budget, its limits and its traps, so no other engine's verdict is taken. It keeps the memory
 * image at some boundaries (within a memory budget) to re-enter a segment quickly, traces a
 * segment again on demand keeping a machine snapshot every `snapshotEvery` steps (thinned out
 * when their memory copies would pass the budget), and answers "state hash at step N of segment
 * k" and "proof of step N of segment k" by restoring the nearest snapshot (or re-entering the
 * segment), running forward, and syncing one memory Merkle tree incrementally (only changed
 * leaves rehashed). A weights image (opts.weights) is taken as a known subtree of that tree
 * (vm/decode.ts memoryTree): its chunks are rebuilt only when a path needs them. A chained run
 * (opts.initialMemory) starts from its parent run's final memory instead of the initial memory.
 */
import { decodeModule, memoryTree, type DecodeOptions, type DecodedModule } from "./decode.js";
import { equalHash, toHex, ZERO_HASH, type Hash } from "./spec/hash.js";
import { Status } from "./spec/isa.js";
import { Machine, type MachineSnapshot } from "./machine.js";
import { MerkleTree } from "./merkle.js";
import { proveStep, currentState, type ProverContext, type StepProof } from "./prove.js";
import { codeTree, commitmentBase, inputTree, type CommitmentBase } from "./state.js";
import { absorbOutput, stateHash, type Boundary, type StateFields } from "./spec/commitments.js";
import { traceModule, type TraceResult } from "./trace.js";

/** Default memory the boundary images and in-segment snapshots of a session may take together. */
const SNAPSHOT_BYTES = 512 * 1024 * 1024;

export interface SessionOptions extends DecodeOptions {
  /** Steps between in-segment snapshots while tracing (0: none). */
  snapshotEvery?: number;
  /** Memory the boundary images and snapshots may take (default 512 MiB). */
  snapshotBytes?: number;
  /**
   * Memory to start from instead of the module's initial memory: a chained run starts from its
   * parent run's final memory (docs/vm-state.md section 5, chained runs).
   */
  initialMemory?: Uint8Array;
}

export interface SegmentTrace {
  steps: number;
  status: number;
  finalHash: Hash;
}

/** Memory and output at a boundary, to re-enter the run there. */
interface BoundaryImage {
  memory: Uint8Array;
  output: Uint8Array;
}

export class Session {
  readonly mod: DecodedModule;
  readonly base: CommitmentBase;
  /** The VM's run: boundaries, per-segment steps, trap, output. */
  readonly run: TraceResult;
  private readonly code: MerkleTree;
  private readonly inputTreeCache: MerkleTree;
  private readonly memory: MerkleTree;
  private readonly machine: Machine;
  private readonly snapshotEvery: number;
  private readonly snapshotBytes: number;
  private readonly images = new Map<number, BoundaryImage>();
  private readonly snapshots = new Map<number, MachineSnapshot[]>();
  private readonly traces = new Map<number, SegmentTrace>();
  private readonly startMemory: Uint8Array | undefined;

  constructor(readonly bytes: Uint8Array, readonly input: Uint8Array, opts: SessionOptions = {}) {
    this.mod = decodeModule(bytes, opts);
    this.code = codeTree(this.mod.program);
    this.machine = new Machine(this.mod, input, opts.initialMemory);
    this.startMemory = opts.initialMemory?.slice();
    this.inputTreeCache = inputTree(this.machine.input);
    this.base = commitmentBase(this.mod, this.machine.input);
    this.memory = memoryTree(this.mod, this.machine.memory);
    this.snapshotEvery = opts.snapshotEvery ?? 1 << 22;
    this.snapshotBytes = opts.snapshotBytes ?? SNAPSHOT_BYTES;
    // Keep every `stride`-th boundary image, using at most half of the budget.
    const perImage = this.mod.memoryBytes;
    const stride = perImage > this.snapshotBytes / 2 ? 0 : Math.ceil((perImage * (this.segmentCount + 1)) / (this.snapshotBytes / 2));
    this.run = traceModule(this.mod, input, {
      machine: this.machine, base: this.base, memoryTree: this.memory,
      onBoundary: (k, m) => {
        if (stride > 0 && k % stride === 0 && k < this.segmentCount) this.images.set(k, { memory: m.memory.slice(), output: m.outputBytes() });
      },
    });
  }

  get boundaries(): Boundary[] {
    return this.run.boundaries;
  }

  get segmentCount(): number {
    return this.mod.segments.length;
  }

  /** Put the machine at the start of segment k: from the nearest kept boundary image, running the segments between. */
  private enterSegment(k: number): void {
    if (!Number.isInteger(k) || k < 0 || k >= this.segmentCount) throw new Error(`segment ${k} does not exist (the module has ${this.segmentCount} segments, 0..${this.segmentCount - 1})`);
    const trap = this.run.trap;
    if (trap && k > trap.segment) throw new Error(`segment ${k} is never reached: segment ${trap.segment} traps (${trap.message})`);
    let from = k;
    while (from > 0 && !this.images.has(from)) from--;
    const m = this.machine;
    const image = this.images.get(from);
    if (image) {
      m.memory.set(image.memory);
      m.markAllWritten();
      m.setOutput(image.output);
    } else if (this.startMemory) {
      m.memory.set(this.startMemory);
      m.markAllWritten();
      m.setOutput(new Uint8Array(0));
    } else {
      m.resetMemory();
    }
    for (let j = from; j < k; j++) {
      m.startSegment(j);
      m.runUntil(Number.MAX_SAFE_INTEGER);
    }
    m.startSegment(k);
  }

  /** Run segment k in the VM again (once), keeping snapshots; checks it meets the run's next boundary. */
  traceSegment(k: number): SegmentTrace {
    const known = this.traces.get(k);
    if (known) return known;
    this.enterSegment(k);
    const m = this.machine;
    // Memory copies are bounded: past the limit keep every other snapshot and double the interval.
    const limit = Math.floor(this.snapshotBytes / 2 / (this.mod.memoryBytes * this.segmentCount));
    let snaps: MachineSnapshot[] = limit >= 1 ? [m.snapshot()] : [];
    let every = this.snapshotEvery > 0 && limit >= 2 ? this.snapshotEvery : Number.MAX_SAFE_INTEGER;
    while (m.status === Status.RUNNING) {
      m.runUntil(every === Number.MAX_SAFE_INTEGER ? every : m.steps + every);
      if (m.status !== Status.RUNNING) break;
      snaps.push(m.snapshot());
      if (snaps.length > limit) {
        snaps = snaps.filter((_, i) => i % 2 === 0);
        every *= 2;
      }
    }
    this.snapshots.set(k, snaps);
    const final = this.syncedState();
    const trace = { steps: m.steps, status: m.status, finalHash: stateHash(final) };
    this.traces.set(k, trace);
    const next = this.run.boundaries[k + 1];
    const consistent = m.status === Status.HALTED
      ? next !== undefined && equalHash(next.fields.memoryRoot, final.memoryRoot) && equalHash(next.fields.outputAcc, final.outputAcc)
      : next === undefined && this.run.trap?.segment === k;
    if (!consistent || trace.steps !== this.run.segments[k].steps) {
      throw new Error(`determinism failure: segment ${k} replayed in the VM ends in state ${toHex(trace.finalHash)} (${m.steps} steps), not as the session's run did`);
    }
    return trace;
  }

  /** Position the machine at step `step` of segment k (from the nearest snapshot, or the segment's start). */
  private seek(k: number, step: number): void {
    const trace = this.traceSegment(k);
    if (!Number.isInteger(step) || step < 0 || step > trace.steps) {
      throw new Error(`step ${step} is beyond the end of segment ${k} (${this.mod.segments[k].export}), which ${trace.status === Status.HALTED ? "halts" : "stops"} after ${trace.steps} steps (states 0..${trace.steps})`);
    }
    let best: MachineSnapshot | undefined;
    for (const s of this.snapshots.get(k)!) if (s.steps <= step) best = s;
    const m = this.machine;
    const from = best?.steps ?? 0;
    if (!(m.segment === k && m.steps <= step && m.steps >= from && (m.status === Status.RUNNING || m.steps === step))) {
      if (best) m.restore(best);
      else this.enterSegment(k);
    }
    m.runUntil(step);
  }

  /** The machine's state with the memory tree synced to it. */
  private syncedState(): StateFields {
    this.memory.sync(this.machine.memory, this.machine);
    return currentState(this.proverContext());
  }

  private proverContext(): ProverContext {
    const m = this.machine;
    return { machine: m, code: this.code, input: this.inputTreeCache, memory: this.memory, outputAcc: absorbOutput(ZERO_HASH, m.outputBytes()) };
  }

  /** State (fields and hash) after `step` steps of segment k. */
  stateAt(k: number, step: number): { fields: StateFields; hash: Hash } {
    this.seek(k, step);
    const fields = this.syncedState();
    return { fields, hash: stateHash(fields) };
  }

  /** Proof of the step from state `step` to state `step + 1` of segment k. */
  prove(k: number, step: number): StepProof {
    const trace = this.traceSegment(k);
    if (step >= trace.steps) throw new Error(`step ${step} is beyond the end of segment ${k} (${this.mod.segments[k].export}): it has ${trace.steps} steps, numbered 0..${trace.steps - 1}`);
    this.seek(k, step);
    this.memory.sync(this.machine.memory, this.machine);
    return proveStep(this.proverContext());
  }

  /** Steps of every segment the run executes (the last one traps when the run traps). */
  segmentSteps(): number[] {
    return this.run.segments.map((s) => s.steps);
  }

  /** Map a step number over the whole run to (segment, step within it). */
  locate(globalStep: number): { segment: number; step: number } {
    let rest = globalStep;
    const steps = this.segmentSteps();
    for (let k = 0; k < steps.length; k++) {
      if (rest < steps[k]) return { segment: k, step: rest };
      rest -= steps[k];
    }
    const total = steps.reduce((a, b) => a + b, 0);
    throw new Error(`step ${globalStep} is beyond the end of the run, which has ${total} steps (0..${total - 1})`);
  }
}
