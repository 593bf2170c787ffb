/**
 * The one exact multiply-accumulate core behind MatMul, Gemm, Conv and ConvTranspose:
 * out[r][c] = narrow(scale * sum_t a[r][t] * b[t][c] + bias[r][c]) over strided matrix views.
 * Numerics, as the compiler must emit them: an input at frac fa times a weight at frac fb is an
 * i64 product at frac fa+fb; products, the optional integer scale (Gemm alpha) and the bias term
 * (already aligned to the accumulator frac) combine with i64 arithmetic that wraps modulo 2^64;
 * the result narrows ONCE to the output frac (round half up, saturate to i32).
 * In JS the same integers are computed one of two ways, chosen per op call from a bound on every
 * intermediate: plain float64 when the bound is below 2^53 (then every value is an exact integer
 * and no i64 wrap can happen), otherwise BigInt with explicit wrap-around. The two loops below
 * mirror each other line for line.
 */
import { EXACT_LIMIT, narrow, narrowBig, roundShiftBig } from "../tensor/fixed.js";
import { check } from "./op.js";

/** What shape validation reads from a Tensor or a TensorType (infer and kernels share validators). */
export type OperandType = { readonly shape: readonly number[]; readonly frac: number };

/** An exact real multiplier mantissa / 2^frac (an integer `fixed` attribute in lowest terms). */
export interface Ratio {
  mantissa: number;
  frac: number;
}

/**
 * A fixed-point attribute (integer at `frac` bits) in lowest terms: trailing zero bits are
 * dropped from the mantissa, so 1.0 = 65536/2^16 becomes 1/2^0 and costs no accumulator bits.
 */
export function lowestTerms(value: number, frac: number): Ratio {
  let mantissa = value;
  let f = frac;
  while (f > 0 && mantissa % 2 === 0) {
    mantissa /= 2;
    f--;
  }
  return { mantissa, frac: f };
}

/** The largest accumulator frac: every shift the core performs (2^(s-1) rounding, bias shifts) stays below 64 bits. */
export const MAX_ACCUMULATOR_FRAC = 63;

export function checkAccumulatorFrac(op: string, accFrac: number): void {
  check(accFrac <= MAX_ACCUMULATOR_FRAC,
    `${op} accumulator frac ${accFrac} (sum of the operand and scale fracs) exceeds ${MAX_ACCUMULATOR_FRAC}`);
}

/** Largest magnitude in an i32 array (0 when empty). */
export function maxAbs(data: Int32Array): number {
  let m = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i] < 0 ? -data[i] : data[i];
    if (v > m) m = v;
  }
  return m;
}

/** What one op's accumulation needs to know before its first product. */
export interface MacSpec {
  /** Largest |a|, largest |b| and the dot-product length: they bound every partial sum. */
  maxA: number;
  maxB: number;
  depth: number;
  /** Frac of a product a*b: frac(a) + frac(b). */
  productFrac: number;
  /** Multiplier of the dot products (Gemm alpha); 1 when absent. */
  scale?: Ratio;
  /** Bias values at `frac`, optionally multiplied by `scale` (Gemm beta). */
  bias?: { data: Int32Array; frac: number; scale?: Ratio };
  outFrac: number;
}

/** The resolved arithmetic of one op call; pass it to every `multiplyAccumulate` of that call. */
export interface MacPlan {
  accFrac: number;
  outFrac: number;
  scale: number;
  useBigInt: boolean;
  /** Bias terms at accFrac, in the representation of the chosen path (null: no bias). */
  biasNumbers: Float64Array | null;
  biasBigInts: BigInt64Array | null;
}

/**
 * True when float64 arithmetic is exact for every intermediate of an accumulation whose values
 * stay within `bound` in magnitude, including the rounding add of 2^(s-1) of a final right shift
 * by s. A final left shift needs no room: it is a power-of-two scaling, exact in float64, and
 * narrowing saturates the exact value (lib/tensor/fixed.ts).
 */
export function exactInFloat(bound: number, accFrac: number, outFrac: number): boolean {
  const s = accFrac - outFrac;
  return (s > 0 ? bound + 2 ** (s - 1) : bound) < EXACT_LIMIT;
}

/**
 * Resolve fracs, compute the bias terms with i64 semantics (value * bias scale, aligned to the
 * accumulator frac: exact left shift, or round-half-up right shift when the bias frac is higher)
 * and choose the exact path from max|scale| * max|a| * max|b| * depth + max|bias term|.
 */
