/**
 * The ONNX op handlers that need more than a one-line mapping: operands that moved from
 * attributes to inputs across opsets (Clip, Pad, Split, Squeeze, Unsqueeze, Reduce*, Slice,
 * Resize/Upsample), old-opset semantics (Softmax before 13 flattens to 2-D, binary ops before
 * 7 broadcast at an axis, PRelu before 7 is per channel), Pow's exponent and TopK's K as
 * attributes, outputs computed at conversion (Shape, Size, Constant, ConstantOfShape) and
 * value-preserving no-ops (Identity, Dropout, Cast between value classes; Cast of a real tensor
 * to an integer type truncates and saturates, to bool tests for nonzero). Compositions of several detml ops are in
 * composite.ts.
 * Each handler reads its node through NodeCtx and emits detml IR ops; a shape-like operand that
 * is not a constant is an error naming the operand.
 */
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import { normAxis, sizeOf } from "../../lib/tensor/shape.js";
import type { FoldAttrs } from "../common/fold.js";
import { constValue, filled, intVector, scalar, toScalar, type ConstValue } from "../common/values.js";
import type { NodeCtx } from "./context.js";
import { dataTypeName, integerTypeRange, valueClassOf } from "./proto.js";

export type Handler = (n: NodeCtx) => void;

const allAxes = (rank: number) => Array.from({ length: rank }, (_, i) => i);
const norm = (axes: number[], rank: number) => axes.map((a) => normAxis(a, rank));

/** Reject use of optional outputs a handler does not produce (e.g. MaxPool Indices). */
function onlyFirstOutput(n: NodeCtx, what: string): void {
  for (let i = 1; i < n.outputs.length; i++) {
    if (n.outputUsed(i)) throw new Error(`output ${i} (${what}) is not supported; only the first output is`);
  }
}

/** IR op `kind` on the node's inputs with its attributes copied (ONNX `defaults` fill absent ones). */
export function direct(kind: string, defaults: FoldAttrs = {}, ignore: readonly string[] = []): Handler {
  return (n) => {
    onlyFirstOutput(n, "extra output");
    n.finish(kind, n.inputs(), { ...defaults, ...n.irAttrs(kind, {}, ignore) }, undefined, 1);
  };
}

/** Ops that only exist for constant folding (their runtime use is an error from the builder). */
export function foldOnly(kind: string): Handler {
  return (n) => n.finish(kind, n.inputs());
}

/**
 * Binary elementwise ops. Before opset 7 they broadcast only with `broadcast=1`, aligning B with
 * A at `axis` instead of at the end: B then gets trailing 1s so numpy broadcasting matches.
 * Div of two integer tensors truncates (IR Div mode trunc).
 */
export function binary(kind: string): Handler {
  return (n) => {
    const integerDiv = kind === "Div" && n.dtype(0) !== "float" && n.dtype(1) !== "float";
    let b = n.input(1);
    if (n.int("broadcast", 0) === 1 && n.has("axis")) {
      const rank = n.rank(0);
      const bShape = n.shape(1);
      const trailing = rank - normAxis(n.int("axis"), rank) - bShape.length;
      if (trailing > 0) [b] = n.emit("Reshape", [b], { shape: [...bShape, ...new Array<number>(trailing).fill(1)] });
    }
    n.finish(kind, [n.input(0), b], n.irAttrs(kind, integerDiv ? { mode: "trunc" } : {}, ["broadcast", "axis"]));
  };
}

/** PRelu; before opset 7 a 1-D slope of size C applies per channel (axis 1). */
export const prelu: Handler = (n) => {
  let slope = n.input(1);
  const xShape = n.shape(0);
  const sShape = n.shape(1);
  if (n.opset < 7 && sShape.length === 1 && xShape.length > 2 && sShape[0] === xShape[1]) {
    [slope] = n.emit("Reshape", [slope], { shape: [sShape[0], ...new Array<number>(xShape.length - 2).fill(1)] });
  }
  n.finish("PRelu", [n.input(0), slope]);
};

