import { describe, expect, it } from "vitest";
import { BatchNormalization, LayerNormalization, batchNormalization, layerNormalization } from "../../lib/ops/normalization.js";
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import { broadcastIndex, sizeOf } from "../../lib/tensor/shape.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";
import { batchNormExcess, layerNormExcess, unitsError } from "./math-reference.js";

describe("LayerNormalization", () => {
  for (let seed = 1; seed <= 10; seed++) {
    it(`matches float64 over random shapes, axes and fracs (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const shape = rng.shape(1, 4, 1, seed % 3 === 0 ? 40 : 6);
      const axis = rng.int(-shape.length, shape.length - 1);
      const a = axis < 0 ? axis + shape.length : axis;
      const normalized = shape.slice(a);
      const [fx, fs, fb, fo] = [rng.int(8, 24), rng.int(8, 24), rng.int(8, 24), rng.int(8, 24)];
      const spread = rng.pick([0.01, 1, 50]);
      const x = rng.tensor(shape, fx, -spread, spread);
      // Scale: the normalized shape, or a broadcastable suffix with some 1s.
      const scaleShape = normalized.slice(rng.int(0, normalized.length - 1)).map((d) => (rng.next() < 0.3 ? 1 : d));
      const scale = rng.tensor(scaleShape, fs, -2, 2);
      const b = rng.next() < 0.7 ? rng.tensor(normalized, fb, -1, 1) : undefined;
      const epsilon = rng.pick([0, 1, 655]); // 0, ~1.5e-5, ~0.01 at Q16
      const y = layerNormalization(x, scale, b, { axis, epsilon }, fo);
      expect(y.shape).toEqual(shape);
      expect(y.frac).toBe(fo);

      const n = sizeOf(normalized);
      const xs = x.toFloat();
      const ss = scale.toFloat();
      const bs = b?.toFloat();
      const si = broadcastIndex(scale.shape, normalized);
      for (let base = 0; base < x.size; base += n) {
        let mean = 0;
        for (let i = 0; i < n; i++) mean += xs[base + i] / n;
        let variance = 0;
        for (let i = 0; i < n; i++) variance += (xs[base + i] - mean) ** 2 / n;
        const sigma = Math.sqrt(variance + epsilon / 65536);
        for (let i = 0; i < n; i++) {
          const dev = xs[base + i] - mean;
          const z = sigma === 0 || Math.abs(dev) < 1e-300 ? 0 : dev / sigma;
          const want = z * ss[si[i]] + (bs ? bs[i] : 0);
          const tol = 0.5 + layerNormExcess(n, z, sigma, ss[si[i]], fx, fo) * 2 ** fo + 1e-6;
          expect(unitsError(y.data[base + i], want, fo), `group at ${base}, element ${i}`).toBeLessThanOrEqual(tol);
        }
      }
      const types = [x, scale, b].map((t) => t && { shape: [...t.shape], frac: t.frac });
      expect(LayerNormalization.infer(types as never, { axis, epsilon }, { frac: fo })).toEqual([{ shape, frac: fo }]);
      expect(LayerNormalization.run([x, scale, b] as Tensor[], { axis, epsilon }, { frac: fo })[0].equals(y)).toBe(true);
    });
  }

  it("a group of equal values gives B, also with epsilon 0", () => {
    const x = Tensor.fromFloat([3, 3, 3, 3], [1, 4], 16);
    const scale = Tensor.fromFloat([1, 1, 1, 1], [4], 16);
    const b = Tensor.fromFloat([0.5, -0.5, 0, 2], [4], 16);
    expect(layerNormalization(x, scale, b, { epsilon: 0 }, 16).equals(b.reshape([1, 4]))).toBe(true);
  });

  it("rejects bad axes, Scale shapes and epsilon", () => {
    const x = { shape: [2, 3, 4], frac: 16 };
    const ctx = { frac: 16 };
    expect(() => LayerNormalization.infer([x, { shape: [3, 4], frac: 16 }], { axis: 3, epsilon: 1 }, ctx))
      .toThrow("axis 3 is out of range for rank 3");
    expect(() => LayerNormalization.infer([x, { shape: [3], frac: 16 }], { axis: -1, epsilon: 1 }, ctx))
      .toThrow("Scale shape [3] does not broadcast to the normalized shape [4]");
    expect(() => LayerNormalization.infer([x, { shape: [4], frac: 16 }, { shape: [5], frac: 16 }], { axis: -1, epsilon: 1 }, ctx))
      .toThrow("B shape [5] does not broadcast to the normalized shape [4]");
    expect(() => LayerNormalization.infer([x, { shape: [4], frac: 16 }], { axis: -1, epsilon: -1 }, ctx))
      .toThrow(/epsilon must be >= 0/);
  });
});

describe("BatchNormalization", () => {
  for (let seed = 1; seed <= 10; seed++) {
    it(`matches float64 per channel (seed ${seed})`, () => {
      const rng = new Rng(seed + 50);
      const shape = [rng.int(1, 3), rng.int(1, 5), ...rng.shape(0, 2)];
      const c = shape[1];
      const [fx, fs, fb, fm, fv, fo] = Array.from({ length: 6 }, () => rng.int(6, 26));
      const x = rng.tensor(shape, fx, -8, 8);
      const scale = rng.tensor([c], fs, -3, 3);
      const b = rng.tensor([c], fb, -2, 2);
      const mean = rng.tensor([c], fm, -2, 2);
      const variance = rng.tensor([c], fv, 0.001, rng.pick([0.1, 4, 30]));
      const epsilon = rng.pick([0, 1, 655]);
      const y = batchNormalization(x, scale, b, mean, variance, { epsilon }, fo);
      expect(y.shape).toEqual(shape);
      expect(y.frac).toBe(fo);
      const [xs, ss, bs, ms, vs] = [x, scale, b, mean, variance].map((t) => t.toFloat());
      const spatial = sizeOf(shape.slice(2));
      xs.forEach((v, i) => {
        const ch = Math.floor(i / spatial) % c;
        const sigma = Math.sqrt(Math.max(vs[ch], 0) + epsilon / 65536);
        if (sigma === 0) return; // checked below
        const product = ((v - ms[ch]) * ss[ch]) / sigma;
        const want = product + bs[ch];
        const tol = 0.5 + batchNormExcess(product, fo) * 2 ** fo + 1e-6;
        expect(unitsError(y.data[i], want, fo), `element ${i}`).toBeLessThanOrEqual(tol);
      });
      const types = [x, scale, b, mean, variance].map((t) => ({ shape: [...t.shape], frac: t.frac }));
      expect(BatchNormalization.infer(types, { epsilon }, { frac: fo })).toEqual([{ shape, frac: fo }]);
      expect(BatchNormalization.run([x, scale, b, mean, variance], { epsilon }, { frac: fo })[0].equals(y)).toBe(true);
    });
  }

  it("a zero variance with epsilon 0 saturates by the sign of (x - mean) * scale", () => {
    const x = Tensor.fromFloat([1, -1, 0, 2], [1, 1, 4], 16);
    const one = (v: number) => Tensor.fromFloat([v], [1], 16);
    const y = batchNormalization(x, one(-2), one(0.25), one(0), one(0), { epsilon: 0 }, 16);
    expect([...y.data]).toEqual([I32_MIN, I32_MAX, 16384, I32_MIN]);
  });

  it("rejects parameters that are not [C] and a rank-1 input", () => {
    const t = (shape: number[]) => ({ shape, frac: 16 });
    expect(() => BatchNormalization.infer([t([2, 3, 4]), t([3]), t([3]), t([4]), t([3])], { epsilon: 1 }, { frac: 16 }))
      .toThrow("input_mean has shape [4], expected [3] (the channels of X)");
    expect(() => BatchNormalization.infer([t([3]), t([3]), t([3]), t([3]), t([3])], { epsilon: 1 }, { frac: 16 }))
      .toThrow("input X has rank 1, BatchNormalization needs rank >= 2 [N,C,...]");
  });
});
