/**
 * The VM's machine state and its run API. Values live in two int32 slot arrays (lo and hi
 * halves; an i32 value has hi = 0), shared by all frames: a frame's locals start at `fp`, its
 * operand values follow them up to `sp`. Caller frames are kept in small arrays (return pc,
 * caller fp, caller local count). Memory is one Uint8Array of the module's fixed size.
 * A run is a sequence of segments; each starts from the canonical state (pc at the segment's
 * stub, empty stack, no frames, step 0) and ends halted when the segment function returns, so
 * only memory and the I/O state carry over. The instruction loop is in vm/interpreter.ts; long
 * runs go through the JIT of vm/jit.ts, which reaches exactly the same states. The machine is
 * the write log of its memory (vm/merkle.ts `WriteLog`): the interpreter and the JIT stamp the
 * 2 KiB chunk of every store and read_input, and the methods here that replace memory stamp it
 * all, so a memory tree synced at each boundary reads only the chunks written since the last
 * one. Code that writes `memory` directly must call `markAllWritten`.
 */
import { initialMemory, type DecodedModule } from "./decode.js";
import { execute } from "./interpreter.js";
import { runJit } from "./jit.js";
import { WRITE_CHUNK_SHIFT, type WriteLog } from "./merkle.js";
import { Status, type Program } from "./spec/isa.js";
import { CHUNK_BYTES, padInput } from "./spec/io.js";
import { MAX_CALL_DEPTH, MAX_STACK_SLOTS } from "./spec/limits.js";

/** Everything needed to resume a machine exactly (memory copied). */
export interface MachineSnapshot {
  segment: number;
  steps: number;
  status: number;
  pc: number;
  sp: number;
  fp: number;
  nLocals: number;
  depth: number;
  lo: Int32Array;
  hi: Int32Array;
  fRet: Int32Array;
  fFp: Int32Array;
  fLocals: Int32Array;
  memory: Uint8Array;
  output: Uint8Array;
}

export interface RunResult {
  status: number;
  /** Steps of each segment that ran (the last one is the failing one when status is a trap). */
  segmentSteps: number[];
  totalSteps: number;
}

export class Machine implements WriteLog {
  readonly program: Program;
  readonly memory: Uint8Array;
  readonly view: DataView;
  readonly memoryBytes: number;
  /** Write stamps: the epoch of the last write to each 2 KiB chunk of memory (WriteLog). */
  readonly stamps: Uint32Array;
  epoch = 1;
  readonly lo = new Int32Array(MAX_STACK_SLOTS);
  readonly hi = new Int32Array(MAX_STACK_SLOTS);
  readonly fRet = new Int32Array(MAX_CALL_DEPTH);
  readonly fFp = new Int32Array(MAX_CALL_DEPTH);
  readonly fLocals = new Int32Array(MAX_CALL_DEPTH);
  pc = 0;
  sp = 0;
  fp = 0;
  nLocals = 0;
  depth = 0;
  /** Steps executed in the current segment. */
  steps = 0;
  status: number = Status.HALTED;
  segment = -1;
  readonly input: Uint8Array;
  readonly inputChunks: number;
  private out = new Uint8Array(1024);
  outputChunks = 0;
  /** Run long stretches through the JIT (vm/jit.ts); false: the interpreter alone. Same states either way. */
  jit = true;
  /** Registers of the JIT: step budget left, and a returning function's result. */
  budget = 0;
  retLo = 0;
  retHi = 0;

  constructor(readonly module: DecodedModule, input: Uint8Array, memory?: Uint8Array) {
    this.program = module.program;
    this.memoryBytes = module.memoryBytes;
    if (memory && memory.length !== module.memoryBytes) throw new Error(`memory image of ${memory.length} bytes for a ${module.memoryBytes}-byte memory`);
    this.memory = memory ? memory.slice() : initialMemory(module);
    this.view = new DataView(this.memory.buffer);
    this.stamps = new Uint32Array(Math.ceil(this.memoryBytes / 2 ** WRITE_CHUNK_SHIFT)); // a new log: a tree reads all of memory at its first sync with it
    this.input = padInput(input);
    this.inputChunks = this.input.length / CHUNK_BYTES;
  }

  /** Put memory back to the module's initial image and forget the output (without a second image in memory). */
  resetMemory(): void {
    this.memory.fill(0);
    for (const d of this.module.data) this.memory.set(d.bytes, d.offset);
    this.markAllWritten();
    this.setOutput(new Uint8Array(0));
  }

