/**
 * The fixed-point contract of detml, written once. A real number r is stored as the integer
 * round(r * 2^frac) in an i32. Every narrowing (a product back to the activation scale, a sum
 * to a smaller frac) uses ROUND HALF UP, `floor((v + 2^(s-1)) / 2^s)`, the same as
 * `(v + (1 << (s-1))) >> s` with an arithmetic shift, and then SATURATES to the i32 range.
 * Wide intermediates (products, sums of products) are i64; they are exact here as long as they
 * stay below 2^53 in magnitude and callers that cannot prove that use the BigInt variants. Only
 * accumulation wraps (modulo 2^64, as WASM's i64 does); narrowing to i32 never wraps, it
 * saturates the exact value. The compiler emits exactly these rules.
 */

export const I32_MIN = -2147483648;
export const I32_MAX = 2147483647;
/** Default number of fractional bits for activations: Q16.16 (see docs/numerics.md). */
export const DEFAULT_FRAC = 16;
/** Largest magnitude for which float64 arithmetic on integers is exact. */
export const EXACT_LIMIT = 2 ** 53;

/** Clamp an integer to the i32 range. */
export function saturate(v: number): number {
  return v > I32_MAX ? I32_MAX : v < I32_MIN ? I32_MIN : v;
}

/** 2^i for i in 0..63, looked up because `2 ** s` is slow on hot paths. */
const POW2: readonly number[] = Array.from({ length: 64 }, (_, i) => 2 ** i);

/** floor((v + 2^(s-1)) / 2^s) for s > 0, v * 2^-s for s <= 0. Exact for |v| < 2^53. */
export function roundShift(v: number, s: number): number {
  if (s <= 0) return v * (POW2[-s] ?? 2 ** -s);
  const p = POW2[s] ?? 2 ** s;
  return Math.floor((v + p / 2) / p);
}

/**
 * roundShift on an i64 value with WASM wrap-around semantics for the rounding add. A left shift
 * (s < 0) is exact, not wrapped: narrowing saturates the exact value (emitted code clamps to the
 * i32 range before shifting left, which cannot change a saturated result).
 */
export function roundShiftBig(v: bigint, s: number): bigint {
  if (s <= 0) return v << BigInt(-s);
  return BigInt.asIntN(64, v + (1n << BigInt(s - 1))) >> BigInt(s);
}

/** Narrow an exact wide integer held at frac `from` to an i32 at frac `to`. */
export function narrow(v: number, from: number, to: number): number {
  return saturate(roundShift(v, from - to));
}

/** narrow() for an i64 held as a BigInt. */
export function narrowBig(v: bigint, from: number, to: number): number {
  const r = roundShiftBig(v, from - to);
  return r > 2147483647n ? I32_MAX : r < -2147483648n ? I32_MIN : Number(r);
}

/** Change the frac of an i32 value: left shifts saturate, right shifts round half up. */
export function rescale(v: number, from: number, to: number): number {
  return from === to ? v : narrow(v, from, to);
}

/** Float to fixed: floor(x * 2^frac + 0.5), saturated; NaN becomes 0. Used only at the edges. */
export function quantize(x: number, frac: number): number {
  if (Number.isNaN(x)) return 0;
  const v = Math.floor(x * 2 ** frac + 0.5);
  return Number.isFinite(v) ? saturate(v) : x > 0 ? I32_MAX : I32_MIN;
}

/** quantize() over many values into `out` (the conversion of whole weight tensors): the same rule, without a call per value. */
export function quantizeInto(values: ArrayLike<number>, frac: number, out: Int32Array): void {
  const scale = 2 ** frac;
  for (let i = 0; i < values.length; i++) {
    const v = Math.floor(values[i] * scale + 0.5);
    // NaN fails both tests and becomes 0 through `| 0`; infinities saturate like large values.
    out[i] = v >= I32_MAX ? I32_MAX : v <= I32_MIN ? I32_MIN : v | 0;
  }
}

/** Fixed to float: v / 2^frac. Used only at the edges. */
export function dequantize(v: number, frac: number): number {
  return v / 2 ** frac;
}

/** What every fixed-point division by zero gives: I32_MAX, I32_MIN or 0 by the sign of the numerator. */
export function divideByZero(num: number): number {
  return num > 0 ? I32_MAX : num < 0 ? I32_MIN : 0;
}

/**
 * Integer division rounded to nearest, ties away from zero. Division by zero saturates to
 * I32_MAX or I32_MIN by the sign of the numerator (0 for 0/0). The result is NOT saturated
 * otherwise: callers narrow it. Inputs are exact integers; for |num| < 2^52 the float quotient's
 * truncation is the exact truncated quotient (its rounding error is below 1/|den|).
 */
export function divRound(num: number, den: number): number {
  if (den === 0) return divideByZero(num);
  if (Math.abs(num) >= 2 ** 52) return Number(divRoundBig(BigInt(num), BigInt(den)));
  const q = Math.trunc(num / den);
  const r = num - q * den;
  if (2 * Math.abs(r) < Math.abs(den)) return q;
  return num < 0 !== den < 0 ? q - 1 : q + 1;
}

/** divRound on i64 values held as BigInt. */
export function divRoundBig(num: bigint, den: bigint): bigint {
  if (den === 0n) return num > 0n ? BigInt(I32_MAX) : num < 0n ? BigInt(I32_MIN) : 0n;
  const q = num / den;
  const r = num - q * den;
  const twoR = r < 0n ? -2n * r : 2n * r;
  if (twoR < (den < 0n ? -den : den)) return q;
  return num < 0n !== den < 0n ? q - 1n : q + 1n;
}

/** Most fractional bits a constant (weight) tensor gets; see docs/numerics.md. */
export const MAX_WEIGHT_FRAC = 20;

/**
 * The frac for a constant tensor of real values: as many fractional bits as keep the largest
 * magnitude below 2^30 (one bit of headroom), at most MAX_WEIGHT_FRAC, at least 0.
 */
export function chooseFrac(values: ArrayLike<number>): number {
  let maxAbs = 0;
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]);
    if (a > maxAbs && Number.isFinite(a)) maxAbs = a;
  }
  if (maxAbs === 0) return MAX_WEIGHT_FRAC;
  const f = 30 - Math.ceil(Math.log2(maxAbs + Number.EPSILON));
  return Math.max(0, Math.min(MAX_WEIGHT_FRAC, f));
}
