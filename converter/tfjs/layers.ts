/**
 * The Keras layer registry of the layers-model front end: class_name -> handler that emits IR
 * through the shared TF semantics of nn.ts. Layers are computed as TF.js computes them at
 * inference (Dropout and noise layers are identities; BatchNormalization uses its moving
 * statistics). channels_first layers view their input channels-last through a free layout change
 * (layout.ts), so every spatial layer is written once, for NHWC. A class_name missing here is
 * unsupported: the converter lists every such layer in one error before translating anything.
 */
import { normAxis, sizeOf } from "../../lib/tensor/shape.js";
import { constValue, filled } from "../common/values.js";
import type { LayerCtx } from "./layer-context.js";
import { identityPerm, type TfValue } from "./layout.js";
import { activation, batchNorm, conv, convTranspose, dense, depthwiseConv, pool, prelu, resize, type WindowOptions } from "./nn.js";
import { bidirectional, recurrent } from "./recurrent.js";

export type LayerHandler = (ctx: LayerCtx) => TfValue;

/** Run `body` on a channels-last view of the input and give the result back in the layer's format. */
function spatial(ctx: LayerCtx, body: (x: TfValue) => TfValue): TfValue {
  const x = ctx.input();
  if (!ctx.channelsFirst()) return body(x);
  const rank = ctx.b.rank(x);
  const toLast = [0, ...identityPerm(rank).slice(2), 1];
  const toFirst = [0, rank - 1, ...identityPerm(rank).slice(1, rank - 1)];
  return ctx.b.transpose(body(ctx.b.transpose(x, toLast, `${ctx.name}/nhwc`)), toFirst, `${ctx.name}/nchw`);
}

function windowOptions(ctx: LayerCtx, dims: number, stridesKey = "strides", stridesFallback: number | number[] = 1): WindowOptions {
  return {
    strides: ctx.ints(stridesKey, dims, stridesFallback),
    dilations: ctx.has("dilation_rate") ? ctx.ints("dilation_rate", dims) : undefined,
    padding: ctx.padding(),
  };
}

function convLayer(dims: 1 | 2): LayerHandler {
  return (ctx) => {
    if (dims === 1 && ctx.str("padding", "valid") === "causal") {
      // Causal: pad (kernel-1)*dilation steps on the left, then a valid convolution.
      const k = ctx.ints("kernel_size", 1)[0];
      const d = ctx.ints("dilation_rate", 1, 1)[0];
      const opts = { strides: ctx.ints("strides", 1, 1), dilations: [d], padding: [[(k - 1) * d, 0]] as [number, number][] };
      return spatial(ctx, (x) => ctx.activate(conv(ctx.b, x, ctx.weight("kernel"), ctx.bias(), opts, ctx.name)));
    }
    return spatial(ctx, (x) => ctx.activate(conv(ctx.b, x, ctx.weight("kernel"), ctx.bias(), windowOptions(ctx, dims), ctx.name)));
  };
}

const depthwiseConv2d: LayerHandler = (ctx) =>
  spatial(ctx, (x) => ctx.activate(depthwiseConv(ctx.b, x, ctx.weight("depthwise_kernel"), ctx.bias(), windowOptions(ctx, 2), ctx.name)));

const separableConv2d: LayerHandler = (ctx) =>
  spatial(ctx, (x) => {
    const depthwise = depthwiseConv(ctx.b, x, ctx.weight("depthwise_kernel"), undefined, windowOptions(ctx, 2), `${ctx.name}/depthwise`);
    const pointwise = conv(ctx.b, depthwise, ctx.weight("pointwise_kernel"), ctx.bias(), { strides: [1, 1], padding: "VALID" }, ctx.name);
    return ctx.activate(pointwise);
  });

const conv2dTranspose: LayerHandler = (ctx) => {
  if (ctx.has("output_padding")) throw new Error("config 'output_padding' is not supported");
  return spatial(ctx, (x) => ctx.activate(convTranspose(ctx.b, x, ctx.weight("kernel"), ctx.bias(), windowOptions(ctx, 2), ctx.name)));
};

