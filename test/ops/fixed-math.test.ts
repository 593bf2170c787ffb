import { describe, expect, it } from "vitest";
import { ERF_POLY, GELU_CUBIC_Q30, INV_SQRT2_Q30, SQRT_2_OVER_PI_Q30 } from "../../lib/ops/fixed-erf.js";
import { EXP2_POLY, EXP2_TABLE, LN1P_POLY, LN2_Q40, LOG2E_Q30, LOG_RCP, LOG_RCP_LN } from "../../lib/ops/fixed-exp-log.js";
import {
  WIDE_LIMIT, bitLength, divShiftRound, mulShift, rsqrt, sqrtFloorShifted,
} from "../../lib/ops/fixed-math.js";
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import { Rng } from "../helpers/random.js";
import { chebyshevMonomials, erfRef } from "./math-reference.js";

/** A random integer with a random bit length up to `bits`, random sign. */
function randomInt(rng: Rng, bits: number): number {
  const len = rng.int(0, bits);
  const v = Math.floor(rng.next() * 2 ** len);
  return rng.next() < 0.5 ? -v : v;
}

/** BigInt round-to-nearest (ties away from zero) and integer square root references. */
function divRoundAwayBig(a: bigint, b: bigint): bigint {
  const neg = a < 0n !== b < 0n;
  const n = a < 0n ? -a : a;
  const d = b < 0n ? -b : b;
  const q = (2n * n + d) / (2n * d);
  return neg ? -q : q;
}
function isqrtBig(m: bigint): bigint {
  if (m < 2n) return m;
  let x = BigInt(Math.floor(Math.sqrt(Number(m))));
  while (x * x > m) x--;
  while ((x + 1n) * (x + 1n) <= m) x++;
  return x;
}

describe("fixed-math primitives (exact against BigInt)", () => {
  it("bitLength matches the binary length up to 2^53", () => {
    const rng = new Rng(1);
    expect(bitLength(0)).toBe(0);
    for (let i = 0; i < 2000; i++) {
      const v = Math.abs(randomInt(rng, 53));
      expect(bitLength(v)).toBe(v === 0 ? 0 : v.toString(2).length);
    }
  });

  for (let seed = 1; seed <= 3; seed++) {
    it(`mulShift equals i64 (a*b + 2^(s-1)) >> s, or a*b << -s (seed ${seed})`, () => {
      const rng = new Rng(seed);
      for (let i = 0; i < 4000; i++) {
        const a = randomInt(rng, 36);
        const maxB = Math.min(53, 61 - bitLength(Math.abs(a)));
        const b = randomInt(rng, maxB);
        const s = rng.int(-8, 62);
        const product = BigInt(a) * BigInt(b);
        const round = s <= 0 ? product << BigInt(-s) : (product + (1n << BigInt(s - 1))) >> BigInt(s);
        if (round >= -(2n ** 53n) && round <= 2n ** 53n) expect(mulShift(a, b, s), `${a} * ${b} >> ${s}`).toBe(Number(round));
      }
    });

    it(`divShiftRound is the exact a * 2^sh / b, ties away from zero (seed ${seed})`, () => {
      const rng = new Rng(seed + 10);
      for (let i = 0; i < 4000; i++) {
        const a = randomInt(rng, 50);
        let b = randomInt(rng, 50);
        if (b === 0) b = 1;
        const sh = rng.int(-60, 62);
        const num = sh >= 0 ? BigInt(a) << BigInt(sh) : BigInt(a);
        const den = sh >= 0 ? BigInt(b) : BigInt(b) << BigInt(-sh);
        const q = divRoundAwayBig(num, den);
        const expected = q >= 2n ** 52n ? WIDE_LIMIT : q <= -(2n ** 52n) ? -WIDE_LIMIT : Number(q);
        expect(divShiftRound(a, sh, b), `${a} * 2^${sh} / ${b}`).toBe(expected);
      }
      expect(divShiftRound(5, 3, 0)).toBe(I32_MAX);
      expect(divShiftRound(-5, 3, 0)).toBe(I32_MIN);
      expect(divShiftRound(0, 3, 0)).toBe(0);
      expect(divShiftRound(3, -1, 1)).toBe(2); // 1.5 rounds away from zero
      expect(divShiftRound(-3, -1, 1)).toBe(-2);
    });

    it(`sqrtFloorShifted is floor(sqrt(x * 2^t)) over the u64 range (seed ${seed})`, () => {
      const rng = new Rng(seed + 20);
      for (let i = 0; i < 1500; i++) {
        const x = Math.abs(randomInt(rng, 53));
        const t = rng.int(0, Math.max(0, 64 - bitLength(x)));
        expect(sqrtFloorShifted(x, t)).toBe(Number(isqrtBig(BigInt(x) << BigInt(t))));
      }
      expect(sqrtFloorShifted(2 ** 52 - 1, 12)).toBe(Number(isqrtBig(((1n << 52n) - 1n) << 12n)));
    });
  }

  it("rsqrt has relative error below 1.5 * 2^-30 and r in [2^29, 2^30]", () => {
    const rng = new Rng(7);
    for (let i = 0; i < 3000; i++) {
      const w = Math.max(1, Math.abs(randomInt(rng, 53)));
      const f = rng.int(-40, 80);
      const { r, k } = rsqrt(w, f);
      expect(r).toBeGreaterThanOrEqual(2 ** 29);
      expect(r).toBeLessThanOrEqual(2 ** 30);
      // 1/sqrt(w / 2^f) = 2^(f/2) / sqrt(w), compared in logs to stay in range.
      const rel = Math.abs(Math.log2(r) - k - (f / 2 - Math.log2(w) / 2)) * Math.LN2;
      expect(rel).toBeLessThan(1.5 * 2 ** -30 + 1e-15);
    }
  });
});