  /** Stamp every chunk of memory as written (after writing memory other than by running the machine). */
  markAllWritten(): void {
    this.stamps.fill(this.epoch);
  }

  /** Enter segment k from its canonical start state (memory and outputs are kept). */
  startSegment(k: number): void {
    const seg = this.module.segments[k];
    if (!seg) throw new Error(`segment ${k} does not exist (the module has ${this.module.segments.length})`);
    this.segment = k;
    this.pc = seg.entryPc;
    this.sp = this.fp = this.nLocals = this.depth = this.steps = 0;
    this.status = Status.RUNNING;
  }

  /**
   * Run until `stepLimit` steps of the current segment are done or the machine stops. A running
   * segment that has executed the module's step budget traps STEP_LIMIT on its next step.
   */
  runUntil(stepLimit: number): number {
    const budget = this.module.stepBudget;
    const limit = Math.min(stepLimit, budget);
    if (this.status === Status.RUNNING && this.steps < limit) {
      if (this.jit) runJit(this, limit);
      else execute(this, limit);
    }
    if (this.status === Status.RUNNING && this.steps >= budget && stepLimit > this.steps) {
      this.steps += 1;
      this.status = Status.STEP_LIMIT;
    }
    return this.status;
  }

  /** Execute exactly one instruction (when running). */
  step(): number {
    return this.runUntil(this.steps + 1);
  }

  /** Run every segment in order from the current memory; stops at the first trap. */
  runAll(stepLimitPerSegment = Number.MAX_SAFE_INTEGER): RunResult {
    const segmentSteps: number[] = [];
    for (let k = 0; k < this.module.segments.length; k++) {
      this.startSegment(k);
      this.runUntil(stepLimitPerSegment);
      segmentSteps.push(this.steps);
      if (this.status !== Status.HALTED) break;
    }
    return { status: this.status, segmentSteps, totalSteps: segmentSteps.reduce((a, b) => a + b, 0) };
  }

  /** Called by the interpreter for write_output: absorb memory[src, src+32). */
  appendOutput(src: number): void {
    const need = (this.outputChunks + 1) * CHUNK_BYTES;
    if (need > this.out.length) {
      const grown = new Uint8Array(Math.max(need, this.out.length * 2));
      grown.set(this.out);
      this.out = grown;
    }
    this.out.set(this.memory.subarray(src, src + CHUNK_BYTES), this.outputChunks * CHUNK_BYTES);
    this.outputChunks++;
  }

  /** The output bytes written so far. */
  outputBytes(): Uint8Array {
    return this.out.slice(0, this.outputChunks * CHUNK_BYTES);
  }

  /** Replace the output written so far (when resuming from a fast-path boundary). */
  setOutput(bytes: Uint8Array): void {
    if (bytes.length % CHUNK_BYTES !== 0) throw new Error("output bytes must be whole 32-byte chunks");
    this.out = new Uint8Array(Math.max(1024, bytes.length * 2));
    this.out.set(bytes);
    this.outputChunks = bytes.length / CHUNK_BYTES;
  }

  snapshot(): MachineSnapshot {
    return {
      segment: this.segment, steps: this.steps, status: this.status, pc: this.pc, sp: this.sp, fp: this.fp,
      nLocals: this.nLocals, depth: this.depth, lo: this.lo.slice(0, this.sp), hi: this.hi.slice(0, this.sp),
      fRet: this.fRet.slice(0, this.depth), fFp: this.fFp.slice(0, this.depth), fLocals: this.fLocals.slice(0, this.depth),
      memory: this.memory.slice(), output: this.outputBytes(),
    };
  }

  /** Resume from a snapshot taken on a machine of the same module and input. */
  restore(s: MachineSnapshot): void {
    Object.assign(this, { segment: s.segment, steps: s.steps, status: s.status, pc: s.pc, sp: s.sp, fp: s.fp, nLocals: s.nLocals, depth: s.depth });
    this.setOutput(s.output);
    this.lo.set(s.lo);
    this.hi.set(s.hi);
    this.fRet.set(s.fRet);
    this.fFp.set(s.fFp);
    this.fLocals.set(s.fLocals);
    this.memory.set(s.memory);
    this.markAllWritten();
  }
}