function poolLayer(kind: "max" | "avg", dims: 1 | 2): LayerHandler {
  return (ctx) => {
    const size = ctx.ints("pool_size", dims, 2);
    return spatial(ctx, (x) => pool(ctx.b, x, kind, size, windowOptions(ctx, dims, "strides", size), ctx.name));
  };
}

function globalPool(kind: "ReduceMean" | "ReduceMax"): LayerHandler {
  return (ctx) => spatial(ctx, (x) => {
    const rank = ctx.b.rank(x);
    const keep = ctx.bool("keepdims", false);
    return ctx.b.reduce(kind, x, identityPerm(rank).slice(1, rank - 1), keep, ctx.name);
  });
}

/** Axes a normalization layer normalizes over (an int or a list), normalized. */
function axesOf(ctx: LayerCtx, rank: number): number[] {
  const axis = ctx.raw("axis") ?? -1;
  const list = Array.isArray(axis) ? axis : [axis];
  if (!list.every((a) => Number.isInteger(a))) throw new Error(`config 'axis' must be an int or ints, got ${JSON.stringify(axis)}`);
  return (list as number[]).map((a) => normAxis(a, rank));
}

const batchNormalization: LayerHandler = (ctx) => {
  const x = ctx.input();
  const shape = ctx.b.shape(x);
  const axes = axesOf(ctx, shape.length);
  if (axes.length !== 1) throw new Error(`BatchNormalization over several axes [${axes.join(",")}] is not supported`);
  const channels = shape[axes[0]];
  const fill = (v: number) => ctx.b.constant(`${ctx.name}/fill`, filled(ctx.b.db.guard, "float", [channels], v, "the default parameter"));
  const params = {
    gamma: ctx.bool("scale", true) ? ctx.weight("gamma") : fill(1),
    beta: ctx.bool("center", true) ? ctx.weight("beta") : fill(0),
    mean: ctx.weight("moving_mean"),
    variance: ctx.weight("moving_variance"),
  };
  return batchNorm(ctx.b, x, axes[0], params, ctx.num("epsilon", 1e-3), ctx.name);
};

const layerNormalization: LayerHandler = (ctx) => {
  const x = ctx.input();
  const shape = ctx.b.shape(x);
  const axes = axesOf(ctx, shape.length).sort((a, b) => a - b);
  const first = axes[0];
  if (!axes.every((a, i) => a === first + i) || axes[axes.length - 1] !== shape.length - 1) {
    throw new Error(`LayerNormalization over axes [${axes.join(",")}] is not supported: the axes must be the trailing ones`);
  }
  const normalized = shape.slice(first);
  const fill = (v: number) => ctx.b.constant(`${ctx.name}/fill`, filled(ctx.b.db.guard, "float", normalized, v, "the default parameter"));
  // Keras stores gamma/beta for the normalized axes; reshape them to the normalized shape.
  const param = (w: string, use: boolean, value: number) => {
    if (!use) return fill(value);
    return ctx.b.value(ctx.b.op("Reshape", [ctx.b.tf(ctx.weight(w))], { shape: normalized }, `${ctx.name}/${w}`)[0]);
  };
  const gamma = param("gamma", ctx.bool("scale", true), 1);
  const beta = param("beta", ctx.bool("center", true), 0);
  return ctx.b.tfOp("LayerNormalization", [x, gamma, beta], { axis: first, epsilon: ctx.num("epsilon", 1e-3) }, ctx.name);
};

const flatten: LayerHandler = (ctx) => {
  const x = ctx.input();
  const shape = ctx.b.shape(x);
  if (shape.length <= 2) return x;
  return ctx.b.tfOp("Reshape", [x], { shape: [shape[0], sizeOf(shape.slice(1))] }, ctx.name);
};

const reshape: LayerHandler = (ctx) => {
  const x = ctx.input();
  const target = ctx.raw("target_shape");
  if (!Array.isArray(target) || !target.every((d) => Number.isInteger(d) || d === null)) throw new Error(`config 'target_shape' must be a list of ints, got ${JSON.stringify(target)}`);
  return ctx.b.tfOp("Reshape", [x], { shape: [ctx.b.shape(x)[0], ...target.map((d) => d ?? -1)] }, ctx.name);
};

