/**
 * TensorFlow layer semantics in detml IR, shared by the graph-model and layers-model front ends:
 * NHWC convolutions (HWIO kernels, depthwise HW-C-multiplier kernels, Keras transposed-conv
 * kernels) and pools with TF's SAME/VALID/explicit padding, dense layers, batch and layer
 * normalization on any axis, and the Keras/TF activations. Each helper takes TF values (see
 * layout.ts), emits IR ops into the draft and returns a TF value; convolution outputs stay
 * channels-first until something needs the TF layout. Weight rearrangements are Transpose and
 * Reshape ops on constants, which the draft folds at conversion time.
 */
import { normAxis } from "../../lib/tensor/shape.js";
import { selu, softsign } from "../common/composite-math.js";
import { axisToOne, channelsFirst, type TfBuilder, type TfValue } from "./layout.js";

/** TF padding: "SAME", "VALID", or explicit [before, after] per spatial axis. */
export type Padding = "SAME" | "VALID" | [number, number][];

export interface WindowOptions {
  /** Per spatial axis. */
  strides: number[];
  dilations?: number[];
  padding: Padding;
}

/** ONNX pads [begins..., ends...] for TF padding of spatial sizes `input` with dilated kernels. */
export function tfPads(input: number[], kernel: number[], opts: WindowOptions): number[] {
  const rank = input.length;
  const dilations = opts.dilations ?? new Array<number>(rank).fill(1);
  if (opts.padding === "VALID") return new Array<number>(2 * rank).fill(0);
  if (Array.isArray(opts.padding)) return [...opts.padding.map((p) => p[0]), ...opts.padding.map((p) => p[1])];
  const pairs = input.map((size, i) => {
    const span = (kernel[i] - 1) * dilations[i] + 1;
    const out = Math.ceil(size / opts.strides[i]);
    const total = Math.max(0, (out - 1) * opts.strides[i] + span - size);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  });
  return [...pairs.map((p) => p[0]), ...pairs.map((p) => p[1])];
}

/** Conv on a channels-first view of `x` with an OIHW weight (draft name); returns channels-first. */
function convNchw(b: TfBuilder, x: TfValue, w: string, spatial: number[], group: number, bias: TfValue | undefined, opts: WindowOptions, name: string): TfValue {
  const rank = b.rank(x);
  const inputs = [b.in(x, channelsFirst(rank)), w, ...(bias ? [b.tf(bias)] : [])];
  const attrs = {
    kernel_shape: spatial,
    strides: opts.strides,
    dilations: opts.dilations ?? spatial.map(() => 1),
    pads: tfPads(b.shape(x).slice(1, -1), spatial, opts),
    group,
  };
  return b.value(b.op("Conv", inputs, attrs, name)[0], channelsFirst(rank));
}

function checkConvInput(b: TfBuilder, x: TfValue, kernel: TfValue): { shape: number[]; k: number[] } {
  const shape = b.shape(x);
  if (shape.length !== 3 && shape.length !== 4) throw new Error(`convolution input has rank ${shape.length}; detml supports [N,W,C] and [N,H,W,C]`);
  const k = b.shape(kernel);
  if (k.length !== shape.length) throw new Error(`kernel has rank ${k.length}, expected ${shape.length} for an input of rank ${shape.length}`);
  return { shape, k };
}

/**
 * Convolution of a channels-last input ([N, ..., C], 1 or 2 spatial axes) with a TF kernel
 * [...k, C/groups, M], plus an optional bias [M]. Grouped when C is a multiple of the kernel's
 * input channels (as in TF). Returns a channels-first value.
 */
export function conv(b: TfBuilder, x: TfValue, kernel: TfValue, bias: TfValue | undefined, opts: WindowOptions, name: string): TfValue {
  const { shape, k } = checkConvInput(b, x, kernel);
  const channels = shape[shape.length - 1];
  const perGroup = k[k.length - 2];
  if (channels % perGroup !== 0) throw new Error(`input has ${channels} channels, not a multiple of the kernel's ${perGroup} input channels`);
  const spatial = k.slice(0, -2);
  // HWIO -> OIHW (1-D: WIO -> OIW).
  const [w] = b.op("Transpose", [b.tf(kernel)], { perm: [k.length - 1, k.length - 2, ...spatial.map((_, i) => i)] }, `${name}/kernel`);
  return convNchw(b, x, w, spatial, channels / perGroup, bias, opts, name);
}

/**
 * Depthwise convolution: kernel [...k, C, multiplier]; output channel c*multiplier + m reads input
 * channel c (TF's order), which is ONNX's grouped Conv with group C and W [C*mult, 1, ...k].
 */
