/**
 * Running a compiled detml module in the rollup VM's interpreter instead of the JS engine: the
 * same ABI (inputs packed into 32-byte chunks, outputs read from the output accumulator's bytes),
 * so `detml run --engine vm` and `detml verify --engine vm` can check that the machine the
 * dispute game argues about computes the same bytes as the fast path and the reference.
 */
import type { Tensor } from "../lib/tensor/tensor.js";
import { decodeModule, Machine, Status, statusText } from "../vm/index.js";
import { packTensors, unpackTensors, type Manifest } from "./abi.js";
import { loadWasm, orderInputs, WasmTrap } from "./runtime.js";

export class VmRunner {
  readonly manifest: Manifest;
  private readonly decoded: ReturnType<typeof decodeModule>;

  constructor(wasm: Uint8Array, source = "module") {
    this.manifest = loadWasm(wasm, source).manifest;
    this.decoded = decodeModule(wasm);
  }

  /** Run every segment in the VM; outputs by name. A trap is a WasmTrap naming the segment. */
  run(inputs: Map<string, Tensor> | Record<string, Tensor>): Map<string, Tensor> {
    const input = packTensors(this.manifest.inputs, orderInputs(this.manifest.inputs, inputs));
    const machine = new Machine(this.decoded, input);
    const result = machine.runAll();
    if (result.status !== Status.HALTED) {
      throw new WasmTrap(`the VM stopped in segment ${result.segmentSteps.length - 1}: ${statusText(result.status)}`);
    }
    const tensors = unpackTensors(this.manifest.outputs, machine.outputBytes());
    return new Map(this.manifest.outputs.map((s, i) => [s.name, tensors[i]]));
  }
}