const permute: LayerHandler = (ctx) => {
  const x = ctx.input();
  const dims = ctx.ints("dims", ctx.b.rank(x) - 1);
  return ctx.b.transpose(x, [0, ...dims], ctx.name);
};

const identity: LayerHandler = (ctx) => ctx.input();

const activationLayer: LayerHandler = (ctx) => ctx.activate(ctx.input());

const relu: LayerHandler = (ctx) => {
  const x = ctx.input();
  if ((ctx.has("negative_slope") && ctx.num("negative_slope") !== 0) || (ctx.has("threshold") && ctx.num("threshold") !== 0)) {
    throw new Error("ReLU with negative_slope or threshold is not supported");
  }
  if (!ctx.has("max_value")) return ctx.b.unary("Relu", x, {}, ctx.name);
  return ctx.b.unary("Clip", x, { min: 0, max: ctx.num("max_value") }, ctx.name);
};

const leakyRelu: LayerHandler = (ctx) => activation(ctx.b, ctx.input(), "leakyRelu", ctx.name, { alpha: ctx.num("alpha", 0.3) });
const elu: LayerHandler = (ctx) => activation(ctx.b, ctx.input(), "elu", ctx.name, { alpha: ctx.num("alpha", 1) });
const softmax: LayerHandler = (ctx) => activation(ctx.b, ctx.input(), "softmax", ctx.name, { axis: ctx.int("axis", -1) });
const preluLayer: LayerHandler = (ctx) => prelu(ctx.b, ctx.input(), ctx.weight("alpha"), ctx.name);

/** Merge layers: Add, Multiply, Maximum, Minimum, Average (n-ary, same-shape inputs). */
function merge(kind: "Add" | "Mul" | "Max" | "Min" | "Average"): LayerHandler {
  return (ctx) => {
    if (ctx.inputs.length < 2) throw new Error(`needs at least 2 inputs, got ${ctx.inputs.length}`);
    const op = kind === "Average" ? "Add" : kind;
    let acc = ctx.inputs[0];
    ctx.inputs.slice(1).forEach((v, i) => (acc = ctx.b.broadcast(op, [acc, v], {}, ctx.inputs.length > 2 ? `${ctx.name}/${i}` : ctx.name)));
    if (kind !== "Average") return acc;
    const scale = ctx.b.constant(`${ctx.name}/scale`, constValue("float", [], [1 / ctx.inputs.length]));
    return ctx.b.broadcast("Mul", [acc, scale], {}, `${ctx.name}/mean`);
  };
}

const subtract: LayerHandler = (ctx) => {
  if (ctx.inputs.length !== 2) throw new Error(`needs exactly 2 inputs, got ${ctx.inputs.length}`);
  return ctx.b.broadcast("Sub", ctx.inputs, {}, ctx.name);
};

const concatenate: LayerHandler = (ctx) => {
  if (ctx.inputs.length < 1) throw new Error("needs inputs");
  const rank = ctx.b.rank(ctx.inputs[0]);
  return ctx.b.concat(ctx.inputs, normAxis(ctx.int("axis", -1), rank), ctx.name);
};

/** [[top, bottom], [left, right]] from an int, a pair of ints, or a pair of pairs. */
function pairs2d(ctx: LayerCtx, key: string): [number, number][] {
  const v = ctx.raw(key) ?? 1;
  if (typeof v === "number") return [[v, v], [v, v]];
  if (Array.isArray(v) && v.length === 2 && v.every((p) => typeof p === "number")) return [[v[0], v[0]], [v[1], v[1]]];
  if (Array.isArray(v) && v.length === 2 && v.every((p) => Array.isArray(p) && p.length === 2)) return v as [number, number][];
  throw new Error(`config '${key}' must be an int, 2 ints or 2 pairs of ints, got ${JSON.stringify(v)}`);
}

const zeroPadding2d: LayerHandler = (ctx) =>
  spatial(ctx, (x) => ctx.b.pad(x, [[0, 0], ...pairs2d(ctx, "padding"), [0, 0]], { mode: "constant", value: 0 }, ctx.name));

