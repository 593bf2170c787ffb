/**
 * The ONNX op registry: op_type -> handler that emits detml IR. Most lines map an ONNX op to
 * the IR op of the same name with its attributes copied by the IR schema (`direct`), giving the
 * ONNX default where the IR's could differ; handlers.ts holds the rest. An op_type missing here
 * is unsupported: the converter lists every such node in one error before translating anything.
 */
import { argMin, depthSpace, hardSwish, instanceNormalization, reduceComposite } from "./composite.js";
import { SHARED_COMPOSITE_OPS } from "./composite-shared.js";
import { einsum } from "./einsum.js";
import { constantOfShape, eyeLike, range, tensorPow } from "./tooling.js";
import { ifHandler, loop, scan } from "./control-flow.js";
import { convInteger, dequantizeLinear, dynamicQuantizeLinear, matMulInteger, qlinearConv, qlinearMatMul, quantizeLinear } from "./quantized.js";
import { bitShift } from "./bitwise.js";
import { det } from "./determinant.js";
import { cosineWindow, dft, melWeightMatrix, stft } from "./spectral.js";
import { withIndices } from "./pool-indices.js";
import { recurrent } from "./recurrent.js";
import { averagePool3d, conv3d, convTranspose3d, maxPool3d, volumetric } from "./volumetric.js";
import { layerNormalization, negativeLogLikelihoodLoss, softmaxCrossEntropyLoss } from "./losses.js";
import { compress, maxUnpool, reverseSequence, scatterElements, scatterND } from "./indexing.js";
import { gridSample, resize as resizeAnyMode, roiAlign } from "./vision.js";
import {
  argMax, axesOp, batchNormalization, binary, cast, clip, constant, direct, dropout,
  identity, maxPool, pad, prelu, reduce, reshape, shape, shapeInput, size,
  slice, softmax, split, topK, upsample, type Handler,
} from "./handlers.js";