/** Pow: detml's takes the exponent as an attribute, so Y must be a constant with one value. */
export const pow: Handler = (n) => {
  if (n.constant(0) && n.constant(1)) return n.finish("Pow", n.inputs());
  const y = n.requireConst(1, "exponent Y");
  const exponent = y.data[0];
  if (!y.data.every((v) => v === exponent)) throw new Error(`an exponent Y that varies per element is not supported (Y has shape [${y.shape.join(",")}])`);
  if (y.data.length > 1) {
    // A broadcast Y of equal values can still widen the output shape: keep that with an Expand.
    const [p] = n.emit("Pow", [n.input(0)], { exponent });
    return n.finish("Expand", [p], { shape: y.shape });
  }
  n.finish("Pow", [n.input(0)], { exponent });
};

export const identity: Handler = (n) => n.alias(0, n.input(0));

/** Dropout at inference: the input unchanged, and a mask of all true if anyone reads it. */
export const dropout: Handler = (n) => {
  if (n.hasInput(2) && n.requireConst(2, "training_mode").data[0] !== 0) throw new Error("training_mode=true is not supported (export the model in eval mode)");
  n.alias(0, n.input(0));
  if (n.outputUsed(1)) n.setConst(1, filled(n.guard, "bool", n.shape(0), 1, "the mask"));
};

/**
 * A run-time real tensor to an integer type: truncated toward zero (C's and numpy's conversion)
 * by an exact integer Div by 1, then saturated to the type's range (ONNX leaves out-of-range
 * values undefined) by an exact QuantizeLinear with multiplier 1.
 */
function realToInteger(n: NodeCtx, elemType: number | undefined, target: string): void {
  const range = elemType === undefined ? undefined : integerTypeRange(elemType);
  if (!range) throw new Error(`Cast of a run-time float tensor to ${target} is not supported: the target's integer type is not stated`);
  const one = n.addConst("one", scalar("int", 1));
  const [low, high] = range;
  if (low === I32_MIN && high === I32_MAX) return n.finish("Div", [n.input(0), one], { mode: "trunc" }, "int");
  const [whole] = n.emit("Div", [n.input(0), one], { mode: "trunc" }, "int");
  n.finish("QuantizeLinear", [whole, one, n.addConst("zero", scalar("int", 0))], { shift: 0, low, high }, "int");
}

/** Cast (to the type in `to`) and CastLike (to the type of input 1). */
export function cast(like: boolean): Handler {
  return (n) => {
    const to = like ? n.dtype(1) : valueClassOf(n.int("to"));
    const target = like ? to : dataTypeName(n.int("to"));
    if (!to) throw new Error(`Cast to ${target} is not supported`);
    if (n.constant(0)) return n.finish("Cast", [n.input(0)], { to });
    const from = n.dtype(0);
    // Integers and booleans are exact reals at frac 0, so these casts change no value.
    if (from === to || to === "float" || (from === "bool" && to === "int")) return n.alias(0, n.input(0));
    if (from === "float" && to === "int") return realToInteger(n, like ? n.elemType(1) : n.int("to"), `${target}`);
    // A real or integer to bool: nonzero is true.
    if (to === "bool") return n.finish("Greater", [n.emit("Abs", [n.input(0)])[0], n.addConst("zero", scalar("int", 0))], {}, "bool");
    throw new Error(`Cast of a run-time ${from} tensor to ${target} is not supported`);
  };
}

export const shape: Handler = (n) => {
  const dims = n.shape(0);
  n.setConst(0, intVector(dims.slice(n.int("start", 0), n.has("end") ? n.int("end") : dims.length)));
};

export const size: Handler = (n) => n.setConst(0, scalar("int", sizeOf(n.shape(0))));