export function depthwiseConv(b: TfBuilder, x: TfValue, kernel: TfValue, bias: TfValue | undefined, opts: WindowOptions, name: string): TfValue {
  const { shape, k } = checkConvInput(b, x, kernel);
  const spatial = k.slice(0, -2);
  const [channels, multiplier] = k.slice(-2);
  if (shape[shape.length - 1] !== channels) throw new Error(`depthwise kernel is for ${channels} channels but the input has ${shape[shape.length - 1]}`);
  const [t] = b.op("Transpose", [b.tf(kernel)], { perm: [k.length - 2, k.length - 1, ...spatial.map((_, i) => i)] }, `${name}/kernel`);
  const [w] = b.op("Reshape", [t], { shape: [channels * multiplier, 1, ...spatial] }, `${name}/kernel`);
  return convNchw(b, x, w, spatial, channels, bias, opts, name);
}

/**
 * Keras Conv2DTranspose: kernel [kh, kw, M, C] on an NHWC input; output size in*stride for SAME,
 * (in-1)*stride + dilated kernel for VALID, as Keras computes it.
 */
export function convTranspose(b: TfBuilder, x: TfValue, kernel: TfValue, bias: TfValue | undefined, opts: WindowOptions, name: string): TfValue {
  const shape = b.shape(x);
  if (shape.length !== 4) throw new Error(`transposed convolution input has rank ${shape.length}, expected [N,H,W,C]`);
  if (Array.isArray(opts.padding)) throw new Error("explicit padding is not supported for transposed convolutions");
  const k = b.shape(kernel);
  const spatial = k.slice(0, 2);
  const dilations = opts.dilations ?? [1, 1];
  const pads: number[] = [];
  const outputPadding: number[] = [];
  spatial.forEach((kk, i) => {
    const span = (kk - 1) * dilations[i] + 1;
    const size = shape[1 + i];
    const s = opts.strides[i];
    const out = opts.padding === "SAME" ? size * s : (size - 1) * s + span;
    const total = opts.padding === "SAME" ? Math.max(span - s, 0) : 0;
    pads.push(Math.floor(total / 2));
    pads.push(total - Math.floor(total / 2));
    outputPadding.push(out - ((size - 1) * s + span - total));
  });
  const [w] = b.op("Transpose", [b.tf(kernel)], { perm: [3, 2, 0, 1] }, `${name}/kernel`);
  const inputs = [b.in(x, channelsFirst(4)), w, ...(bias ? [b.tf(bias)] : [])];
  const attrs = {
    kernel_shape: spatial,
    strides: opts.strides,
    dilations,
    pads: [pads[0], pads[2], pads[1], pads[3]],
    output_padding: outputPadding,
  };
  return b.value(b.op("ConvTranspose", inputs, attrs, name)[0], channelsFirst(4));
}

/** Max or average pooling of a channels-last input over its spatial axes (TF padding rules). */
export function pool(b: TfBuilder, x: TfValue, kind: "max" | "avg", ksize: number[], opts: WindowOptions, name: string): TfValue {
  const shape = b.shape(x);
  const rank = shape.length;
  if (rank !== 3 && rank !== 4) throw new Error(`pooling input has rank ${rank}; detml supports [N,W,C] and [N,H,W,C]`);
  const attrs = { kernel_shape: ksize, strides: opts.strides, pads: tfPads(shape.slice(1, -1), ksize, opts) };
  const op = kind === "max" ? "MaxPool" : "AveragePool";
  // TF averages over the taps on real values only: count_include_pad 0.
  const [out] = b.op(op, [b.in(x, channelsFirst(rank))], kind === "max" ? attrs : { ...attrs, count_include_pad: 0 }, name);
  return b.value(out, channelsFirst(rank));
}

/** Inference batch normalization over TF axis `axis` with per-channel parameters. */
export function batchNorm(b: TfBuilder, x: TfValue, axis: number, params: { gamma: TfValue; beta: TfValue; mean: TfValue; variance: TfValue }, epsilon: number, name: string): TfValue {
  const rank = b.rank(x);
  const a = normAxis(axis, rank);
  // BatchNormalization wants channels at axis 1: a channels-last conv output already has them there.
  const perm = rank === 1 ? undefined : x.perm && x.perm[1] === a ? x.perm : axisToOne(rank, a);
  const inputs = [b.in(x, perm), ...[params.gamma, params.beta, params.mean, params.variance].map((p) => b.tf(p))];
  return b.value(b.op("BatchNormalization", inputs, { epsilon }, name)[0], perm);
}

