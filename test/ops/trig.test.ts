/**
 * The trigonometric and hyperbolic kernels (lib/ops/fixed-trig.ts, lib/ops/trig.ts) and their
 * emitters (compiler/emit/trig.ts): every constant recomputed (2/pi and pi from a 300-bit
 * Machin sum, the tables and polynomials in float64), the error against float64 measured over
 * each function's domain at several (input, output) fracs and held to the bounds of
 * docs/numerics.md, the conventions outside the domains, and the compiled code bit-identical to
 * the reference kernels (JS WebAssembly in the canonical and FAST builds, and a few values in the
 * rollup VM) on grids, domain edges and raw i32 extremes.
 */
import { describe, expect, it } from "vitest";
import * as trig from "../../lib/ops/fixed-trig.js";
import { GraphBuilder } from "../../lib/graph/builder.js";
import { TRIG_OPS } from "../../lib/ops/trig.js";
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { expectVmMatchesReference, expectWasmMatchesReference } from "../compiler/helpers.js";
import { Rng } from "../helpers/random.js";

type Kernel = (x: number, fx: number, fo: number) => number;

/** pi at Q300 by Machin's formula pi = 16 atan(1/5) - 4 atan(1/239). */
function piQ300(): bigint {
  const one = 1n << 300n;
  const atanInv = (n: bigint) => {
    let sum = 0n;
    let term = one / n;
    for (let k = 1n, sign = 1n; term !== 0n; k += 2n, sign = -sign, term /= n * n) sum += (sign * term) / k;
    return sum;
  };
  return 16n * atanInv(5n) - 4n * atanInv(239n);
}

const q30 = (v: number) => Math.round(v * 2 ** 30);
const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));

describe("trig constants", () => {
  it("are the rounded values of their formulas", () => {
    const pi = piQ300();
    const one = 1n << 300n;
    const roundAt = (v: bigint, s: bigint) => Number(((v << s) + one / 2n) / one);
    const twoOverPi93 = ((2n * one * one) / pi) >> 207n;
    const mask = (1n << 31n) - 1n;
    expect(trig.TWO_OVER_PI).toEqual([Number(twoOverPi93 >> 62n), Number((twoOverPi93 >> 31n) & mask), Number(twoOverPi93 & mask)]);
    expect(trig.HALF_PI_Q29).toBe(roundAt(pi / 2n, 29n));
    expect(trig.HALF_PI_Q30).toBe(roundAt(pi / 2n, 30n));
    expect(trig.PI_Q30).toBe(roundAt(pi, 30n));
    expect(trig.SIN_POLY).toEqual([5, 4, 3, 2, 1, 0].map((n) => (n % 2 ? -1 : 1) * q30(1 / factorial(2 * n + 1))));
    expect(trig.COS_POLY).toEqual([6, 5, 4, 3, 2, 1, 0].map((n) => (n % 2 ? -1 : 1) * q30(1 / factorial(2 * n))));
    expect(trig.ATAN_POLY).toEqual([3, 2, 1, 0].map((n) => (n % 2 ? -1 : 1) * q30(1 / (2 * n + 1))));
    expect(trig.ATAN_TABLE).toEqual(Array.from({ length: 17 }, (_, j) => q30(Math.atan(j / 16))));
  });
});

/**
 * Each function with its float reference, the swept domain and its bound beyond the final
 * rounding (docs/numerics.md): abs + rel |f(x)| in real units.
 */
const FUNCTIONS: { name: string; fn: Kernel; ref: (v: number) => number; lo: number; hi: number; abs: number; rel: number }[] = [
  { name: "Sin", fn: trig.fixedSin, ref: Math.sin, lo: -300, hi: 300, abs: 3e-9, rel: 0 },
  { name: "Cos", fn: trig.fixedCos, ref: Math.cos, lo: -300, hi: 300, abs: 3e-9, rel: 0 },
  { name: "Tan", fn: trig.fixedTan, ref: Math.tan, lo: -1.56, hi: 1.56, abs: 3e-9, rel: 5e-8 },
  { name: "Asin", fn: trig.fixedAsin, ref: Math.asin, lo: -1, hi: 1, abs: 3e-9, rel: 3e-9 },
  { name: "Acos", fn: trig.fixedAcos, ref: Math.acos, lo: -1, hi: 1, abs: 3e-9, rel: 3e-9 },
  { name: "Atan", fn: trig.fixedAtan, ref: Math.atan, lo: -50, hi: 50, abs: 3e-9, rel: 3e-9 },
  { name: "Sinh", fn: trig.fixedSinh, ref: Math.sinh, lo: -20, hi: 20, abs: 3e-9, rel: 1e-8 },
  { name: "Cosh", fn: trig.fixedCosh, ref: Math.cosh, lo: -20, hi: 20, abs: 3e-9, rel: 1e-8 },
  { name: "Asinh", fn: trig.fixedAsinh, ref: Math.asinh, lo: -300, hi: 300, abs: 3e-9, rel: 3e-9 },
  { name: "Acosh", fn: trig.fixedAcosh, ref: Math.acosh, lo: 1, hi: 300, abs: 3e-9, rel: 3e-9 },
  { name: "Atanh", fn: trig.fixedAtanh, ref: Math.atanh, lo: -0.99999, hi: 0.99999, abs: 3e-9, rel: 3e-9 },
];