export const constant: Handler = (n) => {
  if (n.has("value")) return n.setConst(0, n.tensor("value"));
  if (n.has("value_float")) return n.setConst(0, scalar("float", n.float("value_float")));
  if (n.has("value_floats")) return n.setConst(0, constValue("float", [n.floats("value_floats").length], n.floats("value_floats")));
  if (n.has("value_int")) return n.setConst(0, scalar("int", n.int("value_int")));
  if (n.has("value_ints")) return n.setConst(0, intVector(n.ints("value_ints")));
  throw new Error(`attribute ${n.attrNames().join(", ") || "(none)"} is not supported (value, value_float(s), value_int(s) are)`);
};

export const constantOfShape: Handler = (n) => {
  const fill: ConstValue = n.has("value") ? n.tensor("value") : scalar("float", 0);
  n.finish("ConstantOfShape", [n.input(0)], { value: toScalar(fill, "attribute 'value'"), dtype: fill.dtype });
};

/**
 * The axis of a softmax-like op (Softmax, LogSoftmax, Hardmax) as given, and before opset 13
 * the 2-D view [prod(dims[:axis]), prod(dims[axis:])] it then works on along axis 1 (absent when
 * the coerced axis is the last one, where both readings agree).
 */
export function softmaxAxis(n: NodeCtx): { axis: number; flat?: number[] } {
  if (n.opset >= 13) return { axis: n.int("axis", -1) };
  const rank = n.rank(0);
  const axis = normAxis(n.int("axis", 1), rank);
  if (axis === rank - 1) return { axis: -1 };
  const dims = n.shape(0);
  return { axis: 1, flat: [sizeOf(dims.slice(0, axis)), sizeOf(dims.slice(axis))] };
}

/** Softmax/LogSoftmax; before opset 13 the input is coerced to 2-D at `axis` (default 1). */
export function softmax(kind: string): Handler {
  return (n) => {
    const { axis, flat } = softmaxAxis(n);
    if (!flat) return n.finish(kind, [n.input(0)], { axis });
    const [x] = n.emit("Reshape", [n.input(0)], { shape: flat });
    const [y] = n.emit(kind, [x], { axis });
    n.finish("Reshape", [y], { shape: n.shape(0) });
  };
}

export const clip: Handler = (n) => {
  const bounds: FoldAttrs = {};
  if (n.opset < 11) {
    if (n.has("min")) bounds.min = n.float("min");
    if (n.has("max")) bounds.max = n.float("max");
  } else {
    if (n.hasInput(1)) bounds.min = toScalar(n.requireConst(1, "min"), "input 1 (min)");
    if (n.hasInput(2)) bounds.max = toScalar(n.requireConst(2, "max"), "input 2 (max)");
  }
  n.finish("Clip", [n.input(0)], bounds);
};

export const batchNormalization: Handler = (n) => {
  if (n.int("training_mode", 0) !== 0) throw new Error("training_mode=1 is not supported (export the model in eval mode)");
  if (n.int("spatial", 1) !== 1) throw new Error("spatial=0 is not supported");
  onlyFirstOutput(n, "running statistics");
  const attrs = n.irAttrs("BatchNormalization", {}, ["momentum", "spatial", "training_mode", "is_test"]);
  n.finish("BatchNormalization", n.inputs().slice(0, 5), { epsilon: 1e-5, ...attrs }, undefined, 1);
};

export const maxPool: Handler = (n) => {
  onlyFirstOutput(n, "Indices");
  n.finish("MaxPool", [n.input(0)], n.irAttrs("MaxPool", {}, ["storage_order"]), undefined, 1);
};

export const reshape: Handler = (n) => {
  n.finish("Reshape", [n.input(0)], { shape: n.constInts(1, "shape"), allowzero: n.int("allowzero", 0) });
};

export const split: Handler = (n) => {
  const rank = n.rank(0);
  const axis = normAxis(n.int("axis", 0), rank);
  const dim = n.shape(0)[axis];
  let sizes: number[];
  if (n.opset >= 13 ? n.hasInput(1) : n.has("split")) {
    sizes = n.opset >= 13 ? n.constInts(1, "split") : n.ints("split");
  } else {
    const parts = n.has("num_outputs") ? n.int("num_outputs") : n.outputs.length;
    // The spec makes them equal; checked before the sizes list is built from a model-given count.
    if (parts !== n.outputs.length) throw new Error(`attribute 'num_outputs' is ${parts} but the node has ${n.outputs.length} outputs`);
    const chunk = Math.ceil(dim / parts);
    if (!n.has("num_outputs") && chunk * parts !== dim) throw new Error(`axis ${axis} of size ${dim} does not split into ${parts} equal parts`);
    sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(chunk, dim - i * chunk)));
  }
  n.finish("Split", [n.input(0)], { axis, split: sizes });
};

