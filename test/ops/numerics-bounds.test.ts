/**
 * The numerics sweep behind docs/numerics.md: every pointwise integer algorithm over its whole
 * input domain (a dense sweep of the interesting region, every representable value near 0 (all of
 * [-0.5, 0.5] at Q16), powers of two and their neighbours across all of i32, random i32s) at
 * several input/output fracs, checked
 * against the documented bound and printed as a table (the measured maxima quoted in the doc);
 * then Softmax, LogSoftmax, LayerNormalization and BatchNormalization at Q16 on random rows.
 */
import { describe, expect, it } from "vitest";
import { fixedErf, fixedGelu, fixedGeluTanh } from "../../lib/ops/fixed-erf.js";
import { fixedExp, fixedLog, fixedSigmoid, fixedTanh } from "../../lib/ops/fixed-exp-log.js";
import { batchNormalization, layerNormalization } from "../../lib/ops/normalization.js";
import { logSoftmax, softmax } from "../../lib/ops/softmax.js";
import { fixedElu, fixedReciprocal, fixedSqrt } from "../../lib/ops/unary-math.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";
import {
  BOUNDS, type Bound, batchNormExcess, erfRef, geluRef, geluTanhRef, layerNormExcess, sigmoidRef, tolerance, unitsError,
} from "./math-reference.js";

interface Case {
  name: keyof typeof BOUNDS;
  fn: (x: number, fx: number, fo: number) => number;
  ref: (x: number) => number;
  /** The interesting real interval, swept densely. */
  lo: number;
  hi: number;
  /** Inputs where the reference is undefined (tested separately in unary-math.test.ts). */
  skip?: (x: number) => boolean;
}

const CASES: Case[] = [
  { name: "exp", fn: fixedExp, ref: Math.exp, lo: -24, hi: 22 },
  { name: "log", fn: fixedLog, ref: Math.log, lo: 0, hi: 64, skip: (x) => x <= 0 },
  { name: "sqrt", fn: fixedSqrt, ref: Math.sqrt, lo: 0, hi: 64, skip: (x) => x < 0 },
  { name: "reciprocal", fn: fixedReciprocal, ref: (x) => 1 / x, lo: -8, hi: 8, skip: (x) => x === 0 },
  { name: "sigmoid", fn: fixedSigmoid, ref: sigmoidRef, lo: -24, hi: 24 },
  { name: "tanh", fn: fixedTanh, ref: Math.tanh, lo: -12, hi: 12 },
  { name: "erf", fn: fixedErf, ref: erfRef, lo: -6, hi: 6 },
  { name: "gelu", fn: fixedGelu, ref: geluRef, lo: -10, hi: 10 },
  { name: "geluTanh", fn: fixedGeluTanh, ref: geluTanhRef, lo: -10, hi: 10 },
  // alpha = 1 (Q16); other alphas scale the bound by |alpha| (unary-math.test.ts)
  { name: "elu", fn: (x, fx, fo) => fixedElu(x, fx, fo, 65536), ref: (x) => (x >= 0 ? x : Math.expm1(x)), lo: -24, hi: 8 },
];

/** (input frac, output frac) pairs; Q16 -> Q16 first, swept most densely. */
const FRACS: [number, number][] = [[16, 16], [0, 16], [30, 16], [16, 0], [16, 30], [8, 24], [24, 8], [30, 30], [0, 0]];

function sampleInputs(fx: number, lo: number, hi: number, dense: number, allNearZero: boolean, seed: number): number[] {
  const clampI32 = (v: number) => Math.min(Math.max(Math.round(v), -2147483648), 2147483647);
  const xs: number[] = [];
  for (let i = 0; i <= dense; i++) xs.push(clampI32((lo + ((hi - lo) * i) / dense) * 2 ** fx));
  // every representable value in [-0.5, 0.5] for the Q16 -> Q16 sweep, raw -1024..1024 otherwise
  const near = allNearZero ? 2 ** (fx - 1) : 1024;
  for (let v = -near; v <= near; v++) xs.push(v);
  for (let k = 0; k <= 31; k++) {
    for (const d of [-1, 0, 1]) xs.push(clampI32(2 ** k + d), clampI32(-(2 ** k) + d));
  }
  const rng = new Rng(seed);
  for (let i = 0; i < 2000; i++) xs.push(rng.int(-2147483648, 2147483647));
  return xs;
}

interface Measured {
  /** Largest error in output units. */
  units: number;
  /** Largest error beyond the final half unit, in real units: absolute, and relative to |f(x)|. */
  abs: number;
  rel: number;
}

function measure(c: Case, fx: number, fo: number): { m: Measured; worst: number; within: boolean } {
  const q16 = fx === 16 && fo === 16;
  const m: Measured = { units: 0, abs: 0, rel: 0 };
  let within = true;
  let worst = 0;
  for (const x of sampleInputs(fx, c.lo, c.hi, q16 ? 120_000 : 12_000, q16, fx * 31 + fo + 1)) {
    if (c.skip?.(x)) continue;
    const real = c.ref(x / 2 ** fx);
    const err = unitsError(c.fn(x, fx, fo), real, fo);
    if (err > m.units) {
      m.units = err;
      worst = x;
    }
    const excess = Math.max(err - 0.5, 0) / 2 ** fo;
    m.abs = Math.max(m.abs, excess);
    if (real !== 0 && Number.isFinite(real)) m.rel = Math.max(m.rel, excess / Math.abs(real));
    if (err > tolerance(BOUNDS[c.name] as Bound, real, fo)) within = false;
  }
  return { m, worst, within };
}

