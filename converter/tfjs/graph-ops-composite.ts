/**
 * The TensorFlow op registry, part 3: ops detml has no kernel for, built from the compositions
 * that the ONNX front end shares (converter/common/composite-math.ts and composite-tensor.ts),
 * so each is written once and needs no new IR op, kernel or compiler emitter: Floor, Ceil,
 * Round (half to even, TF's rule), Sign, Softplus, Cumsum and OneHot. The elementwise ones work
 * in whatever layout their input has (their constants are scalars); Cumsum maps its axis
 * through the layout; OneHot works in the TF layout. TF OneHot gives all `off_value` for a
 * negative index (ONNX counts it from the end).
 */
import { normAxis } from "../../lib/tensor/shape.js";
import * as math from "../common/composite-math.js";
import type { Composer, Composite, Operand } from "../common/composite-math.js";
import { cumSum, oneHot } from "../common/composite-tensor.js";
import { toScalar } from "../common/values.js";
import type { TfNodeCtx } from "./graph-context.js";
import type { TfHandler } from "./graph-ops.js";

/** The node's view of the draft, as the shared compositions use it (names under the node's). */
function composer(n: TfNodeCtx): Composer {
  return {
    op: (kind, inputs, attrs = {}, dtype) => n.b.op(kind, inputs, attrs, `${n.name}/${kind.toLowerCase()}`, dtype),
    constant: (base, value) => n.b.constant(`${n.name}/${base}`, value).name,
    guard: n.b.db.guard,
  };
}

/** A draft value as a composition operand. */
function operand(n: TfNodeCtx, name: string): Operand {
  const t = n.b.db.typeOf(name);
  return { name, shape: [...t.shape], dtype: n.b.db.dtypeOf(name), frac: t.frac };
}

/** Define the node's output from a composition's result, laid out by `perm`. */
function setResult(n: TfNodeCtx, r: Composite, perm?: number[]): void {
  const name = typeof r === "string" ? r : n.b.op(r.kind, r.inputs, r.attrs ?? {}, n.name, r.dtype)[0];
  n.set(0, n.b.value(name, perm));
}

/** An elementwise composition, computed in the input's layout, which the output keeps. */
function elementwise(build: (c: Composer, x: Operand) => Composite): TfHandler {
  return (n) => {
    const x = n.input(0);
    setResult(n, build(composer(n), operand(n, x.name)), x.perm);
  };
}

/** Cumsum(x, axis) with the `exclusive` and `reverse` attributes, in x's layout. */
const cumsum: TfHandler = (n) => {
  const x = n.input(0);
  const axis = toScalar(n.requireConst(1, "axis"), "input 1 (axis)");
  const draftAxis = n.b.axis(x, normAxis(axis, n.b.rank(x)));
  setResult(n, cumSum(composer(n), operand(n, x.name), draftAxis, n.bool("exclusive"), n.bool("reverse")), x.perm);
};

/** OneHot(indices, depth, on_value, off_value) with the new axis at `axis` (default -1: last). */
const oneHotOp: TfHandler = (n) => {
  const indices = operand(n, n.b.tf(n.input(0)));
  const depth = toScalar(n.requireConst(1, "depth"), "input 1 (depth)");
  const [on, off] = [2, 3].map((i) => n.b.tf(n.input(i)));
  const axis = normAxis(n.int("axis", -1), indices.shape.length + 1);
  setResult(n, oneHot(composer(n), indices, depth, on, off, axis, false, n.b.dtype(n.input(2))));
};

export const COMPOSITE_OPS: Readonly<Record<string, TfHandler>> = {
  Floor: elementwise(math.floor),
  Ceil: elementwise(math.ceil),
  Round: elementwise(math.round),
  Sign: elementwise(math.sign),
  Softplus: elementwise(math.softplus),
  Cumsum: cumsum,
  OneHot: oneHotOp,
};
