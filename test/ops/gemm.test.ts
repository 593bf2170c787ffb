import { describe, expect, it } from "vitest";
import { Gemm, gemm } from "../../lib/ops/gemm.js";
import type { TensorType } from "../../lib/ops/op.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";
import { evalExact, expectNear, type Multiplier, type Terms } from "./nn-reference.js";

interface Case {
  m: number;
  k: number;
  n: number;
  transA: number;
  transB: number;
  cShape?: number[];
}

/** Y[i][j] = sum_t op(A)[i][t] * op(B)[t][j], plus C broadcast right-aligned to [M, N]. */
function gemmTerms({ m, k, n, transA, transB, cShape }: Case): Terms[] {
  const terms: Terms[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const pairs: [number, number][] = [];
      for (let t = 0; t < k; t++) pairs.push([transA ? t * m + i : i * k + t, transB ? j * k + t : t * n + j]);
      let bias = -1;
      if (cShape) {
        const [rows, cols] = cShape.length === 2 ? cShape : [1, cShape[0] ?? 1];
        bias = (rows === 1 ? 0 : i) * cols + (cols === 1 ? 0 : j);
      }
      terms.push({ pairs, bias });
    }
  }
  return terms;
}

/** A Q16 attribute as mantissa / 2^frac with the factors of two cancelled. */
function reduced(value: number): Multiplier {
  let [mant, frac] = [value, 16];
  while (frac > 0 && mant % 2 === 0) [mant, frac] = [mant / 2, frac - 1];
  return [mant, frac];
}

function randomCase(rng: Rng): Case {
  const m = rng.int(1, 5);
  const n = rng.int(1, 5);
  const cShape = rng.pick([undefined, [], [n], [1, n], [m, 1], [m, n], [1, 1]]);
  return { m, k: rng.int(1, 8), n, transA: rng.int(0, 1), transB: rng.int(0, 1), cShape };
}

const ALPHAS = [65536, 32768, -81920, 131072, 3, 0, 98304];

describe("Gemm", () => {
  // Two roundings at most: C aligned to the accumulator frac (when its frac is higher) and the
  // final narrow, each within half an ulp: within 1 ulp of the real result.
  for (let seed = 1; seed <= 12; seed++) {
    it(`matches alpha * op(A) op(B) + beta * C within 1 ulp (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const c = randomCase(rng);
      const a = rng.tensor(c.transA ? [c.k, c.m] : [c.m, c.k], rng.pick([8, 16]));
      const b = rng.tensor(c.transB ? [c.n, c.k] : [c.k, c.n], rng.pick([12, 20]), -1, 1);
      const bias = c.cShape && rng.tensor(c.cShape, rng.pick([8, 16, 30]), -1, 1);
      const attrs = { alpha: rng.pick(ALPHAS), beta: rng.pick(ALPHAS), transA: c.transA, transB: c.transB };
      const frac = rng.pick([12, 16]);
      const y = gemm(a, b, bias, attrs, frac);
      expect(y.shape).toEqual([c.m, c.n]);
      const af = a.toFloat();
      const bf = b.toFloat();
      const cf = bias?.toFloat();
      const expected = gemmTerms(c).map((t) =>
        (attrs.alpha / 65536) * t.pairs.reduce((s, [i, j]) => s + af[i] * bf[j], 0) +
        (cf && t.bias >= 0 ? (attrs.beta / 65536) * cf[t.bias] : 0));
      expectNear(y, expected, 1);
      const types = [a, b, bias].map((t) => t && { shape: [...t.shape], frac: t.frac });
      expect(Gemm.infer(types as TensorType[], attrs, { frac })).toEqual([{ shape: [c.m, c.n], frac }]);
    });
  }

  for (let seed = 1; seed <= 4; seed++) {
    it(`is bit-exact with i64 arithmetic, alpha and beta in lowest terms, large values (seed ${seed})`, () => {
      const rng = new Rng(50 + seed);
      const c = randomCase(rng);
      const ints = (shape: number[], bits: number) =>
        Int32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => rng.int(-(2 ** bits), 2 ** bits));
      const a = new Tensor(c.transA ? [c.k, c.m] : [c.m, c.k], ints([c.m, c.k], 29), 20);
      const b = new Tensor(c.transB ? [c.n, c.k] : [c.k, c.n], ints([c.k, c.n], 29), 20);
      const bias = c.cShape && new Tensor(c.cShape, ints(c.cShape, 30), rng.pick([0, 30]));
      const attrs = { alpha: rng.pick(ALPHAS), beta: rng.pick(ALPHAS), transA: c.transA, transB: c.transB };
      const y = gemm(a, b, bias, attrs, 4);
      expect([...y.data]).toEqual(evalExact(gemmTerms(c), a, b, bias, 4, reduced(attrs.alpha), reduced(attrs.beta)));
    });
  }

  it("computes a PyTorch Linear layer (transB = 1, bias C [N])", () => {
    const x = Tensor.fromFloat([1, 2, 3], [1, 3], 16);
    const w = Tensor.fromFloat([1, 0, -1, 0.5, 0.5, 0.5], [2, 3], 20);
    const bias = Tensor.fromFloat([0.25, -0.25], [2], 8);
    expect([...gemm(x, w, bias, { transB: 1 }, 16).toFloat()]).toEqual([-1.75, 2.75]);
  });

  it("rejects bad shapes and attributes", () => {
    const t = (shape: number[], frac = 16) => ({ shape, frac });
    const attrs = { alpha: 65536, beta: 65536, transA: 0, transB: 0 };
    expect(() => Gemm.infer([t([2, 3]), t([3, 4]), t([3, 4])], attrs, { frac: 16 }))
      .toThrow("input C [3,4] does not broadcast to the output [2,4]");
    expect(() => Gemm.infer([t([2, 3]), t([2, 4])], attrs, { frac: 16 }))
      .toThrow("inner dimensions differ: op(A) is [2,3], op(B) is [2,4]");
    expect(() => Gemm.infer([t([2, 3, 1]), t([3, 4])], attrs, { frac: 16 })).toThrow("input A has rank 3, Gemm needs rank 2");
    expect(() => Gemm.infer([t([2, 3]), t([3, 4])], { ...attrs, transA: 2 }, { frac: 16 }))
      .toThrow("Gemm attribute 'transA' must be 0 or 1, got 2");
    expect(() => Gemm.infer([t([2, 3], 30), t([3, 4], 30)], { ...attrs, alpha: 3 }, { frac: 16 }))
      .toThrow("Gemm accumulator frac 76 (sum of the operand and scale fracs) exceeds 63");
  });
});
