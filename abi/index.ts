/**
 * The detml module ABI (docs/abi.md): the manifest and checks of a compiled module
 * (abi/manifest.ts) and the packing of tensors into its I/O byte streams (abi/tensors.ts). Sits
 * above the VM's I/O contract (vm/spec/io.ts) and below the compiler and both runtimes.
 */
export {
  ABI_VERSION, AbiError, CUSTOM_SECTION, LOAD_INPUTS, RUN, STORE_OUTPUTS, checkModelId, compileWasm, decodeManifest, describeSegment, encodeManifest,
  loadWasm, opExport, withManifest, type Manifest, type MemoryLayout, type OpSegment, type TensorSlot, type WasmModel,
} from "./manifest.js";
export { packInputs, packTensors, unpackOutputs, unpackTensors } from "./tensors.js";
