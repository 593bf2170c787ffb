/**
 * ONNX handlers for the ops built from the shared compositions of converter/common
 * (composite-math.ts: Floor, Ceil, Round, Sign, Softplus, Celu, Shrink, ThresholdedRelu, Selu,
 * Softsign, Sum/Mean, the boolean ops Not/And/Or/Xor and LessOrEqual/GreaterOrEqual;
 * composite-tensor.ts: Trilu, CumSum, OneHot, Hardmax, GatherElements, ReduceProd,
 * MeanVarianceNormalization, LRN). They exist so that common ONNX ops convert without a new IR
 * op, kernel or compiler emitter; this file only reads each node's attributes and constant
 * operands (ONNX defaults, opset differences) and hands the node's view of the draft to the
 * composition. Ops that the converter can also evaluate at conversion time (Floor, Ceil, Sign,
 * Trilu, ReduceProd, the boolean ops but Xor) fold exactly in float64 when every input is a
 * constant.
 */
import { normAxis, sizeOf } from "../../lib/tensor/shape.js";
import * as math from "../common/composite-math.js";
import { intConst, materialize, type Composer, type Composite, type Operand } from "../common/composite-math.js";
import * as tensor from "../common/composite-tensor.js";
import { canFold, type FoldAttrs } from "../common/fold.js";
import { toScalar } from "../common/values.js";
import type { NodeCtx } from "./context.js";
import { reduceAttrs, softmaxAxis, type Handler } from "./handlers.js";

/** The node's view of the draft, as the shared compositions use it. */
export function composer(n: NodeCtx): Composer {
  return { op: (kind, inputs, attrs = {}, dtype) => n.emit(kind, inputs, attrs, dtype), constant: (base, value) => n.addConst(base, value), guard: n.guard };
}

function operand(n: NodeCtx, i: number): Operand {
  return { name: n.input(i), shape: n.shape(i), dtype: n.dtype(i), frac: n.frac(i) };
}

/** Produce the node's output from a composition's result. */
function finishWith(n: NodeCtx, r: Composite): void {
  if (typeof r === "string") n.alias(0, r);
  else n.finish(r.kind, r.inputs, r.attrs ?? {}, r.dtype);
}

/**
 * A handler that composes from input 0; with `fold`, a node whose inputs are all constants is
 * instead evaluated at conversion time by the folder of kind `fold` (with `foldAttrs`).
 */
function composite(build: (c: Composer, x: Operand, n: NodeCtx) => Composite, fold?: string, foldAttrs: (n: NodeCtx) => FoldAttrs = () => ({})): Handler {
  return (n) => {
    if (fold && n.inputs().every((v) => v === "" || n.isConst(v))) return n.finish(fold, n.inputs(), foldAttrs(n));
    finishWith(n, build(composer(n), operand(n, 0), n));
  };
}

/** A single-value constant operand as an integer (an axis, k). */
function constInt(n: NodeCtx, i: number, what: string): number {
  const v = toScalar(n.requireConst(i, what), `input ${i} (${what})`);
  if (!Number.isInteger(v)) throw new Error(`input ${i} (${what}) must be an integer, got ${v}`);
  return v;
}

const trilu: Handler = composite((c, x, n) => tensor.trilu(c, x, n.hasInput(1) ? constInt(n, 1, "k") : 0, n.int("upper", 1) === 1), "Trilu", (n) => ({ upper: n.int("upper", 1) }));

const cumSum: Handler = composite((c, x, n) => {
  const axis = normAxis(constInt(n, 1, "axis"), x.shape.length);
  return tensor.cumSum(c, x, axis, n.int("exclusive", 0) === 1, n.int("reverse", 0) === 1);
});

/** OneHot(indices, depth, values = [off, on]) with the new axis at `axis` (default -1: last). */
const oneHot: Handler = composite((c, x, n) => {
  const depth = toScalar(n.requireConst(1, "depth"), "input 1 (depth)");
  const values = n.input(2);
  if (sizeOf(n.shape(2)) !== 2) throw new Error(`input 2 (values) must hold [off, on], got shape [${n.shape(2).join(",")}]`);
  const flat = n.rank(2) === 1 ? values : n.emit("Reshape", [values], { shape: [2] })[0];
  const pick = (i: number, what: string) => n.emit("Gather", [flat, intConst(c, what, i)], { axis: 0 })[0];
  const axis = normAxis(n.int("axis", -1), x.shape.length + 1);
  return tensor.oneHot(c, x, depth, pick(1, "on"), pick(0, "off"), axis, true, n.dtype(2));
});

