/**
 * Integer exp, log, sigmoid and tanh (docs/numerics.md). The working format is Q30 (1.0 = 2^30).
 * exp: x*log2(e) = k + j/16 + r (integer k, 4-bit table index j, r < 1/16), 2^r by a degree-5
 * polynomial, times a 16-entry table of 2^(j/16), shifted by k. log: normalize to m in [1, 2) by
 * the bit length, multiply by a tabulated reciprocal 1/c_j close to m so that m/c_j = 1 + z with
 * |z| < 1/32, ln(1 + z) by a degree-5 polynomial, plus tabulated ln(c_j) and the exponent * ln 2.
 * sigmoid and tanh are one exp of -|x| (or -2|x|) and one exactly rounded division.
 * The integer literals were computed once in float64 from the formulas beside them
 * (round(v * 2^30)); test/ops/fixed-math.test.ts recomputes and checks every one.
 */
import { I32_MAX, I32_MIN, roundShift, saturate } from "../tensor/fixed.js";
import { ONE_Q30, bitLength, divShiftRound, mulShift } from "./fixed-math.js";

/** round(log2(e) * 2^30). */
export const LOG2E_Q30 = 1549082005;
/** round(ln(2) * 2^40): 10 extra bits, since it is multiplied by exponents of up to 83. */
export const LN2_Q40 = 762123384786;

/** EXP2_TABLE[j] = round(2^(j/16) * 2^30), j = 0..15. */
export const EXP2_TABLE: readonly number[] = [
  1073741824, 1121280436, 1170923762, 1222764986, 1276901417, 1333434672, 1392470869, 1454120821,
  1518500250, 1585730000, 1655936265, 1729250827, 1805811301, 1885761398, 1969251188, 2056437387,
];

/** Taylor coefficients of 2^r = e^(r ln 2) for Horner, highest first: round(ln(2)^n / n! * 2^30), n = 5..0. */
export const EXP2_POLY: readonly number[] = [1431680, 10327387, 59597083, 257941248, 744261118, ONE_Q30];

/** LOG_RCP[j] = round(2^30 / c_j) with c_j = 1 + (2j+1)/32, the midpoint of [1 + j/16, 1 + (j+1)/16). */
export const LOG_RCP: readonly number[] = [
  1041204193, 981706811, 928641578, 881018933, 838042399, 799063683, 763549742, 731058263,
  701219150, 673720360, 648296950, 624722516, 602802428, 582368447, 563274399, 545392673,
];

/** LOG_RCP_LN[j] = round(-ln(LOG_RCP[j] / 2^30) * 2^30): the log of the tabulated (rounded) reciprocal. */
export const LOG_RCP_LN: readonly number[] = [
  33040817, 96220322, 155887995, 212413774, 266112055, 317252283, 366067135, 412758919,
  457504636, 500460037, 541762892, 581535654, 619887652, 656916903, 692711612, 727351447,
];

/** ln(1 + z) = z * (1 - z/2 + z^2/3 - z^3/4 + z^4/5) for Horner, highest first: (-1)^n round(2^30 / (n+1)). */
export const LN1P_POLY: readonly number[] = [214748365, -268435456, 357913941, -536870912, ONE_Q30];

/**
 * e^(x / 2^fx) at frac fo, rounded half up and saturated, for an integer |x| < 2^34 (an i32,
 * a difference of two i32 or twice an i32) and fx, fo in 0..30.
 */
