/**
 * Integer trigonometric and hyperbolic functions (docs/numerics.md), at Q30 internally with one
 * rounding to the output frac at the end. sin/cos/tan: the argument becomes a phase in quarter
 * turns, x * (2/pi) mod 4 at Q62, from a 93-bit 2/pi in three 31-bit limbs and wrapping i64
 * arithmetic (exact up to the floors of the two low partial products, < 3 units at Q62); the
 * nearest quarter turn picks the quadrant and the remainder r in [-pi/4, pi/4] goes through
 * Taylor polynomials of sin and cos in r^2. atan: |x| <= 1 directly, else pi/2 - atan(1/|x|);
 * then atan(t) = atan(j/16) + atan(u) with a 17-entry table and |u| < 1/32 (degree-7 odd
 * polynomial). asin/acos are atan of x / sqrt(1 - x^2) (exact integer root). sinh/cosh combine
 * the two exponentials e^|x| and e^-|x| as mantissa and exponent (Exp's algorithm, unrounded).
 * asinh/acosh/atanh are logarithms (fixedLogQ30) of exact integer expressions.
 * Outside a function's domain the result is its value at the nearest end of the domain
 * (asin/acos clamp x to [-1, 1], acosh(x < 1) = 0) or saturates (atanh(|x| >= 1) = +-I32_MAX).
 * The integer literals were computed once from a 300-bit pi (Machin's formula) and float64
 * (round(v * 2^30)); test/ops/trig.test.ts recomputes every one. The JS code keeps every value
 * below 2^53 except the phase, which it computes with BigInt as the i64 code does (mod 2^64).
 */
import { I32_MAX, roundShift, saturate } from "../tensor/fixed.js";
import { EXP2_POLY, EXP2_TABLE, LOG2E_Q30, fixedLogQ30 } from "./fixed-exp-log.js";
import { ONE_Q30, divShiftRound, mulShift, sqrtFloorShifted } from "./fixed-math.js";

/** 2/pi = TWO_OVER_PI[0] 2^-31 + TWO_OVER_PI[1] 2^-62 + TWO_OVER_PI[2] 2^-93 (+ < 2^-93): its first 93 bits. */
export const TWO_OVER_PI: readonly number[] = [1367130551, 328271178, 1065675514];
/** round(pi/2 * 2^29), round(pi/2 * 2^30), round(pi * 2^30). */
export const HALF_PI_Q29 = 843314857;
export const HALF_PI_Q30 = 1686629713;
export const PI_Q30 = 3373259426;

/** sin r = r * P(r^2), Taylor coefficients for Horner, highest first: (-1)^n round(2^30 / (2n+1)!), n = 5..0. */
export const SIN_POLY: readonly number[] = [-27, 2959, -213044, 8947849, -178956971, ONE_Q30];
/** cos r = P(r^2), highest first: (-1)^n round(2^30 / (2n)!), n = 6..0. */
export const COS_POLY: readonly number[] = [2, -296, 26631, -1491308, 44739243, -536870912, ONE_Q30];
/** atan u = u * P(u^2), highest first: (-1)^n round(2^30 / (2n+1)), n = 3..0. */
export const ATAN_POLY: readonly number[] = [-153391689, 214748365, -357913941, ONE_Q30];
/** ATAN_TABLE[j] = round(atan(j/16) * 2^30), j = 0..16. */
export const ATAN_TABLE: readonly number[] = [
  0, 67021687, 133525159, 199015846, 263043837, 325220151, 385227074, 442822340, 497837829,
  550173994, 599791448, 646701114, 690954054, 732631822, 771837835, 808690030, 843314857,
];

/** Horner at Q30: p = c[0]; p = c[i] + p * z for each next coefficient (|p * z| < 2^62). */
export function hornerQ30(coefficients: readonly number[], z: number): number {
  let p = coefficients[0];
  for (let i = 1; i < coefficients.length; i++) p = coefficients[i] + mulShift(p, z, 30);
  return p;
}

/** A Q30 result rounded to frac fo and saturated: the one rounding of every function here. */
const finish = (v: number, fo: number): number => saturate(roundShift(v, 30 - fo));

const MASK62 = (1n << 62n) - 1n;
const LIMBS = TWO_OVER_PI.map(BigInt);

/**
 * The phase of a = |x| (0 <= a <= 2^31, at frac fx <= 30): the nearest quarter turn q (mod 4)
 * and the remainder r = a/2^fx - q pi/2 + 2 pi n at Q30, |r| <= pi/4 (+ 2^-29).
 * i64 steps: P = ((a C0) << (31 - fx)) + ((a C1) >> fx) + ((a C2) >> (31 + fx)) mod 2^64, each
 * product below 2^62; P + 2^61 splits into q (the top two bits) and a signed remainder f in
 * [-2^61, 2^61) at Q62; f at Q33 (floor) times pi/2 at Q29 (< 2^61.7) is r at Q30.
 */