/** Hardmax; before opset 13 on the 2-D view of softmaxAxis, reshaped back. */
const hardmax: Handler = (n) => {
  const c = composer(n);
  const x = operand(n, 0);
  const { axis, flat } = softmaxAxis(n);
  if (!flat) return finishWith(n, tensor.hardmax(c, x, normAxis(axis, x.shape.length)));
  const view = n.emit("Reshape", [x.name], { shape: flat })[0];
  const y = materialize(c, tensor.hardmax(c, { ...x, name: view, shape: flat }, 1));
  n.finish("Reshape", [y], { shape: [...x.shape] }, x.dtype);
};

const gatherElements: Handler = (n) => {
  const data = operand(n, 0);
  finishWith(n, tensor.gatherElements(composer(n), data, operand(n, 1), normAxis(n.int("axis", 0), data.shape.length)));
};

const reduceProd: Handler = (n) => {
  const attrs = reduceAttrs(n, 18);
  if (!attrs) return n.alias(0, n.input(0));
  if (n.isConst(n.input(0))) return n.finish("ReduceProd", [n.input(0)], attrs);
  const x = operand(n, 0);
  finishWith(n, tensor.reduceProd(composer(n), x, tensor.normAxes(attrs.axes, x.shape.length, "axes"), attrs.keepdims === 1));
};

/** A boolean op or negated comparison of two (Not: one) inputs; on constants it folds as itself. */
function logical(kind: math.LogicalKind): Handler {
  return (n) => {
    const inputs = n.inputs();
    if (canFold(kind) && inputs.every((v) => n.isConst(v))) return n.finish(kind, inputs);
    finishWith(n, math.logical(composer(n), kind, inputs));
  };
}

const sum = (mean: boolean): Handler => (n) => finishWith(n, math.sum(composer(n), n.inputs(), mean));

const mvn: Handler = composite((c, x, n) => tensor.meanVarianceNormalization(c, x, tensor.normAxes(n.ints("axes", [0, 2, 3]), x.shape.length, "axes")));

const lrn: Handler = composite((c, x, n) => tensor.lrn(c, x, { size: n.int("size"), alpha: n.float("alpha", 1e-4), beta: n.float("beta", 0.75), bias: n.float("bias", 1) }));

/** Registry entries, spread into ONNX_OPS (ops.ts). */
export const SHARED_COMPOSITE_OPS: Readonly<Record<string, Handler>> = {
  Floor: composite(math.floor, "Floor"),
  Ceil: composite(math.ceil, "Ceil"),
  Round: composite(math.round),
  Sign: composite(math.sign, "Sign"),
  Softplus: composite(math.softplus),
  Celu: composite((c, x, n) => math.celu(c, x, n.float("alpha", 1))),
  Shrink: composite((c, x, n) => math.shrink(c, x, n.float("lambd", 0.5), n.float("bias", 0))),
  ThresholdedRelu: composite((c, x, n) => math.thresholdedRelu(c, x, n.float("alpha", 1))),
  Selu: composite((c, x, n) => math.selu(c, x, n.float("alpha", math.SELU_ALPHA), n.float("gamma", math.SELU_GAMMA))),
  Softsign: composite(math.softsign),
  Sum: sum(false),
  Mean: sum(true),
  Not: logical("Not"),
  And: logical("And"),
  Or: logical("Or"),
  Xor: logical("Xor"),
  LessOrEqual: logical("LessOrEqual"),
  GreaterOrEqual: logical("GreaterOrEqual"),
  Trilu: trilu,
  CumSum: cumSum,
  OneHot: oneHot,
  Hardmax: hardmax,
  GatherElements: gatherElements,
  ReduceProd: reduceProd,
  MeanVarianceNormalization: mvn,
  LRN: lrn,
};
