import { describe, expect, it } from "vitest";
import type { OpDef } from "../../lib/ops/op.js";
import {
  Elu, Erf, Exp, Gelu, Log, Pow, Reciprocal, Sigmoid, Sqrt, Tanh, elu, erf, exp, gelu, log, pow, reciprocal,
  sigmoid, sqrt, tanh,
} from "../../lib/ops/unary-math.js";
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";
import { BOUNDS, type Bound, erfRef, geluRef, geluTanhRef, sigmoidRef, tolerance, unitsError } from "./math-reference.js";

/** Every element of y within the bound of the float function on the dequantized input. */
function expectWithin(x: Tensor, y: Tensor, ref: (v: number) => number, bound: Bound, what: string): void {
  const xs = x.toFloat();
  y.data.forEach((v, i) => {
    const real = ref(xs[i]);
    const err = unitsError(v, real, y.frac);
    expect(err, `${what}: x = ${xs[i]}, y = ${v}, want ${real * 2 ** y.frac}`).toBeLessThanOrEqual(tolerance(bound, real, y.frac));
  });
}

function expectInferMatches(def: OpDef<any>, x: Tensor, attrs: object, y: Tensor): void {
  expect(def.infer([{ shape: [...x.shape], frac: x.frac }], attrs as never, { frac: y.frac }))
    .toEqual([{ shape: [...y.shape], frac: y.frac }]);
  expect(def.run([x], attrs as never, { frac: y.frac })[0].equals(y)).toBe(true);
}

interface UnaryCase {
  def: OpDef<any>;
  kernel: (x: Tensor, frac: number) => Tensor;
  ref: (v: number) => number;
  bound: Bound;
  lo: number;
  hi: number;
}

const CASES: UnaryCase[] = [
  { def: Exp, kernel: exp, ref: Math.exp, bound: BOUNDS.exp, lo: -20, hi: 12 },
  { def: Log, kernel: log, ref: Math.log, bound: BOUNDS.log, lo: 1e-4, hi: 1000 },
  { def: Sqrt, kernel: sqrt, ref: Math.sqrt, bound: BOUNDS.sqrt, lo: 0, hi: 1000 },
  { def: Reciprocal, kernel: reciprocal, ref: (v) => 1 / v, bound: BOUNDS.reciprocal, lo: 0.01, hi: 50 },
  { def: Sigmoid, kernel: sigmoid, ref: sigmoidRef, bound: BOUNDS.sigmoid, lo: -20, hi: 20 },
  { def: Tanh, kernel: tanh, ref: Math.tanh, bound: BOUNDS.tanh, lo: -10, hi: 10 },
  { def: Erf, kernel: erf, ref: erfRef, bound: BOUNDS.erf, lo: -6, hi: 6 },
];

describe("pointwise math ops against float64", () => {
  for (const c of CASES) {
    for (let seed = 1; seed <= 3; seed++) {
      it(`${c.def.kind} on random tensors and fracs (seed ${seed})`, () => {
        const rng = new Rng(seed * 101 + c.def.kind.length);
        const fx = rng.int(4, 24);
        const fo = rng.int(4, 28);
        // Reciprocal and Log also get negative inputs mirrored in (Log's are tested below).
        const sign = c.def === Reciprocal && rng.next() < 0.5 ? -1 : 1;
        const x = rng.tensor(rng.shape(0, 4), fx, sign * c.lo, sign * c.hi);
        const y = c.kernel(x, fo);
        expect(y.shape).toEqual(x.shape);
        expect(y.frac).toBe(fo);
        expectWithin(x, y, c.ref, c.bound, `${c.def.kind} Q${fx}->Q${fo}`);
        expectInferMatches(c.def, x, {}, y);
      });
    }
  }

  it("edge conventions: saturation, log and sqrt outside their domain, 1/0", () => {
    const x = Tensor.fromInts([0, -1, I32_MIN, I32_MAX], [4]);
    expect([...exp(x, 16).data]).toEqual([65536, 24109, 0, I32_MAX]); // e^-1 = 0.36788 * 2^16
    expect([...log(x, 16).data]).toEqual([I32_MIN, I32_MIN, I32_MIN, 1408209]); // ln(2^31 - 1) = 21.4876
    expect([...sqrt(x, 16).data]).toEqual([0, 0, 0, I32_MAX]); // 46341 does not fit Q16
    expect([...reciprocal(x, 16).data]).toEqual([I32_MAX, -65536, 0, 0]);
    expect([...sigmoid(x, 16).data]).toEqual([32768, 17625, 0, 65536]); // 1/(1+e) = 0.26894
    expect([...tanh(x, 16).data]).toEqual([0, -49912, -65536, 65536]);
  });
});

