/**
 * Float64 references and the documented error bounds of the nonlinear ops (docs/numerics.md),
 * shared by the op tests and the numerics sweep. A bound says: the i32 result y at frac fo is
 * within 0.5 + (abs + rel * |f(x)|) * 2^fo units of f(x) * 2^fo clamped to the i32 range, where
 * 0.5 is the final rounding and abs/rel the measured error of the integer algorithm before it
 * (rounded up). Float erf here is accurate to ~1e-15: a series below 2.5, a continued fraction above.
 */

export function erfRef(x: number): number {
  const a = Math.abs(x);
  if (a > 2.5) return Math.sign(x) * (1 - erfcLarge(a));
  // erf(a) = 2/sqrt(pi) * sum (-1)^n a^(2n+1) / (n! (2n+1))
  let term = a;
  let sum = a;
  for (let n = 1; Math.abs(term) > 1e-17 * sum; n++) {
    term *= (-a * a) / n;
    sum += term / (2 * n + 1);
  }
  return (Math.sign(x) * sum * 2) / Math.sqrt(Math.PI);
}

/** erfc(a) for a > 2.5: exp(-a^2)/sqrt(pi) / (a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))), Lentz. */
function erfcLarge(a: number): number {
  let f = a;
  let c = a;
  let d = 0;
  for (let k = 1; k < 300; k++) {
    d = 1 / (a + (k / 2) * d);
    c = a + k / 2 / c;
    f *= c * d;
    if (Math.abs(c * d - 1) < 1e-16) break;
  }
  return Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
}

export const geluRef = (x: number): number => (x * (1 + erfRef(x / Math.SQRT2))) / 2;
export const geluTanhRef = (x: number): number =>
  0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
export const sigmoidRef = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * Chebyshev interpolation of f on [lo, hi] with degree `degree`, as monomial coefficients in the
 * local variable u in [-1, 1] (x = (lo + hi)/2 + u (hi - lo)/2), lowest first.
 */
export function chebyshevMonomials(f: (x: number) => number, lo: number, hi: number, degree: number): number[] {
  const n = degree + 1;
  const values = Array.from({ length: n }, (_, k) => f((lo + hi) / 2 + (Math.cos((Math.PI * (k + 0.5)) / n) * (hi - lo)) / 2));
  const cheb = Array.from({ length: n }, (_, j) =>
    ((j === 0 ? 1 : 2) / n) * values.reduce((s, v, k) => s + v * Math.cos((Math.PI * j * (k + 0.5)) / n), 0));
  // T_0 = 1, T_1 = u, T_{j+1} = 2u T_j - T_{j-1}, accumulated as monomial coefficient arrays.
  const mono = new Array<number>(n).fill(0);
  let prev = [1];
  let cur = [0, 1];
  mono[0] += cheb[0];
  if (n > 1) mono[1] += cheb[1];
  for (let j = 2; j < n; j++) {
    const next = new Array<number>(j + 1).fill(0);
    cur.forEach((c, i) => (next[i + 1] += 2 * c));
    prev.forEach((c, i) => (next[i] -= c));
    next.forEach((c, i) => (mono[i] += cheb[j] * c));
    prev = cur;
    cur = next;
  }
  return mono;
}

/** Error of the integer algorithm before the final rounding: abs + rel * |f(x)| (real units). */
export interface Bound {
  abs: number;
  rel: number;
}

/** The documented bounds (docs/numerics.md), for any input frac and output frac in 0..30. */
export const BOUNDS = {
  exp: { abs: 0, rel: 2e-8 },
  log: { abs: 3e-9, rel: 0 },
  sqrt: { abs: 0, rel: 0 },
  reciprocal: { abs: 0, rel: 0 },
  div: { abs: 0, rel: 0 },
  sigmoid: { abs: 5e-9, rel: 0 },
  tanh: { abs: 1e-8, rel: 0 },
  erf: { abs: 1e-8, rel: 0 },
  gelu: { abs: 2.5e-8, rel: 0 },
  geluTanh: { abs: 5e-8, rel: 0 },
  elu: { abs: 2e-8, rel: 0 }, // times |alpha|
  softmax: { abs: 4e-8, rel: 0 },
  logSoftmax: { abs: 3e-8, rel: 0 },
} satisfies Record<string, Bound>;

/** |y - clamp(real * 2^frac)| in units of the output's last place. */
export function unitsError(y: number, real: number, frac: number): number {
  const target = Math.min(Math.max(real * 2 ** frac, -2147483648), 2147483647);
  return Math.abs(y - target);
}

/** The tolerance in output units of a bound at frac `frac` for the true value `real`. */
export function tolerance(bound: Bound, real: number, frac: number): number {
  return 0.5 + (bound.abs + bound.rel * Math.abs(real)) * 2 ** frac + 1e-9;
}

const bitLength = (n: number): number => n.toString(2).length;

/**
 * The LayerNormalization bound beyond the final half unit, in real units: the two guard-bit
 * roundings, and |scale| times the errors of z = (x - mean) / sigma: its rounding to normFrac
 * bits, the scaling of the deviations to devBits bits, the mean's 20 extra bits, and the relative
 * error of the variance and the reciprocal square root (n = group size, fx, fo = fracs).
 */
export function layerNormExcess(n: number, z: number, sigma: number, scale: number, fx: number, fo: number): number {
  const devBits = Math.floor((62 - bitLength(n)) / 2);
  const normFrac = 30 - Math.ceil(bitLength(n) / 2);
  const zError = 2 ** -(normFrac + 1) + Math.sqrt(n) * 2 ** -devBits * (1 + Math.abs(z)) +
    2 ** -(fx + 21) / sigma + 1e-8 * Math.abs(z);
  return 2 ** -(fo + 16) + Math.abs(scale) * zError;
}

/**
 * The BatchNormalization bound beyond the final half unit, in real units, for the exact
 * (x - mean) * scale / sigma = `product`: the guard-bit roundings plus the relative errors of
 * the reciprocal square root, of a = scale * rsqrt and of x - mean narrowed to 31 bits.
 */
export function batchNormExcess(product: number, fo: number): number {
  return 2 ** -(fo + 16) + 5e-9 * Math.abs(product);
}
