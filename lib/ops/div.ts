/**
 * Div: a / b elementwise with numpy/ONNX broadcasting, written at ctx.frac. Numerics: the exact
 * quotient (a * 2^(frac + fb - fa)) / b rounded ONCE to nearest, ties away from zero (the
 * divRound rule), then saturated to i32; division by zero gives I32_MAX for a > 0, I32_MIN for
 * a < 0 and 0 for 0/0. The shifted numerator can exceed i64 (up to 2^91), so the quotient is
 * computed by long division (divShiftRound in fixed-math.ts), never from a wrapped value.
 */
import { saturate } from "../tensor/fixed.js";
import { broadcastIndex, broadcastShapes } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { divShiftRound } from "./fixed-math.js";
import { defineOp } from "./op.js";

export function div(a: Tensor, b: Tensor, frac = a.frac): Tensor {
  const shape = broadcastShapes(a.shape, b.shape);
  const ia = broadcastIndex(a.shape, shape);
  const ib = broadcastIndex(b.shape, shape);
  const shift = frac + b.frac - a.frac;
  const out = new Int32Array(ia.length);
  for (let i = 0; i < out.length; i++) out[i] = saturate(divShiftRound(a.data[ia[i]], shift, b.data[ib[i]]));
  return new Tensor(shape, out, frac);
}

export const Div = defineOp({
  kind: "Div",
  summary: "a / b with broadcasting, rounded to nearest (x/0 saturates)",
  inputs: ["a", "b"],
  attrs: {},
  outputs: () => 1,
  infer: ([a, b], _attrs, ctx) => [{ shape: broadcastShapes(a.shape, b.shape), frac: ctx.frac }],
  run: ([a, b], _attrs, ctx) => [div(a, b, ctx.frac)],
});
