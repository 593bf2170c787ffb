import { describe, expect, it } from "vitest";
import {
  exactInFloat, lowestTerms, maxAbs, multiplyAccumulate, prepareMac, type MatrixView,
} from "../../lib/ops/accumulate.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";
import { evalExact, type Terms } from "./nn-reference.js";

/** Random i32 data with magnitudes below 2^bits. */
function ints(rng: Rng, n: number, bits: number): Int32Array {
  const lim = 2 ** bits - 1;
  return Int32Array.from({ length: n }, () => rng.int(-lim, lim));
}

/**
 * A rows x depth matrix stored either row-major or transposed, after a random offset: the core
 * must read it through the view only.
 */
function randomView(rng: Rng, rows: number, cols: number, data: Int32Array, transposed: boolean, offset: number): MatrixView {
  return transposed
    ? { data, start: offset, rowStep: 1, colStep: rows }
    : { data, start: offset, rowStep: cols, colStep: 1 };
}

describe("accumulate core", () => {
  it("takes fixed attributes in lowest terms", () => {
    expect(lowestTerms(65536, 16)).toEqual({ mantissa: 1, frac: 0 });
    expect(lowestTerms(32768, 16)).toEqual({ mantissa: 1, frac: 1 });
    expect(lowestTerms(-81920, 16)).toEqual({ mantissa: -5, frac: 2 });
    expect(lowestTerms(131072, 16)).toEqual({ mantissa: 2, frac: 0 });
    expect(lowestTerms(3, 16)).toEqual({ mantissa: 3, frac: 16 });
    expect(lowestTerms(0, 16)).toEqual({ mantissa: 0, frac: 0 });
  });

  it("decides float exactness including the final rounding add or shift", () => {
    expect(exactInFloat(2 ** 53 - 2 ** 19, 36, 16)).toBe(false); // + 2^19 reaches 2^53
    expect(exactInFloat(2 ** 53 - 2 ** 19 - 1, 36, 16)).toBe(true);
    expect(exactInFloat(2 ** 53 - 1, 10, 16)).toBe(true); // a left shift is exact
    expect(exactInFloat(2 ** 53, 10, 16)).toBe(false);
  });

  // Both paths compute exact integers, so the core must equal the BigInt reference bit for bit.
  const cases = [
    { name: "float path (small values)", bits: 20, big: false, highFracs: false },
    { name: "BigInt path (sums above 2^53, results in range)", bits: 26, big: true, highFracs: true },
    { name: "BigInt path (products near 2^62, sums wrap modulo 2^64)", bits: 31, big: true, highFracs: false },
  ];
  for (const { name, bits, big, highFracs } of cases) {
    for (let seed = 1; seed <= 4; seed++) {
      it(`matches exact i64 arithmetic on strided views: ${name} (seed ${seed})`, () => {
        const rng = new Rng(seed * 7919 + (big ? 1 : 0));
        const rows = rng.int(1, 6);
        const cols = rng.int(1, 6);
        const depth = rng.int(highFracs ? 8 : 1, 40);
        const aOff = rng.int(0, 3);
        const bOff = rng.int(0, 3);
        const aT = rng.next() < 0.5;
        const bT = rng.next() < 0.5;
        const aData = ints(rng, aOff + rows * depth, bits);
        const bData = ints(rng, bOff + depth * cols, bits);
        const a = randomView(rng, rows, depth, aData, aT, aOff);
        const b = randomView(rng, depth, cols, bData, bT, bOff);
        // Bias broadcast along columns (per row), with a frac below or above the accumulator's;
        // small cases keep every shifted value below 2^53.
        const fa = highFracs ? 20 : rng.int(0, 20);
        const fb = highFracs ? 20 : rng.int(0, 20);
        const biasData = ints(rng, rows, big ? 30 : 12);
        const biasFrac = rng.pick([big ? 0 : 8, Math.min(30, fa + fb), 30]);
        const outFrac = highFracs ? 16 : rng.int(0, 30);
        const plan = prepareMac("Test", {
          maxA: maxAbs(aData), maxB: maxAbs(bData), depth, productFrac: fa + fb,
          bias: { data: biasData, frac: biasFrac }, outFrac,
        });
        expect(plan.useBigInt).toBe(big);
        const out = new Int32Array(rows * cols);
        multiplyAccumulate(plan, {
          rows, cols, depth, a, b,
          out: { data: out, start: 0, rowStep: cols, colStep: 1 },
          bias: { start: 0, rowStep: 1, colStep: 0 },
        });
        const terms: Terms[] = [];
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < cols; c++) {
            const pairs: [number, number][] = [];
            for (let t = 0; t < depth; t++) {
              pairs.push([a.start + r * a.rowStep + t * a.colStep, b.start + t * b.rowStep + c * b.colStep]);
            }
            terms.push({ pairs, bias: r });
          }
        }
        const expected = evalExact(terms, new Tensor([aData.length], aData, fa), new Tensor([bData.length], bData, fb),
          new Tensor([rows], biasData, biasFrac), outFrac);
        expect([...out]).toEqual(expected);
      });
    }
  }

  it("wraps like i64: a sum of 2^62 products crossing 2^63 comes back negative", () => {
    const a = Int32Array.of(2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1);
    const b = Int32Array.of(2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1);
    const plan = prepareMac("Test", { maxA: maxAbs(a), maxB: maxAbs(b), depth: 3, productFrac: 0, outFrac: 0 });
    const out = new Int32Array(1);
    const view = (data: Int32Array): MatrixView => ({ data, start: 0, rowStep: 3, colStep: 1 });
    multiplyAccumulate(plan, { rows: 1, cols: 1, depth: 3, a: view(a), b: { data: b, start: 0, rowStep: 1, colStep: 1 }, out: view(out) });
    // 3 * (2^31 - 1)^2 = 3 * 2^62 - 3 * 2^32 + 3 wraps to -2^62 - 3 * 2^32 + 3, which saturates low.
    expect(out[0]).toBe(-2147483648);
  });

  it("refuses an accumulator frac beyond 63 bits", () => {
    expect(() => prepareMac("Gemm", { maxA: 1, maxB: 1, depth: 1, productFrac: 60, scale: { mantissa: 3, frac: 16 }, outFrac: 16 }))
      .toThrow("Gemm accumulator frac 76 (sum of the operand and scale fracs) exceeds 63");
  });
});