describe("constant tables are the documented formulas, rounded to Q30", () => {
  const q30 = (v: number) => Math.round(v * 2 ** 30);
  it("exp and log constants", () => {
    expect(LOG2E_Q30).toBe(q30(Math.LOG2E));
    expect(LN2_Q40).toBe(Math.round(Math.LN2 * 2 ** 40));
    expect(EXP2_TABLE).toEqual(Array.from({ length: 16 }, (_, j) => q30(2 ** (j / 16))));
    let factorial = 1;
    const taylor = [2 ** 30];
    for (let n = 1; n <= 5; n++) {
      factorial *= n;
      taylor.unshift(q30(Math.LN2 ** n / factorial));
    }
    expect(EXP2_POLY).toEqual(taylor);
    const rcp = Array.from({ length: 16 }, (_, j) => q30(1 / (1 + (2 * j + 1) / 32)));
    expect(LOG_RCP).toEqual(rcp);
    expect(LOG_RCP_LN).toEqual(rcp.map((v) => q30(-Math.log(v / 2 ** 30))));
    expect(LN1P_POLY).toEqual([5, 4, 3, 2, 1].map((k) => (k % 2 ? 1 : -1) * q30(1 / k)));
  });

  it("erf and GELU constants (Chebyshev interpolant on 9 intervals of width 1/2, degree 7)", () => {
    expect(INV_SQRT2_Q30).toBe(q30(Math.SQRT1_2));
    expect(GELU_CUBIC_Q30).toBe(q30(0.044715));
    expect(SQRT_2_OVER_PI_Q30).toBe(q30(Math.sqrt(2 / Math.PI)));
    expect(ERF_POLY.length).toBe(9);
    ERF_POLY.forEach((coefs, i) => {
      const fresh = chebyshevMonomials(erfRef, i / 2, i / 2 + 0.5, 7).map(q30);
      // float64 rounding may move a coefficient that sits at a .5 boundary by one unit
      coefs.forEach((c, n) => expect(Math.abs(c - fresh[n])).toBeLessThanOrEqual(1));
    });
  });
});