/** Squeeze/Unsqueeze: `axes` is an input from opset 13, an attribute before. */
export function axesOp(kind: "Squeeze" | "Unsqueeze"): Handler {
  return (n) => {
    const axes = n.opset >= 13 ? (n.hasInput(1) ? n.constInts(1, "axes") : []) : n.ints("axes", []);
    const rank = kind === "Squeeze" ? n.rank(0) : n.rank(0) + axes.length;
    const resolved = kind === "Squeeze" && axes.length === 0 ? n.shape(0).flatMap((d, i) => (d === 1 ? [i] : [])) : norm(axes, rank);
    n.finish(kind, [n.input(0)], { axes: resolved });
  };
}

/** Expand/Tile: the shape-like second input becomes the attribute `attr`. */
export function shapeInput(kind: "Expand" | "Tile", attr: string): Handler {
  return (n) => n.finish(kind, [n.input(0)], { [attr]: n.constInts(1, attr) });
}

/**
 * The axes and keepdims of a reduction (`axes` is an input from opset `axesInputSince`), or
 * undefined for noop_with_empty_axes without axes.
 */
export function reduceAttrs(n: NodeCtx, axesInputSince: number): { axes: number[]; keepdims: number } | undefined {
  const rank = n.rank(0);
  const axes = n.opset >= axesInputSince ? (n.hasInput(1) ? n.constInts(1, "axes") : []) : n.ints("axes", []);
  if (axes.length === 0 && n.int("noop_with_empty_axes", 0) === 1) return undefined;
  return { axes: axes.length ? norm(axes, rank) : allAxes(rank), keepdims: n.int("keepdims", 1) };
}

/** Reduce ops: `axes` is an input from `axesInputSince` (13 for ReduceSum, 18 for the rest). */
export function reduce(kind: string, axesInputSince: number): Handler {
  return (n) => {
    const attrs = reduceAttrs(n, axesInputSince);
    if (!attrs) return n.alias(0, n.input(0));
    n.finish(kind, [n.input(0)], attrs);
  };
}

export const slice: Handler = (n) => {
  const dims = n.shape(0);
  const fromInputs = n.opset >= 10;
  const starts = fromInputs ? n.constInts(1, "starts") : n.ints("starts");
  const ends = fromInputs ? n.constInts(2, "ends") : n.ints("ends");
  const axes = norm((fromInputs ? (n.hasInput(3) ? n.constInts(3, "axes") : undefined) : n.ints("axes", [])) ?? [], dims.length);
  const sliced = axes.length ? axes : starts.map((_, i) => i);
  const steps = fromInputs && n.hasInput(4) ? n.constInts(4, "steps") : sliced.map(() => 1);
  // Clamping to [-dim-1, dim] keeps ONNX's meaning (INT64_MAX/MIN sentinels) within i32.
  const clampTo = (v: number, i: number) => Math.min(Math.max(v, -dims[sliced[i]] - 1), dims[sliced[i]]);
  n.finish("Slice", [n.input(0)], { starts: starts.map(clampTo), ends: ends.map(clampTo), axes: sliced, steps });
};

export const pad: Handler = (n) => {
  const mode = n.string("mode", "constant");
  if (n.opset < 11) return n.finish("Pad", [n.input(0)], { pads: n.ints("pads"), mode, value: n.float("value", 0) });
  const attrs: FoldAttrs = { pads: n.constInts(1, "pads"), mode };
  if (n.hasInput(2)) attrs.value = toScalar(n.requireConst(2, "constant_value"), "input 2 (constant_value)");
  if (n.hasInput(3)) attrs.axes = norm(n.constInts(3, "axes"), n.rank(0));
  n.finish("Pad", [n.input(0)], attrs);
};

