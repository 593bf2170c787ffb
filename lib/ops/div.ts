/**
 * Div: a / b elementwise with numpy/ONNX broadcasting. Mode `real` (the default) writes the real
 * quotient at ctx.frac: the exact (a * 2^(frac + fb - fa)) / b rounded ONCE to nearest, ties away
 * from zero (the divRound rule), then saturated to i32. The shifted numerator can exceed i64 (up
 * to 2^91), so that quotient is computed by long division (divShiftRound in fixed-math.ts), never
 * from a wrapped value. Modes `floor` and `trunc` are integer division (TF FloorDiv, ONNX Div of
 * integer tensors): the real quotient rounded down or toward zero, an integer written at frac 0,
 * computed exactly from the operands aligned to their common frac (alignedDivMod in mod.ts) and
 * saturated. In every mode division by zero gives I32_MAX for a > 0, I32_MIN for a < 0 and 0
 * for 0/0.
 */
import { divideByZero, saturate } from "../tensor/fixed.js";
import { broadcastShapes } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { broadcastInputs } from "./binary.js";
import { divShiftRound } from "./fixed-math.js";
import { alignedDivMod } from "./mod.js";
import { defineOp } from "./op.js";

export const DIV_MODES = ["real", "floor", "trunc"] as const;
export type DivMode = (typeof DIV_MODES)[number];

/** Output frac of Div: ctx.frac for the real quotient, 0 for the integer ones. */
export function divFrac(mode: DivMode, frac: number): number {
  return mode === "floor" || mode === "trunc" ? 0 : frac;
}

/** a / b; `frac` is the output frac of mode `real` (the integer modes write at frac 0). */
export function div(a: Tensor, b: Tensor, frac = a.frac, mode: DivMode = "real"): Tensor {
  const { shape, index } = broadcastInputs([a.shape, b.shape]);
  const [ia, ib] = index;
  const shift = frac + b.frac - a.frac;
  const out = new Int32Array(ia.length);
  for (let i = 0; i < out.length; i++) {
    const [x, y] = [a.data[ia[i]], b.data[ib[i]]];
    if (mode === "real") out[i] = saturate(divShiftRound(x, shift, y));
    else out[i] = y === 0 ? divideByZero(x) : saturate(alignedDivMod(x, a.frac, y, b.frac, mode).q);
  }
  return new Tensor(shape, out, divFrac(mode, frac));
}

export type DivAttrs = { mode: string };

export const Div = defineOp<DivAttrs>({
  kind: "Div",
  summary: "a / b with broadcasting: rounded to nearest at ctx.frac (x/0 saturates), or floor/trunc integer division at frac 0",
  inputs: ["a", "b"],
  attrs: {
    mode: { type: "enum", values: DIV_MODES, default: "real", doc: "real: the quotient at ctx.frac; floor, trunc: the integer quotient rounded down or toward zero, at frac 0" },
  },
  outputs: () => 1,
  infer: ([a, b], attrs, ctx) => [{ shape: broadcastShapes(a.shape, b.shape), frac: divFrac(attrs.mode as DivMode, ctx.frac) }],
  run: ([a, b], attrs, ctx) => [div(a, b, ctx.frac, attrs.mode as DivMode)],
});
