/**
 * Running a compiled detml module in the rollup VM's interpreter instead of the JS engine: the
 * same ABI (abi/: inputs packed into 32-byte chunks, outputs read from the output accumulator's
 * bytes), so `detml run --engine vm` and `detml verify --engine vm` can check that the machine
 * the dispute game argues about computes the same bytes as the fast path and the reference.
 * The weights image, when the module has one, comes from `loadWasm` (beside `source`, or given).
 * Like a WasmRunner, a VmRunner of a module with state tensors starts each run from the previous
 * run's final memory (which holds the state), as the chained claims of dispute/chained.ts do.
 */
import { describeSegment, loadWasm, type LoadOptions, type Manifest } from "../abi/manifest.js";
import { packInputs, unpackOutputs } from "../abi/tensors.js";
import type { NamedTensors } from "../lib/inputs.js";
import type { Tensor } from "../lib/tensor/tensor.js";
import { decodeModule, Machine, Status, statusText } from "../vm/index.js";
import { WasmTrap } from "./runtime.js";

export class VmRunner {
  readonly manifest: Manifest;
  private readonly decoded: ReturnType<typeof decodeModule>;
  /** The last run's final memory, kept only for a module with state (undefined: the initial memory). */
  private memory: Uint8Array | undefined;

  constructor(wasm: Uint8Array, source = "module", opts: LoadOptions = {}) {
    const model = loadWasm(wasm, source, opts);
    this.manifest = model.manifest;
    this.decoded = decodeModule(wasm, { weights: model.weights });
  }

  /** Start the next run from the initial memory (zero state): a new sequence of runs. */
  resetState(): void {
    this.memory = undefined;
  }

  /** Run every segment in the VM; outputs by name. A trap is a WasmTrap naming the segment and its op. */
  run(inputs: NamedTensors): Map<string, Tensor> {
    const machine = new Machine(this.decoded, packInputs(this.manifest.inputs, inputs), this.memory);
    const result = machine.runAll();
    if (result.status !== Status.HALTED) {
      const segment = result.segmentSteps.length - 1;
      throw new WasmTrap(`the VM stopped in segment ${segment}, ${describeSegment(this.manifest, segment)}: ${statusText(result.status)}`, segment);
    }
    if (this.manifest.state) this.memory = machine.memory;
    return unpackOutputs(this.manifest.outputs, machine.outputBytes());
  }
}
