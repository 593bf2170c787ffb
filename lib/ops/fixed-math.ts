/**
 * Scalar integer primitives behind the nonlinear ops (docs/numerics.md): exact multiply-and-shift,
 * exact scaled division, integer square root and reciprocal square root. Each one is the short
 * sequence of i64 operations the compiler emits (mul, add, shifts, div/rem, compare/select, clz,
 * loops with a constant bound). The JS versions split or bound their operands so that every
 * intermediate stays below 2^53 in magnitude: they compute exactly the integers the i64 code
 * computes, without BigInt.
 */
import { divideByZero } from "../tensor/fixed.js";

/** 1.0 in the Q30 working format of the nonlinear algorithms. */
export const ONE_Q30 = 2 ** 30;

/**
 * Magnitude that the wide helpers return for "far beyond i32" (a quotient that grew past it);
 * callers saturate it to I32_MAX/I32_MIN.
 */
export const WIDE_LIMIT = 2 ** 52;

/** Significant bits of an integer 0 <= v < 2^53 (0 for 0): 64 - i64.clz(v). */
export function bitLength(v: number): number {
  return v >= 2 ** 32 ? 64 - Math.clz32(Math.floor(v / 2 ** 32)) : 32 - Math.clz32(v);
}

/**
 * floor((a * b + addHigh * 2^16 + addLow) / 2^p) for integers with |a| < 2^36, |a * b| < 2^62,
 * |addHigh| <= 2^45, 0 <= addLow < 2^16 and p >= 0. JS splits b = bh * 2^16 + bl (0 <= bl < 2^16):
 * hi = a*bh + addHigh (< 2^47) and lo = a*bl + addLow (< 2^53) are exact, and
 * floor((hi * 2^16 + lo) / 2^p) is assembled from them without rounding. The result is exact
 * when its magnitude is below 2^53 (callers saturate larger ones).
 */
function mulAddFloor(a: number, b: number, addHigh: number, addLow: number, p: number): number {
  const bl = b - Math.floor(b / 65536) * 65536;
  const bh = (b - bl) / 65536;
  const hi = a * bh + addHigh;
  const lo = a * bl + addLow;
  // (`+ 0` turns a JS -0, from a negative a times 0, into 0.)
  if (p >= 16) return Math.floor((hi + Math.floor(lo / 65536)) / 2 ** (p - 16)) + 0;
  return hi * 2 ** (16 - p) + Math.floor(lo / 2 ** p) + 0;
}

/**
 * a * b / 2^s rounded half up, `(a*b + 2^(s-1)) >> s` in i64, for |a| < 2^36 and |a*b| < 2^62;
 * exact whenever the result is below 2^53. A shift s <= 0 multiplies by 2^-s (exact below 2^53;
 * larger values are far outside i32 and callers saturate them: emitted code clamps before
 * shifting left).
 */
export function mulShift(a: number, b: number, s: number): number {
  if (s <= 0) return a * b * 2 ** -s + 0;
  // The rounding term 2^(s-1) joins the high part (as 2^(s-17) * 2^16) or the low part.
  return s > 16 ? mulAddFloor(a, b, 2 ** (s - 17), 0, s) : mulAddFloor(a, b, 0, 2 ** (s - 1), s);
}

/** floor(n / d) for integers 0 <= n < 2^52 and 1 <= d < 2^52 (one float division, then a +-1 fix-up). */
function floorDiv(n: number, d: number): number {
  const q = Math.trunc(n / d);
  const r = n - q * d; // q * d <= n + d < 2^53: exact
  return r < 0 ? q - 1 : r >= d ? q + 1 : q;
}

/**
 * a * 2^sh / b rounded to nearest, ties away from zero (the divRound rule), for |a| < 2^51 and
 * |b| < 2^51. Division by zero gives I32_MAX, I32_MIN or 0 by the sign of a (divRound).
 * The result is exact when its magnitude is below 2^52 and +-WIDE_LIMIT otherwise, so callers
 * saturate. Steps: integer quotient and remainder of |a| / |b|, then schoolbook long division
 * bringing in the sh zero bits of the shifted numerator in chunks that keep remainder * 2^chunk
 * below 2^52 (i64 code can take chunks of up to 63 - bitLength(b) bits; the quotient is the same).
 */
export function divShiftRound(a: number, sh: number, b: number): number {
  if (b === 0) return divideByZero(a);
  const negative = a < 0 !== b < 0;
  const num = Math.abs(a);
  let den = Math.abs(b);
  if (sh < 0) {
    // Divide by b * 2^-sh instead; once that is >= 2^52 > 2|a| the quotient rounds to 0.
    if (bitLength(den) - sh > 52) return 0;
    den *= 2 ** -sh;
    sh = 0;
  }
  let q = floorDiv(num, den);
  let r = num - q * den;
  const chunk = 52 - bitLength(den); // >= 1: r * 2^chunk < den * 2^chunk <= 2^52
  while (sh > 0) {
    const c = sh < chunk ? sh : chunk;
    if (q >= 2 ** (52 - c)) return negative ? -WIDE_LIMIT : WIDE_LIMIT;
    const t = r * 2 ** c;
    const digit = floorDiv(t, den);
    r = t - digit * den;
    q = q * 2 ** c + digit;
    sh -= c;
  }
  if (2 * r >= den) q += 1;
  return negative ? 0 - q : q;
}

/**
 * floor(sqrt(x * 2^t)) for integers 0 <= x < 2^53 and t >= 0 with x * 2^t < 2^64: the
 * digit-by-digit (restoring) square root over the 32 bit pairs of the u64 M = x << t, a loop of
 * exactly 32 iterations. The remainder stays <= 2 * root < 2^33, so every value is exact.
 */
export function sqrtFloorShifted(x: number, t: number): number {
  let root = 0;
  let rem = 0;
  for (let i = 31; i >= 0; i--) {
    // Bits 2i+1..2i of M, i.e. (M >> 2i) & 3 in i64 code, read from x.
    const k = 2 * i - t;
    const pair = k >= 0 ? Math.floor(x / 2 ** k) % 4 : k === -1 ? (x % 2) * 2 : 0;
    rem = rem * 4 + pair;
    const trial = root * 4 + 1;
    root *= 2;
    if (rem >= trial) {
      rem -= trial;
      root += 1;
    }
  }
  return root;
}

/** 1/sqrt(w / 2^f) ~= r / 2^k with r in [2^29, 2^30]. */
export interface Rsqrt {
  r: number;
  k: number;
}

/**
 * Reciprocal square root of the real w / 2^f, for an integer 1 <= w < 2^53 and any integer f.
 * 1. Shift w left by t so that w * 2^t is in [2^62, 2^64) and t + f is even.
 * 2. s = floor(sqrt(w * 2^t)) in [2^31, 2^32) (32-step integer square root).
 * 3. r = round(2^61 / s), so 1/sqrt(w / 2^f) = 2^((t+f)/2) / sqrt(w * 2^t) ~= r / 2^(61 - (t+f)/2).
 * Relative error below 1.5 * 2^-30 (floor of the root: < 2^-31; rounding of r: <= 2^-30).
 */
export function rsqrt(w: number, f: number): Rsqrt {
  let t = 64 - bitLength(w);
  if (((t + f) & 1) !== 0) t -= 1;
  const s = sqrtFloorShifted(w, t);
  return { r: divShiftRound(1, 61, s), k: 61 - (t + f) / 2 };
}