export const ONNX_OPS: Readonly<Record<string, Handler>> = {
  // elementwise
  Relu: direct("Relu"),
  Neg: direct("Neg"),
  Abs: direct("Abs"),
  Sigmoid: direct("Sigmoid"),
  Tanh: direct("Tanh"),
  Exp: direct("Exp"),
  Log: direct("Log"),
  Sqrt: direct("Sqrt"),
  Reciprocal: direct("Reciprocal"),
  Erf: direct("Erf"),
  // trigonometric and hyperbolic functions (lib/ops/trig.ts)
  Sin: direct("Sin"),
  Cos: direct("Cos"),
  Tan: direct("Tan"),
  Asin: direct("Asin"),
  Acos: direct("Acos"),
  Atan: direct("Atan"),
  Sinh: direct("Sinh"),
  Cosh: direct("Cosh"),
  Asinh: direct("Asinh"),
  Acosh: direct("Acosh"),
  Atanh: direct("Atanh"),
  LeakyRelu: direct("LeakyRelu", { alpha: 0.01 }),
  Elu: direct("Elu", { alpha: 1 }),
  HardSigmoid: direct("HardSigmoid", { alpha: 0.2, beta: 0.5 }),
  HardSwish: hardSwish,
  Gelu: direct("Gelu"),
  PRelu: prelu,
  Clip: clip,
  Add: binary("Add"),
  Sub: binary("Sub"),
  Mul: binary("Mul"),
  Div: binary("Div"),
  Mod: direct("Mod"),
  Pow: tensorPow,
  Min: direct("Min"),
  Max: direct("Max"),
  Equal: binary("Equal"),
  Less: binary("Less"),
  Greater: binary("Greater"),
  BitShift: bitShift, // unsigned shifts, the width from X's element type (bitwise.ts)
  Where: direct("Where"),
  Softmax: softmax("Softmax"),
  LogSoftmax: softmax("LogSoftmax"),
  // linear algebra and neural-network layers
  MatMul: direct("MatMul"),
  Gemm: direct("Gemm", { alpha: 1, beta: 1 }, ["broadcast"]),
  // 3-D forms lowered onto the 2-D ops, depth unfolded into channels (volumetric.ts)
  Conv: volumetric(direct("Conv"), conv3d),
  ConvTranspose: volumetric(direct("ConvTranspose"), convTranspose3d),
  MaxPool: withIndices(volumetric(maxPool, maxPool3d)), // Indices by a Gather of the window taps (pool-indices.ts)
  AveragePool: volumetric(direct("AveragePool"), averagePool3d),
  GlobalAveragePool: direct("GlobalAveragePool"),
  GlobalMaxPool: direct("GlobalMaxPool"),
  BatchNormalization: batchNormalization,
  LayerNormalization: layerNormalization, // with its Mean and InvStdDev outputs (losses.ts)
  InstanceNormalization: instanceNormalization,
  // reductions
  ReduceMean: reduce("ReduceMean", 18),
  ReduceSum: reduce("ReduceSum", 13),
  ReduceMax: reduce("ReduceMax", 18),
  ReduceMin: reduce("ReduceMin", 18),
  ReduceL1: reduceComposite("ReduceL1"),
  ReduceL2: reduceComposite("ReduceL2"),
  ReduceSumSquare: reduceComposite("ReduceSumSquare"),
  ReduceLogSum: reduceComposite("ReduceLogSum"),
  ReduceLogSumExp: reduceComposite("ReduceLogSumExp"),
  ArgMax: argMax,
  ArgMin: argMin,
  TopK: topK,
  // shapes and data movement
  Reshape: reshape,
  Flatten: direct("Flatten", { axis: 1 }),
  Transpose: direct("Transpose"),
  Squeeze: axesOp("Squeeze"),
  Unsqueeze: axesOp("Unsqueeze"),
  Concat: direct("Concat"),
  Split: split,
  Slice: slice,
  Gather: direct("Gather", { axis: 0 }),
  GatherND: direct("GatherND"),
  Expand: shapeInput("Expand", "shape"),
  Tile: shapeInput("Tile", "repeats"),
  Pad: pad,
  DepthToSpace: depthSpace("DepthToSpace"),
  SpaceToDepth: depthSpace("SpaceToDepth"),
  Resize: resizeAnyMode, // cubic and scales without whole sizes in vision.ts, the rest in handlers.ts
  GridSample: gridSample, // an interpolation matrix built by one-hot masks, then MatMul (vision.ts)
  RoiAlign: roiAlign, // the same, per box, then ReduceMean per bin (vision.ts)
  Upsample: upsample,
  // no-ops and values known at conversion time
  Identity: identity,
  Dropout: dropout,
  Cast: cast(false),
  CastLike: cast(true),
  Shape: shape,
  Size: size,
  Constant: constant,
  ConstantOfShape: constantOfShape,
  Range: range,
  EyeLike: eyeLike,
  // Einsum as Transpose/Reshape/ReduceSum/Slice and one batched MatMul (einsum.ts)
  Einsum: einsum,
  // DFT and STFT as one MatMul with a constant cos/sin table, windows and mel weights as constants
  // (spectral.ts); Det by Laplace expansion (determinant.ts)
  DFT: dft,
  STFT: stft,
  HannWindow: cosineWindow("HannWindow"),
  HammingWindow: cosineWindow("HammingWindow"),
  BlackmanWindow: cosineWindow("BlackmanWindow"),
  MelWeightMatrix: melWeightMatrix,
  Det: det,
  // quantized models: scales folded into integer multipliers (quantized.ts)
  QuantizeLinear: quantizeLinear,
  DequantizeLinear: dequantizeLinear,
  DynamicQuantizeLinear: dynamicQuantizeLinear,
  QLinearMatMul: qlinearMatMul,
  QLinearConv: qlinearConv,
  MatMulInteger: matMulInteger,
  ConvInteger: convInteger,
  // recurrent layers, unrolled over the static sequence length (recurrent.ts)
  LSTM: recurrent("LSTM"),
  GRU: recurrent("GRU"),
  RNN: recurrent("RNN"),
  // control flow with bodies inlined: If, unrolled Loop and Scan (control-flow.ts)
  If: ifHandler,
  Loop: loop,
  Scan: scan,
  // losses of evaluation graphs, one-hot selections of the labels (losses.ts)
  NegativeLogLikelihoodLoss: negativeLogLikelihoodLoss,
  SoftmaxCrossEntropyLoss: softmaxCrossEntropyLoss,
  // scatters and other indexing by one-hot masks (indexing.ts)
  ScatterND: scatterND,
  ScatterElements: scatterElements,
  Scatter: scatterElements,
  MaxUnpool: maxUnpool,
  ReverseSequence: reverseSequence,
  Compress: compress,
  // compositions of IR ops shared with the TF.js front end (converter/common/composite-*.ts)
  ...SHARED_COMPOSITE_OPS,
};

export function isSupported(opType: string): boolean {
  return Object.hasOwn(ONNX_OPS, opType);
}
