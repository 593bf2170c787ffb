/**
 * The WASM fast path: load a compiled detml module, run it on Tensors, read the manifest.
 */
export { loadWasm, orderInputs, runWasm, WasmInputError, WasmRunner, WasmTrap, type WasmModel } from "./runtime.js";
export { VmRunner } from "./vm-runner.js";
export {
  ABI_VERSION, AbiError, CHUNK_BYTES, decodeManifest, packTensors, unpackTensors,
  type Manifest, type MemoryLayout, type OpSegment, type TensorSlot,
} from "./abi.js";