/** (input, output) fracs of the sweep: inputs up to Q25 are exact in every algorithm's first step. */
const FRACS: [number, number][] = [[16, 16], [16, 30], [25, 30], [8, 24], [24, 8], [0, 16], [16, 0]];

describe("trig kernels against float64", () => {
  for (const { name, fn, ref, lo, hi, abs, rel } of FUNCTIONS) {
    it(`${name}: within 0.5 unit + ${abs} + ${rel} |f| over [${lo}, ${hi}]`, () => {
      let worst = 0;
      for (const [fx, fo] of FRACS) {
        for (let i = 0; i <= 1500; i++) {
          const x = Math.round((lo + ((hi - lo) * i) / 1500) * 2 ** fx);
          const f = ref(x / 2 ** fx);
          if (!Number.isFinite(f)) continue;
          const want = Math.min(I32_MAX, Math.max(I32_MIN, f * 2 ** fo));
          const beyond = (Math.abs(fn(x, fx, fo) - want) - 0.5) / 2 ** fo;
          const ratio = beyond / (abs + rel * Math.abs(f));
          if (ratio > worst) worst = ratio;
          if (ratio > 1) expect.fail(`${name}(${x / 2 ** fx}) at (${fx}, ${fo}): ${fn(x, fx, fo)}, float ${want}`);
        }
      }
      // The bound is tight enough to catch a wrong constant or a dropped term.
      expect(worst).toBeGreaterThan(0.02);
    });
  }

  it("follow the documented conventions outside the domains", () => {
    expect(trig.fixedAsin(2 << 16, 16, 16)).toBe(Math.round((Math.PI / 2) * 65536));
    expect(trig.fixedAcos(-3 << 16, 16, 16)).toBe(Math.round(Math.PI * 65536));
    expect(trig.fixedAcosh(1 << 15, 16, 16)).toBe(0);
    expect(trig.fixedAcosh(-5 << 16, 16, 16)).toBe(0);
    expect(trig.fixedAtanh(1 << 16, 16, 16)).toBe(I32_MAX);
    expect(trig.fixedAtanh(-(3 << 16), 16, 16)).toBe(-I32_MAX);
    expect(trig.fixedCosh(40 << 16, 16, 16)).toBe(I32_MAX);
    expect(trig.fixedSinh(-(12 << 16), 16, 16)).toBe(-I32_MAX);
    expect(trig.fixedTan(0, 16, 16)).toBe(0);
    // sin of the largest input still reduces exactly: 2^31 rad at Q0.
    expect(trig.fixedSin(I32_MIN, 0, 16)).toBe(Math.round(Math.sin(-(2 ** 31)) * 65536));
  });
});

/** Grid, domain edges and raw extremes of one input frac. */
function inputValues(rng: Rng, fx: number): Int32Array {
  const one = 2 ** fx;
  const edges = [0, 1, -1, one, -one, one - 1, 1 - one, 2 * one, 2 * one - 1, 32 * one, 32 * one - 1, I32_MAX, I32_MIN, I32_MAX - 1];
  const grid = Array.from({ length: 48 }, (_, i) => Math.round((i - 24) * 0.37 * one));
  const raw = Array.from({ length: 24 }, () => rng.int(I32_MIN, I32_MAX));
  return Int32Array.from([...edges, ...grid, ...raw].map((v) => Math.max(I32_MIN, Math.min(I32_MAX, v))));
}

describe("trig emitters are bit-exact", () => {
  // One graph per output frac, one input per input frac (one compile each).
  for (const [graphFrac, inputFracs] of [[16, [16, 24, 0]], [30, [30, 8]]] as const) {
    it(`every trig op, inputs Q${inputFracs.join(", Q")}, output Q${graphFrac}`, () => {
      const g = new GraphBuilder({ frac: graphFrac });
      const inputs: Record<string, Tensor> = {};
      for (const fx of inputFracs) {
        const data = inputValues(new Rng(fx + 1), fx);
        inputs[`x${fx}`] = new Tensor([data.length], data, fx);
        g.input(`x${fx}`, [data.length], fx);
        for (const def of TRIG_OPS) g.output(...g.op(def.kind, [`x${fx}`], {}, { name: `${def.kind}_${fx}` }));
      }
      // The FAST build too on the smaller graph: its memory must equal the canonical build's.
      expectWasmMatchesReference(g.build(), inputs, graphFrac === 30 ? "fast" : "canonical");
    });
  }

  it("every trig op in the rollup VM", () => {
    const g = new GraphBuilder({ frac: 16 });
    const x = new Tensor([6], Int32Array.from([0, 70000, -200000, 65535, I32_MIN, 3 << 20]), 16);
    g.input("x", x.shape, 16);
    for (const def of TRIG_OPS) g.output(...g.op(def.kind, ["x"], {}, { name: def.kind }));
    expectVmMatchesReference(g.build(), { x });
  });
});
