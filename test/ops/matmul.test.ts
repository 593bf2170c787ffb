import { describe, expect, it } from "vitest";
import { MatMul, matmul } from "../../lib/ops/matmul.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";
import { evalExact, evalFloat, expectNear, flatIndex, multiIndices, type Terms } from "./nn-reference.js";

/** numpy matmul written out: promote 1-D operands, broadcast batch axes right-aligned. */
function matmulTerms(aShape: number[], bShape: number[]): { shape: number[]; terms: Terms[] } {
  const a = aShape.length === 1 ? [1, aShape[0]] : aShape;
  const b = bShape.length === 1 ? [bShape[0], 1] : bShape;
  const [m, k, n] = [a[a.length - 2], a[a.length - 1], b[b.length - 1]];
  const rank = Math.max(a.length, b.length) - 2;
  const batchOf = (s: number[]) => [...new Array<number>(rank - (s.length - 2)).fill(1), ...s.slice(0, -2)];
  const aBatch = batchOf(a);
  const bBatch = batchOf(b);
  const batch = aBatch.map((d, i) => Math.max(d, bBatch[i]));
  const terms: Terms[] = [];
  for (const idx of multiIndices(batch)) {
    const pick = (own: number[]) => idx.map((v, i) => (own[i] === 1 ? 0 : v));
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const pairs: [number, number][] = [];
        for (let t = 0; t < k; t++) {
          pairs.push([flatIndex([...aBatch, m, k], [...pick(aBatch), i, t]), flatIndex([...bBatch, k, n], [...pick(bBatch), t, j])]);
        }
        terms.push({ pairs, bias: -1 });
      }
    }
  }
  const shape = [...batch, ...(aShape.length === 1 ? [] : [m]), ...(bShape.length === 1 ? [] : [n])];
  return { shape, terms };
}

/** Random operand shapes: ranks 1..4, shared inner size, batch axes that broadcast (some 1s). */
function randomShapes(rng: Rng): [number[], number[]] {
  const k = rng.int(1, 6);
  const batch = rng.shape(0, 2, 1, 3);
  const withBatch = (last: number[]) => {
    const own = batch.slice(rng.int(0, batch.length)).map((d) => (rng.next() < 0.3 ? 1 : d));
    return [...own, ...last];
  };
  const a = rng.next() < 0.2 ? [k] : withBatch([rng.int(1, 4), k]);
  const b = rng.next() < 0.2 ? [k] : withBatch([k, rng.int(1, 4)]);
  return [a, b];
}

describe("MatMul", () => {
  // One final rounding (round half up) of an exact sum: within half an ulp of the real result.
  for (let seed = 1; seed <= 12; seed++) {
    it(`matches the real matmul within 1/2 ulp (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const [aShape, bShape] = randomShapes(rng);
      const a = rng.tensor(aShape, rng.pick([8, 16]));
      const b = rng.tensor(bShape, rng.pick([12, 20]), -1, 1);
      const frac = rng.pick([12, 16, 20]);
      const y = matmul(a, b, frac);
      const ref = matmulTerms(aShape, bShape);
      expect(y.shape).toEqual(ref.shape);
      expect(y.frac).toBe(frac);
      expectNear(y, evalFloat(ref.terms, a, b), 0.5);
      const [t] = MatMul.infer([{ shape: aShape, frac: a.frac }, { shape: bShape, frac: b.frac }], {}, { frac });
      expect(t).toEqual({ shape: [...y.shape], frac });
      expect(MatMul.run([a, b], {}, { frac })[0].equals(y)).toBe(true);
    });
  }

  for (let seed = 1; seed <= 3; seed++) {
    it(`is bit-exact with i64 arithmetic on values too large for float64 (seed ${seed})`, () => {
      const rng = new Rng(100 + seed);
      const [aShape, bShape] = randomShapes(rng);
      const big = (shape: number[], frac: number) =>
        new Tensor(shape, Int32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => rng.int(-(2 ** 29), 2 ** 29)), frac);
      // Products near 2^58 at frac 40, narrowed to frac 8: most results stay in the i32 range.
      const a = big(aShape, 20);
      const b = big(bShape, 20);
      const y = matmul(a, b, 8);
      const ref = matmulTerms(aShape, bShape);
      expect([...y.data]).toEqual(evalExact(ref.terms, a, b, undefined, 8));
      expect(y.data.some((v) => Math.abs(v) < 2 ** 31 - 1)).toBe(true);
    });
  }

  it("multiplies a vector by a matrix and a batch by a shared matrix", () => {
    const v = Tensor.fromFloat([1, 2], [2], 16);
    const m = Tensor.fromFloat([1, 2, 3, 4, 5, 6], [2, 3], 16);
    expect([...matmul(v, m).toFloat()]).toEqual([9, 12, 15]);
    const batch = Tensor.fromFloat([1, 0, 0, 1, 2, 0, 0, 2], [2, 2, 2], 16);
    const y = matmul(batch, Tensor.fromFloat([1, 2, 3, 4], [2, 2], 16));
    expect(y.shape).toEqual([2, 2, 2]);
    expect([...y.toFloat()]).toEqual([1, 2, 3, 4, 2, 4, 6, 8]);
  });

  it("rejects mismatched inner or batch dimensions", () => {
    const t = (shape: number[]) => ({ shape, frac: 16 });
    expect(() => MatMul.infer([t([2, 3]), t([4, 2])], {}, { frac: 16 }))
      .toThrow("inner dimensions differ: A [2,3] has 3 columns, B [4,2] has 4 rows");
    expect(() => MatMul.infer([t([2, 2, 3]), t([3, 3, 1])], {}, { frac: 16 }))
      .toThrow("batch dimensions [2] of A and [3] of B do not broadcast");
    expect(() => MatMul.infer([t([]), t([3])], {}, { frac: 16 })).toThrow("input A is a scalar");
  });
});