export function prepareMac(op: string, spec: MacSpec): MacPlan {
  const scale = spec.scale ?? { mantissa: 1, frac: 0 };
  const accFrac = spec.productFrac + scale.frac;
  checkAccumulatorFrac(op, accFrac);
  let biasBigInts: BigInt64Array | null = null;
  let maxBias = 0n;
  if (spec.bias) {
    const { data, frac } = spec.bias;
    const biasScale = spec.bias.scale ?? { mantissa: 1, frac: 0 };
    const multiplier = BigInt(biasScale.mantissa);
    const shift = frac + biasScale.frac - accFrac;
    biasBigInts = new BigInt64Array(data.length);
    for (let i = 0; i < data.length; i++) {
      // The aligned bias is an i64 addend of the accumulator: like the sum, it wraps.
      const term = BigInt.asIntN(64, roundShiftBig(BigInt(data[i]) * multiplier, shift));
      biasBigInts[i] = term;
      const magnitude = term < 0n ? -term : term;
      if (magnitude > maxBias) maxBias = magnitude;
    }
  }
  // Float rounding of this estimate is monotone, so "< 2^53" is decided correctly.
  const bound = Math.abs(scale.mantissa) * spec.maxA * spec.maxB * spec.depth + Number(maxBias);
  const useBigInt = !exactInFloat(bound, accFrac, spec.outFrac);
  return {
    accFrac,
    outFrac: spec.outFrac,
    scale: scale.mantissa,
    useBigInt,
    biasNumbers: biasBigInts && !useBigInt ? Float64Array.from(biasBigInts, Number) : null,
    biasBigInts: useBigInt ? biasBigInts : null,
  };
}

/** Where element (r, c) of a matrix lives in a flat array: start + r * rowStep + c * colStep. */
export interface Placement {
  start: number;
  rowStep: number;
  colStep: number;
}

export interface MatrixView extends Placement {
  data: Int32Array;
}

/** One rows x cols output block: a is rows x depth, b is depth x cols, bias indexes the plan's terms. */
export interface MacProblem {
  rows: number;
  cols: number;
  depth: number;
  a: MatrixView;
  b: MatrixView;
  out: MatrixView;
  bias?: Placement;
}

/** Compute one output block with the plan's arithmetic. */
export function multiplyAccumulate(plan: MacPlan, p: MacProblem): void {
  const hasBias = plan.biasNumbers !== null || plan.biasBigInts !== null;
  check(!hasBias || p.bias !== undefined, "multiplyAccumulate: the plan has bias terms but the problem no bias placement");
  if (plan.useBigInt) accumulateBigInt(plan, p);
  else accumulateFloat(plan, p);
}

/** Stands in for the bias placement of a plan without bias (never indexed). */
const UNUSED_PLACEMENT: Placement = { start: 0, rowStep: 0, colStep: 0 };

function accumulateFloat(plan: MacPlan, p: MacProblem): void {
  const { rows, cols, depth, a, b, out } = p;
  const { data: A, colStep: aStep } = a;
  const { data: B, rowStep: bStep } = b;
  const { accFrac, outFrac, scale, biasNumbers: bias } = plan;
  const at = p.bias ?? UNUSED_PLACEMENT;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let ia = a.start + r * a.rowStep;
      let ib = b.start + c * b.colStep;
      let sum = 0;
      for (let t = 0; t < depth; t++) {
        sum += A[ia] * B[ib];
        ia += aStep;
        ib += bStep;
      }
      const acc = scale * sum + (bias ? bias[at.start + r * at.rowStep + c * at.colStep] : 0);
      out.data[out.start + r * out.rowStep + c * out.colStep] = narrow(acc, accFrac, outFrac);
    }
  }
}

/**
 * The same loop on BigInt. Wrapping once before the narrow equals wrapping after every i64 add
 * and multiply, because arithmetic modulo 2^64 is a ring.
 */
function accumulateBigInt(plan: MacPlan, p: MacProblem): void {
  const { rows, cols, depth, a, b, out } = p;
  const { data: A, colStep: aStep } = a;
  const { data: B, rowStep: bStep } = b;
  const { accFrac, outFrac, biasBigInts: bias } = plan;
  const scale = BigInt(plan.scale);
  const at = p.bias ?? UNUSED_PLACEMENT;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let ia = a.start + r * a.rowStep;
      let ib = b.start + c * b.colStep;
      let sum = 0n;
      for (let t = 0; t < depth; t++) {
        sum += BigInt(A[ia]) * BigInt(B[ib]);
        ia += aStep;
        ib += bStep;
      }
      const acc = BigInt.asIntN(64, scale * sum + (bias ? bias[at.start + r * at.rowStep + c * at.colStep] : 0n));
      out.data[out.start + r * out.rowStep + c * out.colStep] = narrowBig(acc, accFrac, outFrac);
    }
  }
}
