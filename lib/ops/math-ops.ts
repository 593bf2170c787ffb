/**
 * The nonlinear "math" op group: division, the pointwise transcendental functions (trig.ts: the
 * trigonometric and hyperbolic ones), softmax and the normalizations, all integer algorithms
 * with the error bounds of docs/numerics.md.
 */
import { Div } from "./div.js";
import { BatchNormalization, LayerNormalization } from "./normalization.js";
import { LogSoftmax, Softmax } from "./softmax.js";
import { TRIG_OPS } from "./trig.js";
import { Elu, Erf, Exp, Gelu, Log, Pow, Reciprocal, Sigmoid, Sqrt, Tanh } from "./unary-math.js";

export const MATH_OPS = [
  Div, Exp, Log, Sqrt, Reciprocal, Pow, Sigmoid, Tanh, Erf, Gelu, Elu,
  Softmax, LogSoftmax, BatchNormalization, LayerNormalization, ...TRIG_OPS,
] as const;
