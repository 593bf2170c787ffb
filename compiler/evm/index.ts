/**
 * The EVM target of the detml compiler (docs/evm.md): `compileEvm(graph)` lowers a graph to a
 * model contract plus data contracts holding its packed weights, bit-identical to the reference
 * executor; `writeEvmArtifact` writes the result for `detml compile --target evm`;
 * `flattenInputs` / `splitOutputs` map named tensors to and from the contract's int32[] ABI.
 */
export {
  compileEvm, flattenInputs, MIN_GAS_PER_MAC, modelAbi, overGasCap, splitOutputs, TX_GAS_CAP, writeEvmArtifact, type ContractArtifact, type EvmModelArtifact,
} from "./artifact.js";
export { INFER_SELECTOR, INFER_SIGNATURE, SUPPORTED_OPS, type EvmOptions } from "./lower.js";
