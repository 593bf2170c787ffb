/**
 * Verification: the one list of detml engines (reference, wasm, vm) and opening a model file on
 * one of them (verify/engines.ts, verify/runnable.ts), the driver that runs a float oracle and
 * the engines on the same samples (verify/verify.ts), and from lib/verify the comparison, the
 * inputs and the ONNX Runtime oracle (TF.js lives with its converter). Sits above the compiler
 * and both runtimes; nothing below imports it.
 */
export { OutputComparator, compareOutputs, type FloatTensor, type Tolerance, type OutputComparison } from "../lib/verify/compare.js";
export { randomSamples, samplesFromArrays, readNpyInputs, SeededRandom, type Sample, type IntRange } from "../lib/verify/inputs.js";
export { onnxRuntimeOracle, type FloatOracle, type OracleValue } from "../lib/verify/oracle.js";
export { ENGINES, canonicalWasmEngine, engineByName, referenceEngine, vmEngine, wasmEngine, type Engine, type EngineName, type LoadedEngine } from "./engines.js";
export { explainingTraps, openRunnable, signatureGraph, wasmSampleRunner, type RunnableModel } from "./runnable.js";
export { verifyGraph, type CanonicalCheck, type VerifyReport, type VerifyOptions, type EngineReport } from "./verify.js";
