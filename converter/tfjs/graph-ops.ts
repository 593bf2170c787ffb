/**
 * The TensorFlow op registry of the graph-model front end, part 1: neural-network and
 * elementwise ops (convolutions with tensorflowjs_converter's fused forms, matmuls, pools, batch
 * norm, activations, binary arithmetic with floor division and modulo, comparisons, reductions,
 * resize). Each handler reads a GraphDef node through TfNodeCtx and emits IR through the shared
 * TF semantics of nn.ts; part 2 (graph-ops-array.ts) has the shape and data-movement ops. An op
 * missing from TF_OPS is unsupported: the converter lists every such node in one error before
 * translating anything.
 */
import { normAxis } from "../../lib/tensor/shape.js";
import type { FoldAttrs } from "../common/fold.js";
import type { TfNodeCtx } from "./graph-context.js";
import { ARRAY_OPS } from "./graph-ops-array.js";
import { COMPOSITE_OPS } from "./graph-ops-composite.js";
import type { TfValue } from "./layout.js";
import { activation, batchNorm, conv, dense, depthwiseConv, pool, prelu, resize, type Padding, type WindowOptions } from "./nn.js";

export type TfHandler = (n: TfNodeCtx) => void;

/** Strides/dilations of an NHWC 4-element attribute as the 2 spatial values. */
function spatial(n: TfNodeCtx, name: string): number[] {
  const v = n.ints(name, [1, 1, 1, 1]);
  if (v.length !== 4) throw new Error(`attribute '${name}' must have 4 values [1, h, w, 1], got [${v.join(",")}]`);
  if (v[0] !== 1 || v[3] !== 1) throw new Error(`attribute '${name}' [${v.join(",")}] moves along batch or channels, which is not supported`);
  return [v[1], v[2]];
}

function padding(n: TfNodeCtx): Padding {
  const p = n.str("padding");
  if (p === "SAME" || p === "VALID") return p;
  if (p === "EXPLICIT") {
    const e = n.ints("explicit_paddings");
    if (e.length !== 8) throw new Error(`explicit_paddings must have 8 values, got [${e.join(",")}]`);
    return [[e[2], e[3]], [e[4], e[5]]];
  }
  throw new Error(`padding '${p}' is not supported (SAME, VALID, EXPLICIT)`);
}

function windowOptions(n: TfNodeCtx): WindowOptions {
  return { strides: spatial(n, "strides"), dilations: spatial(n, "dilations"), padding: padding(n) };
}

/** TF op names of fused activations -> activation names of nn.ts. */
const FUSED_ACTIVATIONS: Record<string, string> = { Relu: "relu", Relu6: "relu6", Elu: "elu", Sigmoid: "sigmoid", Tanh: "tanh", LeakyRelu: "leakyRelu" };

/**
 * What follows a fused conv/matmul: `fused_ops` is [BiasAdd | FusedBatchNorm, activation?], with
 * the bias (or the 4 batch-norm parameters) and then the Prelu alpha in the extra inputs.
 */
function fusedTail(n: TfNodeCtx, first: number): { bias?: TfValue; apply: (y: TfValue) => TfValue } {
  const ops = n.strs("fused_ops");
  const [head, act] = ops;
  let bias: TfValue | undefined;
  let next = first;
  let norm: ((y: TfValue) => TfValue) | undefined;
  if (head === "BiasAdd") {
    bias = n.input(next++);
  } else if (head === "FusedBatchNorm") {
    const [gamma, beta, mean, variance] = [0, 1, 2, 3].map((k) => n.input(next + k));
    next += 4;
    norm = (y) => batchNorm(n.b, y, -1, { gamma, beta, mean, variance }, n.float("epsilon", 1e-3), `${n.name}/batchnorm`);
  } else if (head !== undefined) {
    throw new Error(`fused op '${head}' is not supported (BiasAdd, FusedBatchNorm)`);
  }
  if (ops.length > 2) throw new Error(`fused_ops [${ops.join(", ")}] has more than two ops`);
  const apply = (y: TfValue): TfValue => {
    const normed = norm ? norm(y) : y;
    if (act === undefined) return normed;
    if (act === "Prelu") return prelu(n.b, normed, n.input(next), `${n.name}/prelu`);
    const fn = FUSED_ACTIVATIONS[act];
    if (!fn) throw new Error(`fused activation '${act}' is not supported (${[...Object.keys(FUSED_ACTIVATIONS), "Prelu"].join(", ")})`);
    return activation(n.b, normed, fn, `${n.name}/${fn}`, { alpha: n.float("leakyrelu_alpha", 0.2) });
  };
  return { bias, apply };
}

