/**
 * The fast path: run a compiled detml module in the JS engine's own WebAssembly, through the one
 * JS host of a module (vm/wasm-host.ts, the host calls of docs/abi.md). `loadWasm` (abi/) checks
 * the module and reads its manifest; a WasmRunner packs named inputs into the input byte stream
 * (abi/ packInputs: the one input check of lib/inputs.ts), runs the segments and unpacks the
 * output stream into Tensors. It can also run segment by segment and hand the memory to a
 * callback at every op boundary (the checkpoints of the dispute game; differential tests compare
 * builds there). A module with a weights image gets the image copied into its memory at its
 * offset once, before any segment runs (the weights are never written, like data segments).
 * A module with state tensors (docs/abi.md, "State") keeps them in that memory: one runner is one
 * sequence of runs (a generation), each run reading the state the previous one left, and
 * `resetState` starts a new sequence.
 */
import { describeSegment, LOAD_INPUTS, loadWasm, STORE_OUTPUTS, type Manifest, type WasmModel } from "../abi/manifest.js";
import { packInputs, unpackOutputs } from "../abi/tensors.js";
import type { NamedTensors } from "../lib/inputs.js";
import type { Tensor } from "../lib/tensor/tensor.js";
import { isModuleTrap, WasmHost } from "../vm/wasm-host.js";

/** A trap while running a segment, naming the op (e.g. a Gather index out of range). */
export class WasmTrap extends Error {
  override name = "WasmTrap";
  constructor(message: string, readonly segment: number) {
    super(message);
  }
}

/**
 * A live instance of a compiled model; `run` may be called many times (every value is rewritten
 * each run, except the state buffers, which carry from one run to the next).
 */
export class WasmRunner {
  readonly manifest: Manifest;
  private readonly host: WasmHost;

  constructor(readonly model: WasmModel) {
    this.manifest = model.manifest;
    this.host = new WasmHost(model.module);
    if (model.weights) this.memory.set(model.weights.bytes, model.weights.offset);
  }

  /** The instance's linear memory (a live view; copy it to keep it). */
  get memory(): Uint8Array {
    return this.host.memoryBytes();
  }

  /** Zero the state buffers, as in the module's initial memory: the next run starts a new sequence. */
  resetState(): void {
    for (const s of this.manifest.state ?? []) this.memory.fill(0, s.offset, s.offset + s.bytes);
  }

  /**
   * Run on named inputs (the stream inputs: not the state inputs); outputs by name, in the model's output order. With `onBoundary`, every
   * segment runs as the ABI defines it and the callback sees the memory after each one. Without,
   * the input bytes are copied straight into the input region instead of through `load_inputs`'
   * 32-byte host calls: the same memory, fewer JS/WASM crossings.
   */
  run(inputs: NamedTensors, onBoundary?: (segment: number, memory: Uint8Array) => void): Map<string, Tensor> {
    const input = packInputs(this.manifest.inputs, inputs);
    this.host.reset(input);
    const ops = this.manifest.ops.map((o) => o.export);
    if (!onBoundary) this.memory.set(input, this.manifest.memory.input);
    const segments = onBoundary ? [LOAD_INPUTS, ...ops, STORE_OUTPUTS] : [...ops, STORE_OUTPUTS];
    const first = onBoundary ? 0 : 1;
    segments.forEach((name, i) => {
      const k = i + first;
      try {
        this.host.call(name);
      } catch (e) {
        const what = describeSegment(this.manifest, k);
        // The engine's own failure (its call stack, its memory) says nothing about the module.
        if (!isModuleTrap(e)) throw new Error(`the JS engine failed in ${what}: ${(e as Error).message} (not a trap of the module; the VM decides: --engine vm)`);
        throw new WasmTrap(`${what} trapped: ${(e as Error).message}`, k);
      }
      onBoundary?.(k, this.memory);
    });
    return unpackOutputs(this.manifest.outputs, this.host.output());
  }
}

/** Load bytes (and the weights image beside `source`, if the module has one) and run once: the one-call form of the library API. */
export function runWasm(bytes: Uint8Array, inputs: NamedTensors, source = "module"): Map<string, Tensor> {
  return new WasmRunner(loadWasm(bytes, source)).run(inputs);
}