export function fixedExp(x: number, fx: number, fo: number): number {
  // 1. Outside |x| < 32 the result saturates (e^32 > 2^46) or rounds to 0 (e^-32 < 2^-46).
  const bound = 32 * 2 ** fx;
  if (x >= bound) return I32_MAX;
  if (x <= -bound) return 0;
  // 2. x at Q26 (|xq| < 2^31), then t = x * log2(e) at Q30 (|t| < 46.2 * 2^30 < 2^36).
  const xq = roundShift(x, fx - 26);
  const t = mulShift(xq, LOG2E_Q30, 26);
  // 3. t = k + f with f in [0, 1); f = j/16 + r with r < 1/16 (r < 2^26 at Q30).
  const k = Math.floor(t / ONE_Q30);
  const f = t - k * ONE_Q30;
  const j = Math.floor(f / 2 ** 26);
  const r = f - j * 2 ** 26;
  // 4. 2^r by Horner (|r * ln2|^6 / 6! < 2^-36 truncation), then m = 2^f in [2^30, 2^31].
  let p = EXP2_POLY[0];
  for (let i = 1; i < EXP2_POLY.length; i++) p = EXP2_POLY[i] + mulShift(p, r, 30);
  const m = mulShift(EXP2_TABLE[j], p, 30);
  // 5. e^x = m * 2^(k - 30): at frac fo that is m shifted right by s = 30 - k - fo.
  const s = 30 - k - fo;
  if (s <= 0) return saturate(m * 2 ** -s); // m >= 2^30: every left shift saturates
  if (s > 32) return 0; // m <= 2^31 < 2^(s-1): rounds to 0 (keeps emitted shifts below 64)
  return roundShift(m, s);
}

/**
 * ln(v / 2^fv) at Q30 (not saturated: |result| < 2^36) for an integer 1 <= v < 2^53 and any
 * fv in 0..60. Error below 2^-28 (truncation of v to 31 significant bits, polynomial and roundings).
 */
export function fixedLogQ30(v: number, fv: number): number {
  // 1. v = m * 2^(e - 30) with m in [2^30, 2^31) (bits below the top 31 are dropped).
  const e = bitLength(v) - 1;
  const m = e >= 30 ? Math.floor(v / 2 ** (e - 30)) : v * 2 ** (30 - e);
  // 2. m in [1 + j/16, 1 + (j+1)/16); z = m / c_j - 1, |z| < 1/32 (2^25 at Q30).
  const j = Math.floor(m / 2 ** 26) - 16;
  const z = mulShift(m, LOG_RCP[j], 30) - ONE_Q30;
  // 3. ln(1 + z) by Horner (|z|^6 / 6 < 2^-32 truncation).
  let p = LN1P_POLY[0];
  for (let i = 1; i < LN1P_POLY.length; i++) p = LN1P_POLY[i] + mulShift(p, z, 30);
  const ln1p = mulShift(p, z, 30);
  // 4. ln(v / 2^fv) = (e - fv) ln 2 + ln(c_j) + ln(1 + z); |e - fv| <= 83, the product < 2^47.
  return roundShift((e - fv) * LN2_Q40, 10) + LOG_RCP_LN[j] + ln1p;
}

/** ln(x / 2^fx) at frac fo for an i32 x; x <= 0 (log 0 = -inf, log of a negative) gives I32_MIN. */
export function fixedLog(x: number, fx: number, fo: number): number {
  if (x <= 0) return I32_MIN;
  return saturate(roundShift(fixedLogQ30(x, fx), 30 - fo));
}

/**
 * sigmoid(x / 2^fx) at frac fo for an i32 x: with e = e^-|x| at Q30, 1 / (1 + e) for x >= 0 and
 * e / (1 + e) below, each one division rounded to nearest (in [0, 2^fo], no saturation).
 */
export function fixedSigmoid(x: number, fx: number, fo: number): number {
  const e = fixedExp(-Math.abs(x), fx, 30);
  return divShiftRound(x >= 0 ? ONE_Q30 : e, fo, ONE_Q30 + e);
}

/**
 * tanh(x / 2^fx) at frac fo for |x| < 2^31 (an i32 or a Q26 intermediate): with e = e^-2|x| at
 * Q30, sign(x) * (1 - e) / (1 + e), one division rounded to nearest (in [-2^fo, 2^fo]).
 */
export function fixedTanh(x: number, fx: number, fo: number): number {
  const e = fixedExp(-2 * Math.abs(x), fx, 30);
  const y = divShiftRound(ONE_Q30 - e, fo, ONE_Q30 + e);
  return x < 0 ? -y : y;
}