export function quarterTurns(a: number, fx: number): { q: number; r: number } {
  const big = BigInt(a);
  const phase = BigInt.asUintN(64,
    ((big * LIMBS[0]) << BigInt(31 - fx)) + ((big * LIMBS[1]) >> BigInt(fx)) + ((big * LIMBS[2]) >> BigInt(31 + fx)) + (1n << 61n));
  const q = Number(phase >> 62n);
  const f33 = Number(((phase & MASK62) - (1n << 61n)) >> 29n);
  return { q, r: mulShift(f33, HALF_PI_Q29, 32) };
}

/** sin r and cos r at Q30 for |r| <= pi/4 + 2^-29 at Q30 (z = r^2 < 2^30). */
export function sinCosQ30(r: number): { s: number; c: number } {
  const z = mulShift(r, r, 30);
  return { s: mulShift(hornerQ30(SIN_POLY, z), r, 30), c: hornerQ30(COS_POLY, z) };
}

/** sin and cos of x / 2^fx at Q30 (in [-2^30, 2^30] up to a few units), for an i32 x. */
export function sinCosOfQ30(x: number, fx: number): { sin: number; cos: number } {
  const { q, r } = quarterTurns(Math.abs(x), fx);
  const { s, c } = sinCosQ30(r);
  // Quadrant q turns (s, c) by q quarter turns: (s, c), (c, -s), (-s, -c), (-c, s).
  const sinA = q === 0 ? s : q === 1 ? c : q === 2 ? -s : -c;
  const cosA = q === 0 ? c : q === 1 ? -s : q === 2 ? -c : s;
  return { sin: x < 0 ? -sinA : sinA, cos: cosA };
}

export const fixedSin = (x: number, fx: number, fo: number): number => finish(sinCosOfQ30(x, fx).sin, fo);
export const fixedCos = (x: number, fx: number, fo: number): number => finish(sinCosOfQ30(x, fx).cos, fo);

/** tan = sin / cos, one division rounded to nearest (a zero cosine saturates by the sine's sign). */
export function fixedTan(x: number, fx: number, fo: number): number {
  const { sin, cos } = sinCosOfQ30(x, fx);
  return saturate(divShiftRound(sin, fo, cos));
}

/** atan(t / 2^30) at Q30 for 0 <= t <= 2^30: atan(j/16) + atan(u), u = (t - j/16) / (1 + t j/16), |u| <= 1/32. */
export function atanUnitQ30(t: number): number {
  const j = Math.floor((t + 2 ** 25) / 2 ** 26); // nearest j/16
  const u = divShiftRound(t - j * 2 ** 26, 30, ONE_Q30 + mulShift(t, j, 4));
  return ATAN_TABLE[j] + mulShift(hornerQ30(ATAN_POLY, mulShift(u, u, 30)), u, 30);
}

/** atan(p / q) at Q30 in [0, pi/2] for 0 <= p, q < 2^51, not both 0: the smaller over the larger. */
export function atanRatioQ30(p: number, q: number): number {
  return p <= q ? atanUnitQ30(divShiftRound(p, 30, q)) : HALF_PI_Q30 - atanUnitQ30(divShiftRound(q, 30, p));
}

export function fixedAtan(x: number, fx: number, fo: number): number {
  const y = atanRatioQ30(Math.abs(x), 2 ** fx);
  return finish(x < 0 ? -y : y, fo);
}

/**
 * For |x| clamped to [0, 1]: p = |x| at Q30 (through Q26: an input frac above 26 is rounded)
 * and s = sqrt(1 - x^2) at Q30, floor(sqrt((1 - A)(1 + A) 2^8)) for A at Q26 (product <= 2^52).
 */
function unitSineCosine(x: number, fx: number): { p: number; s: number } {
  const a = Math.min(roundShift(Math.abs(x), fx - 26), 2 ** 26);
  return { p: a * 16, s: sqrtFloorShifted((2 ** 26 - a) * (2 ** 26 + a), 8) };
}

export function fixedAsin(x: number, fx: number, fo: number): number {
  const { p, s } = unitSineCosine(x, fx);
  const y = atanRatioQ30(p, s);
  return finish(x < 0 ? -y : y, fo);
}

export function fixedAcos(x: number, fx: number, fo: number): number {
  const { p, s } = unitSineCosine(x, fx);
  const y = atanRatioQ30(s, p);
  return finish(x < 0 ? PI_Q30 - y : y, fo);
}

