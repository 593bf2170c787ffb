/**
 * The public API of detml: fixed-point tensors, op kernels, the graph IR with its builder and
 * .detml codec, and the reference executor. Converters, the compiler and the VM join here as
 * they land.
 */
export * from "./tensor/index.js";
export * as ops from "./ops/kernels.js";
export { ALL_OPS, opDef, hasOp, ATTR_FRAC, type OpDef, type TensorType, type Attrs, type AttrValue } from "./ops/index.js";
export type { Graph, Node, ValueInfo } from "./graph/ir.js";
export { GraphBuilder } from "./graph/builder.js";
export { inferTypes, GraphError } from "./graph/validate.js";
export { encodeGraph, decodeGraph, sourceHash, FormatError, FORMAT_VERSION } from "./graph/codec.js";
export { graphStats, type GraphStats } from "./graph/stats.js";
export { run, prepareInputs, InputError, type RunOptions, type RunResult } from "./executor.js";
export { runBatch, argmaxRows } from "./batch.js";
export { loadModel, readInputs, inputFromNpy, batchSize, sampleAt, splitBatch, stackSamples, type InputShape, type LoadedModel } from "./model-files.js";