const cropping2d: LayerHandler = (ctx) =>
  spatial(ctx, (x) => {
    const [[top, bottom], [left, right]] = pairs2d(ctx, "cropping");
    const [n, h, w, c] = ctx.b.shape(x);
    return ctx.b.slice(x, [0, top, left, 0], [n, h - bottom, w - right, c], [1, 1, 1, 1], ctx.name);
  });

const upSampling2d: LayerHandler = (ctx) =>
  spatial(ctx, (x) => {
    const [sh, sw] = ctx.ints("size", 2, 2);
    const [, h, w] = ctx.b.shape(x);
    const mode = ctx.str("interpolation", "nearest");
    if (mode !== "nearest" && mode !== "bilinear") throw new Error(`interpolation '${mode}' is not supported (nearest, bilinear)`);
    return resize(ctx.b, x, [h * sh, w * sw], mode, {}, ctx.name);
  });

const embedding: LayerHandler = (ctx) => {
  // A mask changes the layers after it (a recurrent layer skips masked steps), which the graph does not carry.
  if (ctx.bool("mask_zero", false)) throw new Error("mask_zero=true is not supported (the mask changes the layers after it, e.g. recurrent layers skip masked steps)");
  const x = ctx.input();
  const table = ctx.weight("embeddings");
  return ctx.b.value(ctx.b.op("Gather", [ctx.b.tf(table), ctx.b.tf(x)], { axis: 0 }, ctx.name)[0]);
};

const denseLayer: LayerHandler = (ctx) => ctx.activate(dense(ctx.b, ctx.input(), ctx.weight("kernel"), ctx.bias(), ctx.name));

const rescaling: LayerHandler = (ctx) => {
  const scaled = ctx.b.broadcast("Mul", [ctx.input(), ctx.b.constant(`${ctx.name}/scale`, constValue("float", [], [ctx.num("scale")]))], {}, ctx.name);
  const offset = ctx.num("offset", 0);
  return offset === 0 ? scaled : ctx.b.broadcast("Add", [scaled, ctx.b.constant(`${ctx.name}/offset`, constValue("float", [], [offset]))], {}, `${ctx.name}/offset`);
};

export const LAYERS: Readonly<Record<string, LayerHandler>> = {
  Dense: denseLayer,
  Conv1D: convLayer(1),
  Conv2D: convLayer(2),
  DepthwiseConv2D: depthwiseConv2d,
  SeparableConv2D: separableConv2d,
  Conv2DTranspose: conv2dTranspose,
  BatchNormalization: batchNormalization,
  LayerNormalization: layerNormalization,
  MaxPooling1D: poolLayer("max", 1),
  MaxPooling2D: poolLayer("max", 2),
  AveragePooling1D: poolLayer("avg", 1),
  AveragePooling2D: poolLayer("avg", 2),
  GlobalAveragePooling1D: globalPool("ReduceMean"),
  GlobalAveragePooling2D: globalPool("ReduceMean"),
  GlobalMaxPooling1D: globalPool("ReduceMax"),
  GlobalMaxPooling2D: globalPool("ReduceMax"),
  Flatten: flatten,
  Reshape: reshape,
  Permute: permute,
  Dropout: identity,
  SpatialDropout1D: identity,
  SpatialDropout2D: identity,
  GaussianNoise: identity,
  GaussianDropout: identity,
  AlphaDropout: identity,
  Activation: activationLayer,
  ReLU: relu,
  LeakyReLU: leakyRelu,
  PReLU: preluLayer,
  ELU: elu,
  Softmax: softmax,
  Add: merge("Add"),
  Multiply: merge("Mul"),
  Maximum: merge("Max"),
  Minimum: merge("Min"),
  Average: merge("Average"),
  Subtract: subtract,
  Concatenate: concatenate,
  ZeroPadding2D: zeroPadding2d,
  Cropping2D: cropping2d,
  UpSampling2D: upSampling2d,
  Embedding: embedding,
  Rescaling: rescaling,
  // recurrent layers, unrolled over the static sequence length (recurrent.ts)
  LSTM: recurrent,
  GRU: recurrent,
  SimpleRNN: recurrent,
  Bidirectional: bidirectional,
};

export function isSupportedLayer(className: string): boolean {
  return Object.hasOwn(LAYERS, className);
}
