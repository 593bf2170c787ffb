import { describe, expect, it } from "vitest";
import { ATTR_FRAC } from "../../lib/ops/op.js";
import { Abs, abs, Clip, clip, HardSigmoid, hardSigmoid, LeakyRelu, leakyRelu, Neg, neg, PRelu, prelu } from "../../lib/ops/unary-arith.js";
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";
import { ONE_ROUNDING_TOLERANCE, broadcastRead, expectExact, expectNear, rawTensor, unravel } from "./arith-random.js";

const Q16 = 2 ** ATTR_FRAC;

function typeOf(t: Tensor) {
  return { shape: [...t.shape], frac: t.frac };
}

describe.each([
  { def: Neg, kernel: neg, ref: (v: number) => -v },
  { def: Abs, kernel: abs, ref: Math.abs },
])("$def.kind", ({ def, kernel, ref }) => {
  for (let seed = 1; seed <= 4; seed++) {
    it(`is exact, keeps the input frac and saturates -I32_MIN (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const x = rawTensor(rng, rng.shape(0, 4), rng.int(0, 24), 0.3);
      x.data[0] = I32_MIN;
      const y = kernel(x);
      expect(y.frac).toBe(x.frac);
      expectExact(y, Array.from(x.toFloat(), ref), def.kind);
      expect(y.data[0]).toBe(I32_MAX);
      expect(def.infer([typeOf(x)], {}, { frac: 16 })).toEqual([typeOf(y)]);
    });
  }
});

describe("LeakyRelu", () => {
  for (let seed = 1; seed <= 5; seed++) {
    it(`is within one rounding of the float leaky relu (seed ${seed})`, () => {
      const rng = new Rng(seed + 100);
      for (let trial = 0; trial < 10; trial++) {
        const x = rawTensor(rng, rng.shape(0, 4), rng.int(0, 24));
        const alpha = rng.pick([rng.int(-Q16, Q16), rng.int(I32_MIN, I32_MAX), 655]);
        const frac = rng.int(0, 24);
        const y = leakyRelu(x, { alpha }, frac);
        expectNear(y, Array.from(x.toFloat(), (v) => (v >= 0 ? v : (alpha / Q16) * v)), ONE_ROUNDING_TOLERANCE, `alpha ${alpha}`);
        expect(LeakyRelu.infer([typeOf(x)], { alpha }, { frac })).toEqual([typeOf(y)]);
        expect(LeakyRelu.run([x], { alpha }, { frac })[0].equals(y)).toBe(true);
      }
    });
  }

  it("defaults alpha to 0.01", () => {
    const y = leakyRelu(Tensor.fromFloat([-100, 3], [2], 16));
    expect(Array.from(y.toFloat())).toEqual([-100 * (655 / Q16), 3]);
  });
});

describe("PRelu", () => {
  for (let seed = 1; seed <= 5; seed++) {
    it(`is within one rounding of float with a unidirectionally broadcast slope (seed ${seed})`, () => {
      const rng = new Rng(seed + 200);
      for (let trial = 0; trial < 10; trial++) {
        const xShape = rng.shape(0, 4, 1, 4);
        const slopeShape = xShape.slice(rng.int(0, xShape.length)).map((d) => (rng.next() < 0.4 ? 1 : d));
        const x = rawTensor(rng, xShape, rng.int(0, 24));
        const slope = rawTensor(rng, slopeShape, rng.int(0, 24));
        const frac = rng.int(0, 24);
        const y = prelu(x, slope, frac);
        const xf = x.toFloat();
        const sf = slope.toFloat();
        const ref = Array.from(xf, (v, i) => (v >= 0 ? v : v * sf[broadcastRead(unravel(i, xShape), slopeShape)]));
        expectNear(y, ref, ONE_ROUNDING_TOLERANCE, `PRelu ${x} ${slope}`);
        expect(PRelu.infer([typeOf(x), typeOf(slope)], {}, { frac })).toEqual([typeOf(y)]);
      }
    });
  }

  it("rejects a slope that would grow the input shape", () => {
    expect(() => PRelu.infer([{ shape: [3], frac: 16 }, { shape: [2, 3], frac: 16 }], {}, { frac: 16 }))
      .toThrow("slope shape [2,3] does not broadcast to input shape [3]");
    expect(() => PRelu.infer([{ shape: [2, 3], frac: 16 }, { shape: [2], frac: 16 }], {}, { frac: 16 })).toThrow(/does not broadcast/);
  });
});

describe("Clip", () => {
  /** A Q16 bound as a real: the i32 extremes stand for -infinity and +infinity. */
  const boundValue = (q: number) => (q === I32_MIN ? -Infinity : q === I32_MAX ? Infinity : q / Q16);

  for (let seed = 1; seed <= 5; seed++) {
    it(`equals the float clip quantized at the input frac (seed ${seed})`, () => {
      const rng = new Rng(seed + 300);
      for (let trial = 0; trial < 10; trial++) {
        const x = rawTensor(rng, rng.shape(0, 4), rng.int(0, 24));
        const bound = () => rng.pick([I32_MIN, I32_MAX, rng.int(-8 * Q16, 8 * Q16), rng.int(I32_MIN, I32_MAX)]);
        const attrs = { min: bound(), max: bound() };
        const lo = boundValue(attrs.min);
        const hi = boundValue(attrs.max);
        const y = clip(x, attrs);
        expect(y.frac).toBe(x.frac);
        expectExact(y, Array.from(x.toFloat(), (v) => Math.min(Math.max(v, lo), hi)), `Clip [${lo}, ${hi}]`);
        expect(Clip.infer([typeOf(x)], attrs, { frac: 16 })).toEqual([typeOf(y)]);
      }
    });
  }

  it("treats the default bounds as none, even at frac 0 beyond the Q16 range", () => {
    const x = Tensor.fromInts([I32_MIN, -100000, 100000, I32_MAX], [4]);
    expect(clip(x).equals(x)).toBe(true);
    expect(Array.from(clip(x, { min: 0 }).data)).toEqual([0, 0, 100000, I32_MAX]);
  });

  it("gives max everywhere when min > max", () => {
    expect(Array.from(clip(Tensor.fromFloat([-3, 0, 3], [3], 8), { min: 2 * Q16, max: Q16 }).toFloat())).toEqual([1, 1, 1]);
  });

  it("names a bad attribute", () => {
    expect(() => clip(Tensor.fromInts([1], [1]), { min: 0.5 })).toThrow("Clip attribute 'min' must be fixed, got 0.5");
  });
});

describe("HardSigmoid", () => {
  for (let seed = 1; seed <= 5; seed++) {
    it(`is within one rounding of max(0, min(1, alpha x + beta)) (seed ${seed})`, () => {
      const rng = new Rng(seed + 400);
      for (let trial = 0; trial < 10; trial++) {
        const x = rawTensor(rng, rng.shape(0, 4), rng.int(0, 24));
        const attrs = rng.next() < 0.3 ? {} : { alpha: rng.pick([rng.int(-4 * Q16, 4 * Q16), rng.int(I32_MIN, I32_MAX)]), beta: rng.int(I32_MIN, I32_MAX) };
        const alpha = (attrs.alpha ?? 13107) / Q16;
        const beta = (attrs.beta ?? 32768) / Q16;
        const frac = rng.int(0, 24);
        const y = hardSigmoid(x, attrs, frac);
        expectNear(y, Array.from(x.toFloat(), (v) => Math.max(0, Math.min(1, alpha * v + beta))), ONE_ROUNDING_TOLERANCE, `HardSigmoid ${alpha} ${beta}`);
        expect(HardSigmoid.infer([typeOf(x)], { alpha: 0, beta: 0 }, { frac })).toEqual([typeOf(y)]);
      }
    });
  }

  it("defaults to alpha 0.2, beta 0.5", () => {
    const y = hardSigmoid(Tensor.fromFloat([-10, 0, 1, 10], [4], 16));
    expect(Array.from(y.toFloat())).toEqual([0, 0.5, 0.5 + 13107 / Q16, 1]);
  });
});
