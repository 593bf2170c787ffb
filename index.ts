/**
 * The detml package entry. The core (tensors, kernels, graph, .detml codec, reference executor)
 * is exported flat; each stage of the pipeline after it is a namespace, so their names never
 * collide: `onnx` and `tfjs` (converters), `compiler`, `runtimeWasm` (the fast path), `vm` (the
 * rollup VM and its proofs) and `verify` (comparison against the float frameworks).
 */
export * from "./lib/index.js";
export * as onnx from "./converter/onnx/index.js";
export * as tfjs from "./converter/tfjs/index.js";
export * as compiler from "./compiler/index.js";
export * as runtimeWasm from "./runtime-wasm/index.js";
export * as vm from "./vm/index.js";
export * as verify from "./verify/index.js";
export * as dispute from "./dispute/index.js";
