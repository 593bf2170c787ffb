/**
 * The WASM fast path: load a compiled detml module, run it on Tensors in the JS engine or in the
 * rollup VM. The ABI it reads (manifest, packing) is abi/'s, re-exported here for library users.
 */
export { runWasm, WasmRunner, WasmTrap } from "./runtime.js";
export { VmRunner } from "./vm-runner.js";
export {
  ABI_VERSION, AbiError, decodeManifest, loadWasm, packInputs, packTensors, unpackTensors,
  type Manifest, type MemoryLayout, type OpSegment, type TensorSlot, type WasmModel,
} from "../abi/index.js";
export { CHUNK_BYTES } from "../vm/spec/io.js";
export type { StateSlot } from "../abi/manifest.js";