export const argMax: Handler = (n) => n.finish("ArgMax", [n.input(0)], n.irAttrs("ArgMax"), "int");

/** TopK: K (input 1 from opset 10, attribute `k` before) must be a constant with one value. */
export const topK: Handler = (n) => {
  const k = n.opset >= 10 ? n.constInts(1, "K") : [n.int("k")];
  if (k.length !== 1) throw new Error(`input 1 (K) must hold one value, got ${k.length}`);
  n.finish("TopK", [n.input(0)], n.irAttrs("TopK", { k: k[0] }), [n.dtype(0), "int"]);
};

/** Output sizes from scales, which must give whole sizes (detml's Resize takes sizes only). */
function sizesFromScales(dims: number[], scales: number[]): number[] {
  if (scales.length !== dims.length) throw new Error(`scales has ${scales.length} entries for a rank-${dims.length} input`);
  return dims.map((d, i) => {
    const exact = d * scales[i];
    const out = Math.round(exact);
    if (Math.abs(exact - out) > 1e-5 * Math.max(1, out)) {
      throw new Error(`scale ${scales[i]} on axis ${i} of size ${d} gives ${exact} outputs: scales that do not give whole sizes are not supported (detml resizes by exact size ratios)`);
    }
    return out;
  });
}

/** Resize 11+: sizes or scales input (optionally with `axes`, opset 18). */
export const resize: Handler = (n) => {
  const dims = n.shape(0);
  const mode = n.string("mode", "nearest");
  if (mode !== "nearest" && mode !== "linear" && mode !== "bilinear") throw new Error(`mode '${mode}' is not supported (nearest and linear are)`);
  if (n.opset < 11) return legacyResize(n, n.requireConst(1, "scales"), n.string("mode", "nearest"));
  if (n.int("antialias", 0) !== 0) throw new Error("antialias=1 is not supported");
  if (n.string("keep_aspect_ratio_policy", "stretch") !== "stretch") throw new Error("keep_aspect_ratio_policy other than 'stretch' is not supported");
  const axes = n.has("axes") ? norm(n.ints("axes"), dims.length) : allAxes(dims.length);
  const sized = n.hasInput(3) && n.requireConst(3, "sizes").data.length > 0;
  const given = sized ? n.constInts(3, "sizes") : Array.from(n.requireConst(2, "scales").data);
  const full = sized ? [...dims] : dims.map(() => 1);
  axes.forEach((a, i) => (full[a] = given[i]));
  const sizes = sized ? full : sizesFromScales(dims, full);
  const attrs = n.irAttrs("Resize", { sizes }, ["cubic_coeff_a", "exclude_outside", "extrapolation_value", "antialias", "keep_aspect_ratio_policy", "axes"]);
  n.finish("Resize", [n.input(0)], attrs);
};

/**
 * Upsample (opsets 7-9) and Resize 10: scales only, asymmetric coordinates, and nearest picks
 * floor when enlarging, ceil when shrinking (onnxruntime's behaviour for these versions).
 */
function legacyResize(n: NodeCtx, scales: ConstValue, mode: string): void {
  const values = Array.from(scales.data);
  const sizes = sizesFromScales(n.shape(0), values);
  const shrinks = values.some((s) => s < 1);
  if (shrinks && values.some((s) => s > 1)) throw new Error("scales that enlarge some axes and shrink others are not supported in this opset");
  n.finish("Resize", [n.input(0)], {
    sizes,
    mode: mode === "bilinear" ? "linear" : mode,
    coordinate_transformation_mode: "asymmetric",
    nearest_mode: shrinks ? "ceil" : "floor",
  });
}

export const upsample: Handler = (n) => {
  const scales = n.opset >= 9 ? n.requireConst(1, "scales") : constValue("float", [n.floats("scales").length], n.floats("scales"));
  legacyResize(n, scales, n.string("mode", "nearest"));
};