/** x @ kernel (+ bias) on the last axis; a rank-2 input becomes one Gemm (so BatchNorm can fuse). */
export function dense(b: TfBuilder, x: TfValue, kernel: TfValue, bias: TfValue | undefined, name: string, transposeKernel = false): TfValue {
  if (b.rank(x) === 2) {
    const inputs = [b.tf(x), b.tf(kernel), ...(bias ? [b.tf(bias)] : [])];
    return b.value(b.op("Gemm", inputs, { alpha: 1, beta: 1, transB: transposeKernel ? 1 : 0 }, name)[0]);
  }
  const w = transposeKernel ? b.op("Transpose", [b.tf(kernel)], { perm: [1, 0] }, `${name}/kernel`)[0] : b.tf(kernel);
  const y = b.value(b.op("MatMul", [b.tf(x), w], {}, name)[0]);
  return bias ? b.broadcast("Add", [y, bias], {}, `${name}/bias`) : y;
}

/** Activation names as Keras, TF.js layers and fused TF ops spell them. */
const ACTIVATION_ALIASES: Record<string, string> = {
  hard_sigmoid: "hardSigmoid", log_softmax: "logSoftmax", silu: "swish", leakyrelu: "leakyRelu", leaky_relu: "leakyRelu",
};

const ACTIVATIONS = ["linear", "relu", "relu6", "sigmoid", "tanh", "softmax", "logSoftmax", "elu", "selu", "gelu", "gelu_new", "swish", "hardSigmoid", "softsign", "leakyRelu"] as const;

/** Apply a named activation; `alpha` is LeakyReLU's/ELU's slope, `axis` softmax's TF axis. */
export function activation(b: TfBuilder, x: TfValue, fn: string, name: string, opts: { alpha?: number; axis?: number } = {}): TfValue {
  const kind = ACTIVATION_ALIASES[fn] ?? fn;
  const rank = b.rank(x);
  switch (kind) {
    case "linear":
      return x;
    case "relu":
      return b.unary("Relu", x, {}, name);
    case "relu6":
      return b.unary("Clip", x, { min: 0, max: 6 }, name);
    case "sigmoid":
      return b.unary("Sigmoid", x, {}, name);
    case "tanh":
      return b.unary("Tanh", x, {}, name);
    case "elu":
      return b.unary("Elu", x, { alpha: opts.alpha ?? 1 }, name);
    case "leakyRelu":
      return b.unary("LeakyRelu", x, { alpha: opts.alpha ?? 0.2 }, name);
    case "selu":
      return b.elementwise(x, name, (c, v) => selu(c, v));
    case "gelu":
      return b.unary("Gelu", x, {}, name);
    case "gelu_new":
      return b.unary("Gelu", x, { approximate: "tanh" }, name);
    case "swish":
      return b.broadcast("Mul", [x, b.unary("Sigmoid", x, {}, `${name}/sigmoid`)], {}, name);
    case "hardSigmoid":
      return b.unary("HardSigmoid", x, { alpha: 0.2, beta: 0.5 }, name);
    case "softsign":
      return b.elementwise(x, name, softsign);
    case "softmax":
    case "logSoftmax": {
      const axis = normAxis(opts.axis ?? -1, rank);
      return b.unary(kind === "softmax" ? "Softmax" : "LogSoftmax", x, { axis: b.axis(x, axis) }, name);
    }
    default:
      throw new Error(`activation '${fn}' is not supported (supported: ${ACTIVATIONS.join(", ")})`);
  }
}

/** PReLU with TF's alpha (broadcast against the trailing axes of x). */
export function prelu(b: TfBuilder, x: TfValue, alpha: TfValue, name: string): TfValue {
  return b.broadcast("PRelu", [x, alpha], {}, name);
}

/**
 * tf.image.resizeBilinear / resizeNearestNeighbor of an NHWC input to [height, width], as TF.js
 * computes them: align_corners maps corners to corners (nearest rounds half up), half-pixel centers
 * shift by half a pixel (nearest floors), neither scales by in/out (nearest floors).
 */
export function resize(b: TfBuilder, x: TfValue, size: [number, number], mode: "bilinear" | "nearest", flags: { alignCorners?: boolean; halfPixelCenters?: boolean }, name: string): TfValue {
  const shape = b.shape(x);
  if (shape.length !== 4) throw new Error(`resize input has rank ${shape.length}, expected [N,H,W,C]`);
  if (flags.alignCorners && flags.halfPixelCenters) throw new Error("align_corners and half_pixel_centers cannot both be true");
  const coordinates = flags.alignCorners ? "align_corners" : flags.halfPixelCenters ? (mode === "nearest" ? "tf_half_pixel_for_nn" : "half_pixel") : "asymmetric";
  const nearest = flags.alignCorners ? "round_prefer_ceil" : "floor";
  const attrs = {
    sizes: [shape[0], shape[3], ...size],
    mode: mode === "nearest" ? "nearest" : "linear",
    coordinate_transformation_mode: coordinates,
    ...(mode === "nearest" ? { nearest_mode: nearest } : {}),
  };
  return b.value(b.op("Resize", [b.in(x, channelsFirst(4))], attrs, name)[0], channelsFirst(4));
}
