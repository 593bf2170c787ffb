import { describe, expect, it } from "vitest";
import { type ReduceAttrs, ReduceMax, reduceMax, ReduceMean, reduceMean, ReduceMin, reduceMin, ReduceSum, reduceSum } from "../../lib/ops/reduce.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";
import { ONE_ROUNDING_TOLERANCE, expectExact, expectNear, rawTensor, unravel } from "./arith-random.js";

/** Float reference: the groups of dequantized values behind each output, in output order. */
function groups(x: Tensor, attrs: ReduceAttrs): { shape: number[]; values: number[][] } {
  const rank = x.rank;
  const norm = attrs.axes.map((a) => (a < 0 ? a + rank : a));
  const reduced = (d: number) => (attrs.axes.length === 0 ? attrs.noop_with_empty_axes === 0 : norm.includes(d));
  const kept = x.shape.map((n, d) => (reduced(d) ? 1 : n));
  const size = kept.reduce((a, b) => a * b, 1);
  const values: number[][] = Array.from({ length: size }, () => []);
  const xf = x.toFloat();
  for (let i = 0; i < x.size; i++) {
    const idx = unravel(i, x.shape);
    let flat = 0;
    for (let d = 0; d < rank; d++) flat = flat * kept[d] + (reduced(d) ? 0 : idx[d]);
    values[flat].push(xf[i]);
  }
  const shape = attrs.keepdims ? kept : x.shape.filter((_, d) => !reduced(d));
  return { shape, values };
}

/** Random attributes: a random subset of axes, each written positive or negative. */
function randomAttrs(rng: Rng, rank: number): ReduceAttrs {
  const axes = [...Array(rank).keys()].filter(() => rng.next() < 0.5).map((a) => (rng.next() < 0.5 ? a - rank : a));
  return { axes, keepdims: rng.int(0, 1), noop_with_empty_axes: rng.next() < 0.2 ? 1 : 0 };
}

const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);

const CASES = [
  { def: ReduceSum, kernel: reduceSum, ref: sum, exact: false },
  { def: ReduceMean, kernel: reduceMean, ref: (v: number[]) => sum(v) / v.length, exact: false },
  { def: ReduceMax, kernel: (x: Tensor, a: Partial<ReduceAttrs>, _frac: number) => reduceMax(x, a), ref: (v: number[]) => Math.max(...v), exact: true },
  { def: ReduceMin, kernel: (x: Tensor, a: Partial<ReduceAttrs>, _frac: number) => reduceMin(x, a), ref: (v: number[]) => Math.min(...v), exact: true },
];

describe.each(CASES)("$def.kind", ({ def, kernel, ref, exact }) => {
  for (let seed = 1; seed <= 6; seed++) {
    it(`matches float over random axes/keepdims (${exact ? "exact" : "one rounding"}) (seed ${seed})`, () => {
      const rng = new Rng(seed * 13 + def.kind.length);
      for (let trial = 0; trial < 15; trial++) {
        const x = rawTensor(rng, rng.shape(0, 4, 1, 5), rng.int(0, 24), 0.2);
        const attrs = randomAttrs(rng, x.rank);
        const frac = rng.int(0, 24);
        const out = kernel(x, attrs, frac);
        const { shape, values } = groups(x, attrs);
        expect(out.shape).toEqual(shape);
        const want = values.map(ref);
        if (exact) {
          expect(out.frac).toBe(x.frac);
          expectExact(out, want, def.kind);
        } else {
          expectNear(out, want, ONE_ROUNDING_TOLERANCE, `${def.kind} ${x} ${JSON.stringify(attrs)}`);
        }
        expect(def.infer([{ shape: [...x.shape], frac: x.frac }], attrs, { frac })).toEqual([{ shape: [...out.shape], frac: out.frac }]);
        expect(def.run([x], attrs, { frac })[0].equals(out)).toBe(true);
      }
    });
  }

  it("rejects out-of-range and repeated axes and a bad keepdims", () => {
    const t = [{ shape: [2, 3], frac: 16 }];
    const attrs = (a: Partial<ReduceAttrs>) => ({ axes: [], keepdims: 1, noop_with_empty_axes: 0, ...a });
    expect(() => def.infer(t, attrs({ axes: [2] }), { frac: 16 })).toThrow("axis 2 in axes [2] is out of range for rank 2");
    expect(() => def.infer(t, attrs({ axes: [1, -1] }), { frac: 16 })).toThrow("axis -1 is listed twice in axes [1,-1]");
    expect(() => def.infer(t, attrs({ keepdims: 2 }), { frac: 16 })).toThrow("attribute 'keepdims' must be 0 or 1, got 2");
  });
});

describe("ReduceSum and ReduceMean past 2^21 addends (i64 accumulation)", () => {
  it("sums and averages 2^21 + 5 values exactly", () => {
    const rng = new Rng(4242);
    const n = 2 ** 21 + 5;
    const data = Int32Array.from({ length: n }, () => rng.int(2 ** 30, 2 ** 31 - 1));
    const x = new Tensor([n], data, 30);
    let exactSum = 0n;
    for (const v of data) exactSum += BigInt(v);
    // Sum at frac 0: round half up of exactSum / 2^30.
    const s = reduceSum(x, {}, 0);
    expect(BigInt(s.data[0])).toBe((exactSum + (1n << 29n)) >> 30n);
    // Mean at frac 24: exactSum / (n * 2^6), nearest (the sum is positive, ties up).
    const m = reduceMean(x, { keepdims: 0 }, 24);
    const den = BigInt(n) << 6n;
    expect(m.shape).toEqual([]);
    expect(BigInt(m.data[0])).toBe((2n * exactSum + den) / (2n * den));
  });
});

describe("ReduceMean rounding", () => {
  it("divides once at the output frac, ties away from zero", () => {
    // [1, 2] at frac 0 -> 1.5: at frac 0 that is 2, at frac 1 exactly 1.5; [-1, -2] -> -2.
    expect(reduceMean(Tensor.fromInts([1, 2], [2]), {}, 0).data[0]).toBe(2);
    expect(reduceMean(Tensor.fromInts([1, 2], [2]), {}, 1).data[0]).toBe(3);
    expect(reduceMean(Tensor.fromInts([-1, -2], [2]), {}, 0).data[0]).toBe(-2);
  });

  it("reduces nothing with noop_with_empty_axes", () => {
    const x = Tensor.fromFloat([1.25, -3], [2, 1], 8);
    expect(reduceMean(x, { noop_with_empty_axes: 1 }, 8).equals(x)).toBe(true);
  });
});
