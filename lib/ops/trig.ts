/**
 * The trigonometric and hyperbolic IR ops: Sin, Cos, Tan, Asin, Acos, Atan, Sinh, Cosh, Asinh,
 * Acosh and Atanh. Each maps one i32 at the input's frac to one i32 at the output frac
 * (ctx.frac) with the integer algorithms of fixed-trig.ts (Q30 inside, one rounding at the end);
 * docs/numerics.md gives the measured error and the values outside each function's domain
 * (asin/acos clamp to [-1, 1], acosh below 1 is 0, atanh and the large sinh/cosh/tan saturate).
 */
import type { Tensor } from "../tensor/tensor.js";
import {
  fixedAcos, fixedAcosh, fixedAsin, fixedAsinh, fixedAtan, fixedAtanh, fixedCos, fixedCosh, fixedSin, fixedSinh, fixedTan,
} from "./fixed-trig.js";
import { mapScalar, unaryOp } from "./unary-math.js";

export const sin = (x: Tensor, frac = x.frac): Tensor => mapScalar(x, frac, fixedSin);
export const cos = (x: Tensor, frac = x.frac): Tensor => mapScalar(x, frac, fixedCos);
export const tan = (x: Tensor, frac = x.frac): Tensor => mapScalar(x, frac, fixedTan);
export const asin = (x: Tensor, frac = x.frac): Tensor => mapScalar(x, frac, fixedAsin);
export const acos = (x: Tensor, frac = x.frac): Tensor => mapScalar(x, frac, fixedAcos);
export const atan = (x: Tensor, frac = x.frac): Tensor => mapScalar(x, frac, fixedAtan);
export const sinh = (x: Tensor, frac = x.frac): Tensor => mapScalar(x, frac, fixedSinh);
export const cosh = (x: Tensor, frac = x.frac): Tensor => mapScalar(x, frac, fixedCosh);
export const asinh = (x: Tensor, frac = x.frac): Tensor => mapScalar(x, frac, fixedAsinh);
export const acosh = (x: Tensor, frac = x.frac): Tensor => mapScalar(x, frac, fixedAcosh);
export const atanh = (x: Tensor, frac = x.frac): Tensor => mapScalar(x, frac, fixedAtanh);

export const Sin = unaryOp("Sin", "sin x (exact reduction modulo pi/2)", fixedSin);
export const Cos = unaryOp("Cos", "cos x (exact reduction modulo pi/2)", fixedCos);
export const Tan = unaryOp("Tan", "tan x, one division of sin by cos (saturates at the poles)", fixedTan);
export const Asin = unaryOp("Asin", "asin x (x clamped to [-1, 1])", fixedAsin);
export const Acos = unaryOp("Acos", "acos x (x clamped to [-1, 1])", fixedAcos);
export const Atan = unaryOp("Atan", "atan x", fixedAtan);
export const Sinh = unaryOp("Sinh", "sinh x (saturates)", fixedSinh);
export const Cosh = unaryOp("Cosh", "cosh x (saturates)", fixedCosh);
export const Asinh = unaryOp("Asinh", "asinh x", fixedAsinh);
export const Acosh = unaryOp("Acosh", "acosh x (0 for x <= 1)", fixedAcosh);
export const Atanh = unaryOp("Atanh", "atanh x (|x| >= 1 saturates)", fixedAtanh);

export const TRIG_OPS = [Sin, Cos, Tan, Asin, Acos, Atan, Sinh, Cosh, Asinh, Acosh, Atanh] as const;