describe("numerics bounds (docs/numerics.md)", () => {
  const rows: string[] = [];
  for (const c of CASES) {
    it(`${c.name} stays within its documented bound at every tested frac`, () => {
      const summary: Measured = { units: 0, abs: 0, rel: 0 };
      let q16 = 0;
      for (const [fx, fo] of FRACS) {
        const { m, worst, within } = measure(c, fx, fo);
        expect(within, `${c.name} Q${fx} -> Q${fo}: ${m.units} units at raw input ${worst}`).toBe(true);
        if (fx === 16 && fo === 16) q16 = m.units;
        summary.abs = Math.max(summary.abs, m.abs);
        summary.rel = Math.max(summary.rel, m.rel);
      }
      const relative = BOUNDS[c.name].rel > 0;
      rows.push(`${c.name.padEnd(11)} Q16->Q16 max ${q16.toFixed(4)} ulp; beyond the final rounding, any frac: ` +
        `${relative ? "rel" : "abs"} ${(relative ? summary.rel : summary.abs).toExponential(2)}`);
    });
  }
  it("Softmax and LogSoftmax at Q16 on rows of 2..2000 values", () => {
    const rng = new Rng(5);
    const worst = { softmax: 0, logSoftmax: 0 };
    for (let row = 0; row < 30; row++) {
      const n = rng.int(2, 2000);
      const spread = rng.pick([0.5, 4, 20, 200]);
      const x = rng.tensor([n], 16, -spread, spread);
      const xs = x.toFloat();
      const max = Math.max(...xs);
      const sum = xs.reduce((s, v) => s + Math.exp(v - max), 0);
      const [p, lp] = [softmax(x, {}, 16), logSoftmax(x, {}, 16)];
      xs.forEach((v, i) => {
        const [e1, e2] = [unitsError(p.data[i], Math.exp(v - max) / sum, 16), unitsError(lp.data[i], v - max - Math.log(sum), 16)];
        expect(e1).toBeLessThanOrEqual(tolerance(BOUNDS.softmax, 0, 16));
        expect(e2).toBeLessThanOrEqual(tolerance(BOUNDS.logSoftmax, 0, 16));
        worst.softmax = Math.max(worst.softmax, e1);
        worst.logSoftmax = Math.max(worst.logSoftmax, e2);
      });
    }
    rows.push(`softmax     Q16->Q16 max ${worst.softmax.toFixed(4)} ulp`, `logSoftmax  Q16->Q16 max ${worst.logSoftmax.toFixed(4)} ulp`);
  });

  it("LayerNormalization (n = 768) and BatchNormalization at Q16", () => {
    const rng = new Rng(6);
    let worstLn = 0;
    const n = 768;
    for (let row = 0; row < 20; row++) {
      // Activations with occasional outliers, Scale ~ 1 and B at the weight frac 20.
      const values = Array.from({ length: n }, () => rng.normal() * rng.pick([0.1, 1, 3]) + (rng.next() < 0.01 ? 60 : 0));
      const x = Tensor.fromFloat(values, [n], 16);
      const scale = Tensor.fromFloat(Array.from({ length: n }, () => 1 + 0.2 * rng.normal()), [n], 20);
      const b = Tensor.fromFloat(Array.from({ length: n }, () => 0.1 * rng.normal()), [n], 20);
      const y = layerNormalization(x, scale, b, { epsilon: 1 }, 16);
      const [xs, ss, bs] = [x.toFloat(), scale.toFloat(), b.toFloat()];
      const mean = xs.reduce((s, v) => s + v, 0) / n;
      const sigma = Math.sqrt(xs.reduce((s, v) => s + (v - mean) ** 2, 0) / n + 1 / 65536);
      xs.forEach((v, i) => {
        const z = (v - mean) / sigma;
        const err = unitsError(y.data[i], z * ss[i] + bs[i], 16);
        expect(err).toBeLessThanOrEqual(0.5 + layerNormExcess(n, z, sigma, ss[i], 16, 16) * 65536 + 1e-6);
        worstLn = Math.max(worstLn, err);
      });
    }
    let worstBn = 0;
    for (let batch = 0; batch < 20; batch++) {
      const c = 16;
      const x = rng.tensor([2, c, 8], 16, -6, 6);
      const [scale, b, mean] = [rng.tensor([c], 20, -2, 2), rng.tensor([c], 20, -1, 1), rng.tensor([c], 20, -1, 1)];
      const variance = rng.tensor([c], 20, 0.01, 9);
      const y = batchNormalization(x, scale, b, mean, variance, { epsilon: 1 }, 16);
      const [xs, ss, bs, ms, vs] = [x, scale, b, mean, variance].map((t) => t.toFloat());
      xs.forEach((v, i) => {
        const ch = Math.floor(i / 8) % c;
        const product = ((v - ms[ch]) * ss[ch]) / Math.sqrt(vs[ch] + 1 / 65536);
        const err = unitsError(y.data[i], product + bs[ch], 16);
        expect(err).toBeLessThanOrEqual(0.5 + batchNormExcess(product, 16) * 65536 + 1e-6);
        worstBn = Math.max(worstBn, err);
      });
    }
    rows.push(`layerNorm   Q16->Q16 max ${worstLn.toFixed(4)} ulp`, `batchNorm   Q16->Q16 max ${worstBn.toFixed(4)} ulp`);
  });

  it("prints the measured table", () => {
    console.log(rows.join("\n"));
    expect(rows.length).toBe(CASES.length + 4);
  });
});
