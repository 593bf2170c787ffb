/**
 * A proving session over one (module, input) run: the object a dispute agent keeps. It gets
 * the op boundaries from the fast path (the JS engine), traces a segment in the VM on demand
 * (checking that the VM reaches the same next boundary, and keeping a machine snapshot every
 * `snapshotEvery` steps, thinned out when their memory copies would pass SNAPSHOT_BYTES), and
 * answers "state hash at step N of segment k" and "proof of step N of segment k" by restoring
 * the nearest snapshot (or the segment's start), running forward, and syncing one memory Merkle
 * tree incrementally (only changed leaves rehashed).
 */
import { decodeModule, type DecodedModule } from "./decode.js";
import { Engine, fastBoundaries, type Boundary, type CommitmentBase, type FastRun } from "./fast.js";
import { equalHash, toHex, ZERO_HASH, type Hash } from "./hash.js";
import { Status, statusText } from "./isa.js";
import { Machine, type MachineSnapshot } from "./machine.js";
import { MerkleTree } from "./merkle.js";
import { proveStep, currentState, type ProverContext, type StepProof } from "./prove.js";
import { absorbOutput, codeTree, inputTree, stateHash, type StateFields } from "./state.js";

/** Default memory the in-segment snapshots of a session may take, over all segments. */
const SNAPSHOT_BYTES = 512 * 1024 * 1024;

export interface SessionOptions {
  /** Steps between in-segment snapshots while tracing (0: only segment starts). */
  snapshotEvery?: number;
  /** Memory the snapshots may take over all segments (default SNAPSHOT_BYTES). */
  snapshotBytes?: number;
}

export interface SegmentTrace {
  steps: number;
  status: number;
  finalHash: Hash;
}

export class Session {
  readonly mod: DecodedModule;
  readonly base: CommitmentBase;
  readonly fast: FastRun;
  private readonly compiled: WebAssembly.Module;
  private readonly code: MerkleTree;
  private readonly inputTreeCache: MerkleTree;
  private readonly memory: MerkleTree;
  private readonly machine: Machine;
  private readonly snapshotEvery: number;
  private readonly snapshotBytes: number;
  private readonly snapshots = new Map<number, MachineSnapshot[]>();
  private readonly traces = new Map<number, SegmentTrace>();

  constructor(readonly bytes: Uint8Array, readonly input: Uint8Array, opts: SessionOptions = {}) {
    this.mod = decodeModule(bytes);
    this.compiled = Engine.compile(bytes);
    this.code = codeTree(this.mod.program);
    this.machine = new Machine(this.mod, input);
    this.inputTreeCache = inputTree(this.machine.input);
    this.base = { codeRoot: this.code.root(), codeSize: this.mod.program.length, inputRoot: this.inputTreeCache.root(), inputChunks: this.machine.inputChunks };
    this.memory = new MerkleTree("memoryLeaf", "memoryNode", this.machine.memory);
    this.fast = fastBoundaries(bytes, input, { mod: this.mod, base: this.base, compiled: this.compiled, memoryTree: this.memory });
    this.snapshotEvery = opts.snapshotEvery ?? 1 << 22;
    this.snapshotBytes = opts.snapshotBytes ?? SNAPSHOT_BYTES;
  }

  get boundaries(): Boundary[] {
    return this.fast.boundaries;
  }

  get segmentCount(): number {
    return this.mod.segments.length;
  }

  /** Put the machine at the start of segment k, from the engine's memory at boundary k. */
  private enterSegment(k: number): void {
    if (k < 0 || k >= this.segmentCount) throw new Error(`segment ${k} does not exist (the module has ${this.segmentCount} segments, 0..${this.segmentCount - 1})`);
    if (k >= this.fast.boundaries.length) throw new Error(`segment ${k} is never reached: segment ${this.fast.trap?.segment} traps (${this.fast.trap?.message})`);
    const engine = new Engine(this.compiled, this.mod, this.input);
    for (let j = 0; j < k; j++) engine.call(j);
    this.machine.memory.set(engine.memoryBytes());
    this.machine.setOutput(engine.output());
    this.machine.startSegment(k);
  }

  /** Run segment k in the VM (once), keeping snapshots; checks the VM meets the engine's next boundary. */
  traceSegment(k: number): SegmentTrace {
    const known = this.traces.get(k);
    if (known) return known;
    this.enterSegment(k);
    const m = this.machine;
    let snaps: MachineSnapshot[] = [m.snapshot()];
    let every = this.snapshotEvery > 0 ? this.snapshotEvery : Number.MAX_SAFE_INTEGER;
    // Memory copies are bounded: past the limit keep every other snapshot and double the interval.
    const limit = Math.max(2, Math.floor(this.snapshotBytes / (this.mod.memoryBytes * this.segmentCount)));
    while (m.status === Status.RUNNING) {
      m.runUntil(m.steps + every);
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
    const next = this.fast.boundaries[k + 1];
    if (m.status === Status.HALTED) {
      if (!next) throw new Error(`segment ${k} halts in the VM but traps in the JS engine (${this.fast.trap?.message})`);
      if (!equalHash(next.fields.memoryRoot, final.memoryRoot) || !equalHash(next.fields.outputAcc, final.outputAcc)) {
        throw new Error(`determinism failure: after segment ${k} the VM's memory root ${toHex(final.memoryRoot)} differs from the JS engine's ${toHex(next.fields.memoryRoot)}`);
      }
    } else if (next) {
      throw new Error(`segment ${k} ${statusText(m.status)} in the VM at step ${m.steps - 1} but runs to completion in the JS engine`);
    }
    return trace;
  }

  /** Position the machine at step `step` of segment k (from the nearest snapshot). */
  private seek(k: number, step: number): void {
    const trace = this.traceSegment(k);
    if (!Number.isInteger(step) || step < 0 || step > trace.steps) {
      throw new Error(`step ${step} is beyond the end of segment ${k} (${this.mod.segments[k].export}), which ${trace.status === Status.HALTED ? "halts" : "stops"} after ${trace.steps} steps (states 0..${trace.steps})`);
    }
    const snaps = this.snapshots.get(k)!;
    let best = snaps[0];
    for (const s of snaps) if (s.steps <= step) best = s;
    const m = this.machine;
    if (!(m.segment === k && m.steps <= step && m.steps >= best.steps)) m.restore(best);
    m.runUntil(step);
  }

  /** The machine's state with the memory tree synced to it. */
  private syncedState(): StateFields {
    this.memory.sync(this.machine.memory);
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
    this.memory.sync(this.machine.memory);
    return proveStep(this.proverContext());
  }

  /** Steps of every segment (tracing each one in the VM). */
  segmentSteps(): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.fast.boundaries.length && k < this.segmentCount; k++) {
      const t = this.traceSegment(k);
      out.push(t.steps);
      if (t.status !== Status.HALTED) break;
    }
    return out;
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