/** e^(x / 2^fx) = m 2^(k - 30) with m in [2^30, 2^31], for |x| < 32 2^fx: fixedExp before its final shift. */
export function expParts(x: number, fx: number): { m: number; k: number } {
  const t = mulShift(roundShift(x, fx - 26), LOG2E_Q30, 26); // Q30, |t| < 46.2 2^30
  const k = Math.floor(t / ONE_Q30);
  const f = t - k * ONE_Q30;
  const j = Math.floor(f / 2 ** 26);
  return { m: mulShift(EXP2_TABLE[j], hornerQ30(EXP2_POLY, f - j * 2 ** 26), 30), k };
}

/**
 * (e^a +- e^-a) / 2 at frac fo for a = |x| (sign +1: cosh, -1: sinh of |x|): both exponentials
 * as (m, k), e^-a aligned to e^a's exponent (k+ >= 0 >= k-; a shift past 32 leaves 0), the
 * sum or difference D (|D| < 2^32) scaled by 2^(k+ - 31) to fo in one rounding.
 */
function expPair(x: number, fx: number, fo: number, sign: 1 | -1): number {
  const a = Math.abs(x);
  if (a >= 32 * 2 ** fx) return I32_MAX; // e^32 / 2 > 2^45: beyond every output frac
  const up = expParts(a, fx);
  const down = expParts(-a, fx);
  const d = up.k - down.k;
  const d2 = up.m + sign * (d > 32 ? 0 : roundShift(down.m, d));
  const s = 31 - up.k - fo;
  // A left shift happens only for e^a >= 2^(31 - fo - 1), where D >= 2^29: 30 more bits saturate.
  return saturate(s <= 0 ? d2 * 2 ** Math.min(-s, 30) : roundShift(d2, s));
}

export const fixedCosh = (x: number, fx: number, fo: number): number => expPair(x, fx, fo, 1);

export function fixedSinh(x: number, fx: number, fo: number): number {
  const y = expPair(x, fx, fo, -1);
  return x < 0 ? -y : y;
}

/**
 * asinh |x| at Q30: below 1, ln(A + sqrt(A^2 + 1)) with A at Q26 (A^2 + 2^52 < 2^53, root at
 * Q30); from 1, ln a + ln(1 + sqrt(1 + b^2)) with b = 1/a at Q30 (the root of a value < 2^61).
 */
function asinhQ30(a: number, fx: number): number {
  if (a < 2 ** fx) {
    const a26 = roundShift(a, fx - 26);
    return fixedLogQ30(a26 * 16 + sqrtFloorShifted(a26 * a26 + 2 ** 52, 8), 30);
  }
  const b = divShiftRound(2 ** fx, 30, a);
  return fixedLogQ30(a, fx) + fixedLogQ30(ONE_Q30 + sqrtFloorShifted(ONE_Q30 + mulShift(b, b, 30), 30), 30);
}

export function fixedAsinh(x: number, fx: number, fo: number): number {
  const y = asinhQ30(Math.abs(x), fx);
  return finish(x < 0 ? -y : y, fo);
}

/**
 * acosh x for x >= 1 (0 below): under 2, ln(A + sqrt((A - 1)(A + 1))) with A at Q25 (the
 * product < 2^52 is exact, so the steep start near 1 keeps full precision); from 2,
 * ln x + ln(1 + sqrt(1 - b^2)) with b = 1/x <= 1/2 at Q30.
 */
export function fixedAcosh(x: number, fx: number, fo: number): number {
  if (x <= 2 ** fx) return 0;
  if (x < 2 ** (fx + 1)) {
    const a25 = roundShift(x, fx - 25);
    return finish(fixedLogQ30(a25 * 32 + sqrtFloorShifted((a25 - 2 ** 25) * (a25 + 2 ** 25), 10), 30), fo);
  }
  const b = divShiftRound(2 ** fx, 30, x);
  return finish(fixedLogQ30(x, fx) + fixedLogQ30(ONE_Q30 + sqrtFloorShifted(ONE_Q30 - mulShift(b, b, 30), 30), 30), fo);
}

/** atanh x = (ln(1 + |x|) - ln(1 - |x|)) / 2 on exact integers at fx; |x| >= 1 saturates. */
export function fixedAtanh(x: number, fx: number, fo: number): number {
  const a = Math.abs(x);
  const one = 2 ** fx;
  if (a >= one) return x < 0 ? -I32_MAX : I32_MAX;
  const y = saturate(roundShift(fixedLogQ30(one + a, fx) - fixedLogQ30(one - a, fx), 31 - fo));
  return x < 0 ? -y : y;
}