function convOp(kind: "conv" | "depthwise", fused: boolean): TfHandler {
  return (n) => {
    n.channelsLast();
    const tail = fused ? fusedTail(n, 2) : { bias: undefined, apply: (y: TfValue) => y };
    const run = kind === "conv" ? conv : depthwiseConv;
    n.set(0, tail.apply(run(n.b, n.input(0), n.input(1), tail.bias, windowOptions(n), n.name)));
  };
}

function matMul(fused: boolean): TfHandler {
  return (n) => {
    const tail = fused ? fusedTail(n, 2) : { bias: undefined, apply: (y: TfValue) => y };
    let x = n.input(0);
    if (n.bool("transpose_a")) x = n.b.transpose(x, [1, 0], `${n.name}/a`);
    n.set(0, tail.apply(dense(n.b, x, n.input(1), tail.bias, n.name, n.bool("transpose_b"))));
  };
}

/** BatchMatMul(V2/V3): matmul of the last two axes with broadcast batch axes; adj_x/adj_y transpose them. */
const batchMatMul: TfHandler = (n) => {
  const side = (i: number, adjoint: boolean) => {
    const v = n.input(i);
    if (!adjoint) return n.b.tf(v);
    const rank = n.b.rank(v);
    const perm = [...Array(rank).keys()];
    [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
    return n.b.op("Transpose", [n.b.tf(v)], { perm }, `${n.name}/${i === 0 ? "x" : "y"}`)[0];
  };
  n.set(0, n.b.value(n.b.op("MatMul", [side(0, n.bool("adj_x")), side(1, n.bool("adj_y"))], {}, n.name)[0]));
};

function poolOp(kind: "max" | "avg"): TfHandler {
  return (n) => {
    n.channelsLast();
    const opts = { strides: spatial(n, "strides"), padding: padding(n) };
    n.set(0, pool(n.b, n.input(0), kind, spatial(n, "ksize"), opts, n.name));
  };
}

const fusedBatchNorm: TfHandler = (n) => {
  n.channelsLast();
  if (n.bool("is_training")) throw new Error("is_training=true is not supported (freeze the model for inference)");
  const [x, gamma, beta, mean, variance] = n.inputs();
  n.set(0, batchNorm(n.b, x, -1, { gamma, beta, mean, variance }, n.float("epsilon", 1e-4), n.name));
};

/** Elementwise op of two broadcast inputs. */
function binary(kind: string, attrs: FoldAttrs = {}): TfHandler {
  return (n) => n.set(0, n.b.broadcast(kind, [n.input(0), n.input(1)], attrs, n.name));
}

function unary(kind: string): TfHandler {
  return (n) => n.set(0, n.b.unary(kind, n.input(0), {}, n.name));
}

function act(fn: string): TfHandler {
  return (n) => n.set(0, activation(n.b, n.input(0), fn, n.name, fn === "leakyRelu" ? { alpha: n.float("alpha", 0.2) } : {}));
}

const squaredDifference: TfHandler = (n) => {
  const d = n.b.broadcast("Sub", [n.input(0), n.input(1)], {}, `${n.name}/difference`);
  n.set(0, n.b.broadcast("Mul", [d, d], {}, n.name));
};

const square: TfHandler = (n) => n.set(0, n.b.broadcast("Mul", [n.input(0), n.input(0)], {}, n.name));

const rsqrt: TfHandler = (n) => n.set(0, n.b.unary("Reciprocal", n.b.unary("Sqrt", n.input(0), {}, `${n.name}/sqrt`), {}, n.name));

const clipByValue: TfHandler = (n) => {
  const bound = (i: number, what: string) => {
    const c = n.requireConst(i, what);
    if (c.data.length !== 1) throw new Error(`${what} must be a scalar for detml's Clip, got shape [${c.shape.join(",")}]`);
    return c.data[0];
  };
  n.set(0, n.b.unary("Clip", n.input(0), { min: bound(1, "clip_value_min"), max: bound(2, "clip_value_max") }, n.name));
};

function reduce(kind: string): TfHandler {
  return (n) => {
    const x = n.input(0);
    const rank = n.b.rank(x);
    const axes = [...new Set(n.constInts(1, "reduction_indices").map((a) => normAxis(a, rank)))];
    if (axes.length === 0) return n.set(0, x);
    n.set(0, n.b.reduce(kind, x, axes, n.bool("keep_dims"), n.name));
  };
}

function softmaxOp(fn: "softmax" | "logSoftmax"): TfHandler {
  return (n) => n.set(0, activation(n.b, n.input(0), fn, n.name, { axis: -1 }));
}

function resizeOp(mode: "bilinear" | "nearest"): TfHandler {
  return (n) => {
    const size = n.constInts(1, "size");
    if (size.length !== 2) throw new Error(`size must have 2 values [height, width], got [${size.join(",")}]`);
    const flags = { alignCorners: n.bool("align_corners"), halfPixelCenters: n.bool("half_pixel_centers") };
    n.set(0, resize(n.b, n.input(0), [size[0], size[1]], mode, flags, n.name));
  };
}

export const TF_OPS: Readonly<Record<string, TfHandler>> = {
  Conv2D: convOp("conv", false),
  _FusedConv2D: convOp("conv", true),
  DepthwiseConv2dNative: convOp("depthwise", false),
  FusedDepthwiseConv2dNative: convOp("depthwise", true),
  MatMul: matMul(false),
  _FusedMatMul: matMul(true),
  BatchMatMul: batchMatMul,
  BatchMatMulV2: batchMatMul,
  BatchMatMulV3: batchMatMul,
  MaxPool: poolOp("max"),
  AvgPool: poolOp("avg"),
  FusedBatchNorm: fusedBatchNorm,
  FusedBatchNormV2: fusedBatchNorm,
  FusedBatchNormV3: fusedBatchNorm,
  BiasAdd: binary("Add"),
  Add: binary("Add"),
  AddV2: binary("Add"),
  Sub: binary("Sub"),
  Mul: binary("Mul"),
  RealDiv: binary("Div"),
  Div: binary("Div"),
  FloorDiv: binary("Div", { mode: "floor" }),
  FloorMod: binary("Mod", { fmod: 0 }),
  Equal: binary("Equal"),
  Less: binary("Less"),
  Greater: binary("Greater"),
  Maximum: binary("Max"),
  Minimum: binary("Min"),
  SquaredDifference: squaredDifference,
  Prelu: (n) => n.set(0, prelu(n.b, n.input(0), n.input(1), n.name)),
  Relu: act("relu"),
  Relu6: act("relu6"),
  Elu: act("elu"),
  Selu: act("selu"),
  Sigmoid: act("sigmoid"),
  Tanh: act("tanh"),
  LeakyRelu: act("leakyRelu"),
  Softmax: softmaxOp("softmax"),
  LogSoftmax: softmaxOp("logSoftmax"),
  Sqrt: unary("Sqrt"),
  Rsqrt: rsqrt,
  Square: square,
  Exp: unary("Exp"),
  Log: unary("Log"),
  Neg: unary("Neg"),
  Abs: unary("Abs"),
  Reciprocal: unary("Reciprocal"),
  Erf: unary("Erf"),
  Sin: unary("Sin"),
  Cos: unary("Cos"),
  Tan: unary("Tan"),
  Asin: unary("Asin"),
  Acos: unary("Acos"),
  Atan: unary("Atan"),
  Sinh: unary("Sinh"),
  Cosh: unary("Cosh"),
  Asinh: unary("Asinh"),
  Acosh: unary("Acosh"),
  Atanh: unary("Atanh"),
  ClipByValue: clipByValue,
  Mean: reduce("ReduceMean"),
  Sum: reduce("ReduceSum"),
  Max: reduce("ReduceMax"),
  Min: reduce("ReduceMin"),
  ResizeBilinear: resizeOp("bilinear"),
  ResizeNearestNeighbor: resizeOp("nearest"),
  ...ARRAY_OPS,
  ...COMPOSITE_OPS,
};

export function isSupportedTfOp(op: string): boolean {
  return Object.hasOwn(TF_OPS, op);
}
