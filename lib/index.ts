/**
 * The flat part of detml's public API: what a user of the tensor/ops/graph/executor library needs
 * (README "Library"). Tensors and the fixed-point rules of the contract, .npy files, the op
 * kernels (`ops`) and the op contract, the graph IR with its builder, validator and .detml codec,
 * the reference executor, and loading model and input files. Helpers that other stages share
 * (BigInt variants of the rounding rules, broadcasting index tables, batch splitting, input
 * ordering) are internal: import them by path inside the repository. test/structure/api-surface
 * holds the list of every exported name, so a change here is a reviewed change.
 */
export { Tensor, type DType } from "./tensor/tensor.js";
export type { Shape } from "./tensor/shape.js";
export { DEFAULT_FRAC, chooseFrac, dequantize, divRound, narrow, quantize, rescale, roundShift, saturate } from "./tensor/fixed.js";
export { readNpy, writeNpy, npyToTensor, NpyError, type NpyArray, type NpyDtype } from "./tensor/npy.js";
export * as ops from "./ops/kernels.js";
export { ALL_OPS, opDef, hasOp, type OpDef, type TensorType, type Attrs, type AttrValue } from "./ops/index.js";
export type { Graph, Node, ValueInfo } from "./graph/ir.js";
export { GraphBuilder } from "./graph/builder.js";
export { inferTypes, GraphError } from "./graph/validate.js";
export { encodeGraph, decodeGraph, sourceHash, FormatError, FORMAT_VERSION } from "./graph/codec.js";
export { graphStats, type GraphStats } from "./graph/stats.js";
export { run, InputError, type RunOptions, type RunResult } from "./executor.js";
export { runBatch, argmaxRows } from "./batch.js";
export { loadModel, readInputs, type LoadedModel } from "./model-files.js";
