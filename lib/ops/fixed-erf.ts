/**
 * Integer erf and GELU (docs/numerics.md). erf on [0, 4.5) is a table of 9 polynomials of degree 7,
 * one per interval of width 1/2, each in the local variable u in [-1, 1) of its interval; for
 * |x| >= 4.5, erf = +-1 (1 - erf(4.5) < 2^-32, below half a unit at Q30). The coefficients are the
 * Chebyshev interpolant of erf at the 8 Chebyshev nodes of each interval, converted to monomials
 * in u and rounded to Q30 (computed once in float64; test/ops/fixed-math.test.ts recomputes them).
 * Interpolation error < 1.2e-9, evaluated error < 3.5e-9 (< 2^-28).
 * GELU (ONNX opset 20): x * (1 + erf(x / sqrt 2)) / 2, or with approximate = "tanh"
 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))) / 2; one final product rounded once.
 */
import { roundShift, saturate } from "../tensor/fixed.js";
import { fixedTanh } from "./fixed-exp-log.js";
import { ONE_Q30, mulShift } from "./fixed-math.js";

/** ERF_POLY[i] = Q30 coefficients c0..c7 of erf(i/2 + 1/4 + u/4), u in [-1, 1), lowest first. */
export const ERF_POLY: readonly (readonly number[])[] = [
  [296703201, 284545376, -17784047, -5187022, 532402, 83929, -10313, -1038],
  [763597547, 172585495, -32359771, 449437, 631979, -55809, -6969, 1176],
  [990956468, 63490655, -19840853, 2810785, -25720, -49477, 5400, 245],
  [1059430640, 14166680, -6197920, 1512589, -201769, 6942, 2372, -390],
  [1072171244, 1917252, -1078450, 364477, -80062, 11177, -729, -47],
  [1073633782, 157378, -108197, 46312, -13664, 2890, -437, 42],
  [1073737204, 7835, -6367, 3285, -1200, 329, -72, 11],
  [1073741702, 237, -222, 134, -58, 19, -5, 1],
  [1073741822, 4, -5, 3, -2, 1, 0, 0],
];

/** Where erf is +-1 at Q30: 4.5 at Q28. */
const ERF_LIMIT_Q28 = 4.5 * 2 ** 28;

/** round(2^30 / sqrt(2)). */
export const INV_SQRT2_Q30 = 759250125;
/** round(0.044715 * 2^30) and round(sqrt(2/pi) * 2^30), the constants of the tanh GELU. */
export const GELU_CUBIC_Q30 = 48012366;
export const SQRT_2_OVER_PI_Q30 = 856722024;

/** erf(z / 2^28) at Q30 (in [-2^30, 2^30]) for an integer |z| < 2^53. */
export function erfQ28ToQ30(z: number): number {
  const a = Math.abs(z);
  if (a >= ERF_LIMIT_Q28) return z < 0 ? -ONE_Q30 : ONE_Q30;
  // Interval i = [i/2, i/2 + 1/2) (2^27 at Q28); u = (a - centre) / (1/4) at Q30.
  const i = Math.floor(a / 2 ** 27);
  const u = (a - i * 2 ** 27 - 2 ** 26) * 16;
  const c = ERF_POLY[i];
  let p = c[7];
  for (let n = 6; n >= 0; n--) p = c[n] + mulShift(p, u, 30);
  // The evaluation error (a few units) could step outside [0, 1] near x = 0 and x = 4.5.
  p = p < 0 ? 0 : p > ONE_Q30 ? ONE_Q30 : p;
  return z < 0 ? -p : p;
}

/** erf(x / 2^fx) at frac fo for an i32 x. */
export function fixedErf(x: number, fx: number, fo: number): number {
  // |x| >= 4.5 saturates to +-1 before the conversion to Q28 could overflow i32.
  const e = Math.abs(x) >= 4.5 * 2 ** fx ? (x < 0 ? -ONE_Q30 : ONE_Q30) : erfQ28ToQ30(roundShift(x, fx - 28));
  return roundShift(e, 30 - fo);
}

/** x * (1 + g) / 2 at frac fo for an i32 x at fx and g in [-2^30, 2^30] at Q30: one rounding. */
function halfXTimesOnePlus(x: number, fx: number, g: number, fo: number): number {
  // |x * (2^30 + g)| <= 2^62; the product is at frac fx + 31 (the 1/2 included).
  return saturate(mulShift(x, ONE_Q30 + g, 31 + fx - fo));
}

/** GELU(x / 2^fx) = x * (1 + erf(x / sqrt 2)) / 2 at frac fo for an i32 x. */
export function fixedGelu(x: number, fx: number, fo: number): number {
  // For |x| >= 7 > 4.5 sqrt 2 erf is +-1 at Q30; below, z = x / sqrt 2 at Q28 (|z| < 5 * 2^28).
  const g = Math.abs(x) >= 7 * 2 ** fx ? (x < 0 ? -ONE_Q30 : ONE_Q30) : erfQ28ToQ30(mulShift(x, INV_SQRT2_Q30, fx + 2));
  return halfXTimesOnePlus(x, fx, g, fo);
}

/** GELU with approximate = "tanh" at frac fo for an i32 x. */
export function fixedGeluTanh(x: number, fx: number, fo: number): number {
  // For |x| >= 6 the tanh argument is >= 12.5 and tanh = +-1 at Q30 (1 - tanh(12.5) < 2^-34).
  let g: number;
  if (Math.abs(x) >= 6 * 2 ** fx) {
    g = x < 0 ? -ONE_Q30 : ONE_Q30;
  } else {
    const xq = roundShift(x, fx - 26); // Q26, |xq| < 6 * 2^26 < 2^29
    const cube = mulShift(mulShift(xq, xq, 26), xq, 26); // Q26, < 216 * 2^26 < 2^34
    const inner = xq + mulShift(cube, GELU_CUBIC_Q30, 30); // Q26, < 15.7 * 2^26
    g = fixedTanh(mulShift(inner, SQRT_2_OVER_PI_Q30, 30), 26, 30);
  }
  return halfXTimesOnePlus(x, fx, g, fo);
}
