/**
 * Reference helpers for the nn op tests (MatMul, Gemm, Conv, ConvTranspose, pools), written
 * independently of the kernels: row-major multi-index walks, an op described as a list of
 * products per output ("terms"), and two evaluations of such a list: in float64 on dequantized
 * values (the real-number meaning) and in exact BigInt with the i64 wrap and the round-half-up
 * narrow (the bit-exact meaning, for values too large for float64).
 */
import { expect } from "vitest";
import type { Tensor } from "../../lib/tensor/tensor.js";

/** Every multi-index of `shape` in row-major order. */
export function* multiIndices(shape: readonly number[]): Generator<number[]> {
  const total = shape.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(shape.length).fill(0);
  for (let n = 0; n < total; n++) {
    yield [...idx];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

export function flatIndex(shape: readonly number[], idx: readonly number[]): number {
  return idx.reduce((acc, v, d) => acc * shape[d] + v, 0);
}

/** One output of a multiply-accumulate op: products x[xi] * w[wi], plus bias[bias] when >= 0. */
export interface Terms {
  pairs: [number, number][];
  bias: number;
}

export function evalFloat(terms: Terms[], x: Tensor, w: Tensor, b?: Tensor): number[] {
  const xf = x.toFloat();
  const wf = w.toFloat();
  const bf = b?.toFloat();
  return terms.map((t) => t.pairs.reduce((s, [i, j]) => s + xf[i] * wf[j], bf && t.bias >= 0 ? bf[t.bias] : 0));
}

/** floor(v / 2^s) for any sign of v (BigInt division truncates, so correct it). */
function floorDivPow2(v: bigint, s: number): bigint {
  const d = 1n << BigInt(s);
  const q = v / d;
  return q * d > v ? q - 1n : q;
}

/**
 * Narrow an i64 from frac `from` to `to`: add 2^(s-1) (an i64 add, wrapping) and floor-divide by
 * 2^s, or scale exactly by 2^-s when the frac grows; then saturate to i32.
 */
export function roundToFrac(v: bigint, from: number, to: number): number {
  const s = from - to;
  const r = s > 0 ? floorDivPow2(BigInt.asIntN(64, v + (1n << BigInt(s - 1))), s) : v * (1n << BigInt(-s));
  return r > 2147483647n ? 2147483647 : r < -2147483648n ? -2147483648 : Number(r);
}

/** An exact multiplier mantissa / 2^frac (Gemm's alpha and beta in lowest terms). */
export type Multiplier = [mantissa: number, frac: number];

/**
 * The bit-exact result of terms: products at frac x.frac + w.frac (+ the frac of `scale`, whose
 * mantissa multiplies them), the bias (times `biasScale`) aligned to that frac by a left shift or,
 * when its frac is higher, a round-half-up right shift; the sum reduced modulo 2^64 as an i64;
 * then one round-half-up narrow to `outFrac`.
 */
export function evalExact(terms: Terms[], x: Tensor, w: Tensor, b: Tensor | undefined, outFrac: number,
  scale: Multiplier = [1, 0], biasScale: Multiplier = [1, 0]): number[] {
  const accFrac = x.frac + w.frac + scale[1];
  const alignBias = (v: number, frac: number): bigint => {
    const scaled = BigInt(v) * BigInt(biasScale[0]);
    const f = frac + biasScale[1];
    if (f <= accFrac) return scaled << BigInt(accFrac - f);
    return floorDivPow2(scaled + (1n << BigInt(f - accFrac - 1)), f - accFrac);
  };
  return terms.map((t) => {
    let sum = 0n;
    for (const [i, j] of t.pairs) sum += BigInt(x.data[i]) * BigInt(w.data[j]);
    sum *= BigInt(scale[0]);
    if (b && t.bias >= 0) sum += alignBias(b.data[t.bias], b.frac);
    return roundToFrac(BigInt.asIntN(64, sum), accFrac, outFrac);
  });
}

/**
 * Expect a fixed-point result within `ulps` units of its last place (2^-frac) of real references.
 * A tiny slack absorbs the float64 reference's own rounding (orders of magnitude below an ulp).
 */
export function expectNear(y: Tensor, expected: ArrayLike<number>, ulps: number): void {
  expect(y.size).toBe(expected.length);
  const tol = ulps * 2 ** -y.frac * (1 + 1e-9);
  const got = y.toFloat();
  let worst = 0;
  let at = -1;
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i] - expected[i]);
    if (err > worst) [worst, at] = [err, i];
  }
  if (worst > tol) {
    expect.fail(`value ${at}: got ${got[at]}, expected ${expected[at]} (error ${worst / 2 ** -y.frac} ulp > ${ulps})`);
  }
}
