/**
 * The TensorFlow op registry, part 3: ops detml has no kernel for, built from the compositions
 * that the ONNX front end shares (converter/common/composite-math.ts and composite-tensor.ts),
 * so each is written once and needs no new IR op, kernel or compiler emitter: Floor, Ceil,
 * Round (half to even, TF's rule), Sign, Softplus, AddN, the negated comparisons
 * NotEqual/LessEqual/GreaterEqual, Cumsum, OneHot and Einsum (Selu and the layers' softsign go through
 * nn.ts's activations, which use the shared compositions too). The elementwise ones work in
 * whatever layout their input has (their constants are scalars), the multi-input ones in their
 * inputs' common layout; Cumsum maps its axis through the layout; OneHot works in the TF layout.
 * TF OneHot gives all `off_value` for a negative index (ONNX counts it from the end).
 */
import { normAxis } from "../../lib/tensor/shape.js";
import * as math from "../common/composite-math.js";
import type { Composer, Composite, Operand } from "../common/composite-math.js";
import { einsum } from "../common/composite-einsum.js";
import { cumSum, oneHot } from "../common/composite-tensor.js";
import { toScalar } from "../common/values.js";
import type { TfHandler } from "./graph-ops.js";

/** An elementwise composition, computed in the input's layout, which the output keeps. */
function elementwise(build: (c: Composer, x: Operand) => Composite): TfHandler {
  return (n) => n.set(0, n.b.elementwise(n.input(0), n.name, build));
}

/** A composition of the node's broadcast inputs (AddN, the negated comparisons). */
function combined(build: (c: Composer, names: string[]) => Composite): TfHandler {
  return (n) => n.set(0, n.b.combine(n.inputs(), n.name, build));
}

/** Cumsum(x, axis) with the `exclusive` and `reverse` attributes, in x's layout. */
const cumsum: TfHandler = (n) => {
  const x = n.input(0);
  const axis = toScalar(n.requireConst(1, "axis"), "input 1 (axis)");
  const draftAxis = n.b.axis(x, normAxis(axis, n.b.rank(x)));
  n.set(0, n.b.composed(cumSum(n.b.composer(n.name), n.b.operand(x.name), draftAxis, n.bool("exclusive"), n.bool("reverse")), n.name, x.perm));
};

/** OneHot(indices, depth, on_value, off_value) with the new axis at `axis` (default -1: last). */
const oneHotOp: TfHandler = (n) => {
  const indices = n.b.operand(n.b.tf(n.input(0)));
  const depth = toScalar(n.requireConst(1, "depth"), "input 1 (depth)");
  const [on, off] = [2, 3].map((i) => n.b.tf(n.input(i)));
  const axis = normAxis(n.int("axis", -1), indices.shape.length + 1);
  n.set(0, n.b.composed(oneHot(n.b.composer(n.name), indices, depth, on, off, axis, false, n.b.dtype(n.input(2))), n.name));
};

/** Einsum of the inputs in the TF layout (converter/common/composite-einsum.ts). */
const einsumOp: TfHandler = (n) => {
  const operands = n.inputs().map((v) => n.b.operand(n.b.tf(v)));
  n.set(0, n.b.composed(einsum(n.b.composer(n.name), n.str("equation"), operands), n.name));
};

export const COMPOSITE_OPS: Readonly<Record<string, TfHandler>> = {
  Floor: elementwise(math.floor),
  Ceil: elementwise(math.ceil),
  Round: elementwise(math.round),
  Sign: elementwise(math.sign),
  Softplus: elementwise(math.softplus),
  AddN: combined((c, xs) => math.sum(c, xs)),
  NotEqual: combined((c, xs) => math.logical(c, "NotEqual", xs)),
  LessEqual: combined((c, xs) => math.logical(c, "LessOrEqual", xs)),
  GreaterEqual: combined((c, xs) => math.logical(c, "GreaterOrEqual", xs)),
  Cumsum: cumsum,
  OneHot: oneHotOp,
  Einsum: einsumOp,
};
