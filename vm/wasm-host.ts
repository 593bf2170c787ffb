/**
 * The one JS WebAssembly host of a detml module: the module instantiated in the JS engine's own
 * WebAssembly with the two host calls of docs/abi.md (their argument rules from vm/spec/io.ts, so a
 * refused call traps exactly where the VM traps BAD_HOST_CALL), segment exports called by name,
 * and the memory and the output stream read back. The VM's op-boundary hashes (vm/fast.ts) and
 * the fast path's WasmRunner (runtime-wasm/) both run modules through it. `isModuleTrap` tells a
 * trap of the module (a WebAssembly trap or a refused host call) from a failure of the engine
 * itself (its call stack, its memory), which is never taken as the module's verdict.
 */
import { CHUNK_BYTES, HOST_MODULE, hostCallRefusal, padInput, READ_INPUT, WRITE_OUTPUT } from "./spec/io.js";

/** A host call with arguments docs/abi.md refuses: the module's trap (BAD_HOST_CALL in the VM). */
export class HostCallTrap extends Error {
  override name = "HostCallTrap";
}

/**
 * Whether an exception out of the engine is the module's own trap. A WebAssembly trap
 * (RuntimeError) or a refused host call is; anything else (a JS stack overflow, which the engine
 * reports as a RangeError, or running out of memory) is the engine's failure, not a verdict.
 */
export function isModuleTrap(err: unknown): boolean {
  return err instanceof WebAssembly.RuntimeError || err instanceof HostCallTrap;
}

/** A module instance in the JS engine with the ABI's host calls; `call(name)` runs one export. */
export class WasmHost {
  readonly memory: WebAssembly.Memory;
  private readonly instance: WebAssembly.Instance;
  private input: Uint8Array;
  private out = new Uint8Array(CHUNK_BYTES * 16);
  private outLength = 0;

  constructor(compiled: WebAssembly.Module, input: Uint8Array = new Uint8Array(0)) {
    this.input = padInput(input);
    const refuse = (why: string | undefined): void => {
      if (why) throw new HostCallTrap(why);
    };
    const host = {
      [READ_INPUT]: (chunk: number, dst: number): void => {
        const mem = this.memoryBytes();
        refuse(hostCallRefusal({ call: READ_INPUT, chunk, dst }, mem.length, this.input.length / CHUNK_BYTES));
        const at = (chunk >>> 0) * CHUNK_BYTES;
        mem.set(this.input.subarray(at, at + CHUNK_BYTES), dst >>> 0);
      },
      [WRITE_OUTPUT]: (src: number): void => {
        const mem = this.memoryBytes();
        refuse(hostCallRefusal({ call: WRITE_OUTPUT, src }, mem.length, 0));
        if (this.outLength + CHUNK_BYTES > this.out.length) {
          const grown = new Uint8Array(this.out.length * 2);
          grown.set(this.out);
          this.out = grown;
        }
        this.out.set(mem.subarray(src >>> 0, (src >>> 0) + CHUNK_BYTES), this.outLength);
        this.outLength += CHUNK_BYTES;
      },
    };
    this.instance = new WebAssembly.Instance(compiled, { [HOST_MODULE]: host });
    this.memory = this.instance.exports.memory as WebAssembly.Memory;
  }

  /** Compile module bytes for the engine (throws the engine's CompileError on malformed bytes). */
  static compile(bytes: Uint8Array): WebAssembly.Module {
    return new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  }

  /** Start a new run on the same instance: a new input stream, an empty output stream. */
  reset(input: Uint8Array): void {
    this.input = padInput(input);
    this.outLength = 0;
  }

  /** Run the export `name` (throws the engine's trap, or HostCallTrap). */
  call(name: string): void {
    (this.instance.exports[name] as () => void)();
  }

  /** The instance's linear memory (a live view; copy it to keep it). */
  memoryBytes(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  /** A copy of the output bytes written so far (whole chunks). */
  output(): Uint8Array {
    return this.out.slice(0, this.outLength);
  }
}
