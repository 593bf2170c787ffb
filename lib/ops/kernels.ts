/**
 * The functional kernels for library users, one namespace: `ops.conv(x, w, b, attrs)`. Each takes
 * Tensors (plus optional attributes and the output frac) and returns new Tensors; each is the same
 * code the reference executor runs for the op of that name.
 */
export { relu } from "./relu.js";
export { matmul } from "./matmul.js";
export { gemm } from "./gemm.js";
export { conv } from "./conv.js";
export { convTranspose } from "./conv-transpose.js";
export { maxPool, averagePool, globalMaxPool, globalAveragePool } from "./pool.js";
export { add, sub, mul, max, min } from "./binary.js";
export { mod } from "./mod.js";
export { neg, abs, leakyRelu, prelu, clip, hardSigmoid } from "./unary-arith.js";
export { equal, less, greater, where } from "./compare.js";
export { reduceSum, reduceMean, reduceMax, reduceMin } from "./reduce.js";
export { argMax } from "./argmax.js";
export { topK } from "./topk.js";
export { reshape, flatten, squeeze, unsqueeze } from "./reshape.js";
export { transpose } from "./transpose.js";
export { concat, split } from "./concat-split.js";
export { slice } from "./slice.js";
export { gather } from "./gather.js";
export { gatherND } from "./gather-nd.js";
export { expand, tile } from "./expand-tile.js";
export { pad } from "./pad.js";
export { resize } from "./resize.js";
export { resizeCubic } from "./resize-cubic.js";
export { div } from "./div.js";
export { exp, log, sqrt, reciprocal, sigmoid, tanh, erf, gelu, elu, pow } from "./unary-math.js";
export { softmax, logSoftmax } from "./softmax.js";
export { layerNormalization, batchNormalization } from "./normalization.js";
export { sin, cos, tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh } from "./trig.js";
export { quantizeLinear, dequantizeLinear, matMulInteger, convInteger } from "./quantize.js";
export { bitShift } from "./bitshift.js";
export { dynamicQuantizeLinear } from "./dynamic-quantize.js";