describe("Gelu", () => {
  for (let seed = 1; seed <= 4; seed++) {
    for (const approximate of ["none", "tanh"]) {
      it(`approximate=${approximate} against float64 (seed ${seed})`, () => {
        const rng = new Rng(seed * 7 + approximate.length);
        const fx = rng.int(6, 24);
        const fo = rng.int(6, 28);
        const x = rng.tensor(rng.shape(1, 4), fx, -9, 9);
        const y = gelu(x, { approximate }, fo);
        const [ref, bound] = approximate === "tanh" ? [geluTanhRef, BOUNDS.geluTanh] : [geluRef, BOUNDS.gelu];
        expectWithin(x, y, ref, bound, `Gelu ${approximate} Q${fx}->Q${fo}`);
        expectInferMatches(Gelu, x, { approximate }, y);
      });
    }
  }
  it("rejects an unknown approximation", () => {
    expect(() => gelu(Tensor.zeros([2], 16), { approximate: "fast" })).toThrow(/approximate' must be one of none\|tanh/);
  });
});

describe("Elu", () => {
  for (let seed = 1; seed <= 4; seed++) {
    it(`alpha * (e^x - 1) below 0, x above (seed ${seed})`, () => {
      const rng = new Rng(seed + 40);
      const alpha = Math.round(rng.uniform(-3, 3) * 65536);
      const fx = rng.int(6, 24);
      const fo = rng.int(6, 28);
      const x = rng.tensor(rng.shape(1, 4), fx, -12, 6);
      const y = elu(x, { alpha }, fo);
      const a = alpha / 65536;
      expectWithin(x, y, (v) => (v >= 0 ? v : a * Math.expm1(v)), { abs: BOUNDS.elu.abs * Math.abs(a), rel: 0 }, `Elu Q${fx}->Q${fo}`);
      expectInferMatches(Elu, x, { alpha }, y);
    });
  }
});

describe("Pow", () => {
  /**
   * The bound of repeated multiplication: each of the |n| products rounds by 0.5 unit and
   * multiplies the earlier error by |base|; a negative n also carries the 0.5-unit error of the
   * rounded reciprocal base through n * |base|^(n-1).
   */
  function powTolerance(base: number, n: number): number {
    const b = Math.abs(base);
    let sum = 0;
    for (let k = 0; k < Math.abs(n); k++) sum += 0.5 * b ** k;
    const baseError = n < 0 ? 0.5 * Math.abs(n) * b ** (Math.abs(n) - 1) : 0;
    return (sum + baseError) * (1 + 1e-6) + 1e-9;
  }

  for (let seed = 1; seed <= 6; seed++) {
    it(`integer exponents by repeated multiplication (seed ${seed})`, () => {
      const rng = new Rng(seed + 60);
      const n = rng.int(-4, 5);
      const fx = rng.int(8, 22);
      const fo = rng.int(8, 24);
      const x = rng.tensor(rng.shape(1, 3), fx, -3, 3);
      const exponent = n * 65536;
      const y = pow(x, { exponent }, fo);
      x.toFloat().forEach((v, i) => {
        if (n < 0 && Math.abs(v) * 2 ** fo < 1) return; // 1/x saturates: checked below
        const real = v ** n;
        const err = unitsError(y.data[i], real, fo);
        expect(err, `${v}^${n} at Q${fo}`).toBeLessThanOrEqual(powTolerance(n < 0 ? 1 / v : v, n));
      });
      expectInferMatches(Pow, x, { exponent }, y);
    });
  }

  it("0.5 is the exactly rounded square root, 0 gives 1, 0^-1 saturates", () => {
    const x = Tensor.fromFloat([0, 2, 9, 1e-3, -4], [5], 16);
    expect(pow(x, { exponent: 32768 }, 16).equals(sqrt(x, 16))).toBe(true);
    expect([...pow(x, { exponent: 0 }, 16).data]).toEqual([65536, 65536, 65536, 65536, 65536]);
    expect(pow(x, { exponent: -65536 }, 16).data[0]).toBe(I32_MAX);
  });

  it("rejects other exponents with a clear message", () => {
    const t = [{ shape: [2], frac: 16 }];
    expect(() => Pow.infer(t, { exponent: Math.round(1.3 * 65536) }, { frac: 16 }))
      .toThrow("Pow exponent 1.3 is not supported: only integers and 0.5");
    expect(() => Pow.infer(t, { exponent: -32768 }, { frac: 16 })).toThrow(/exponent -0.5 is not supported/);
    expect(() => Pow.infer(t, { exponent: 65 * 65536 }, { frac: 16 })).toThrow(/within -64\.\.64/);
    expect(() => pow(Tensor.zeros([1], 16), {})).toThrow(/requires attribute 'exponent'/);
  });
});
