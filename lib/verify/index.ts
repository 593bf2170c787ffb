/**
 * Verification against the float model: oracles (ONNX Runtime; TF.js lives with its converter),
 * engines, inputs and the comparison report behind `detml verify`.
 */
export { OutputComparator, compareOutputs, argmaxRowsOf, type FloatTensor, type Tolerance, type OutputComparison } from "./compare.js";
export { referenceEngine, type Engine, type LoadedEngine } from "./engines.js";
export { randomSamples, samplesFromArrays, readNpyInputs, SeededRandom, type Sample, type IntRange } from "./inputs.js";
export { onnxRuntimeOracle, type FloatOracle, type OracleValue } from "./oracle.js";
export { verifyGraph, type VerifyReport, type VerifyOptions, type EngineReport } from "./verify.js";
