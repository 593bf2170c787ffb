import { describe, expect, it } from "vitest";
import {
  AveragePool, averagePool, type AveragePoolAttrs, GlobalAveragePool, globalAveragePool, GlobalMaxPool, globalMaxPool,
  MaxPool, maxPool, meanAt,
} from "../../lib/ops/pool.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";
import { expectNear, flatIndex, multiIndices } from "./nn-reference.js";

/**
 * The ONNX definition: output o of each axis covers input positions o*stride + tap*dilation -
 * padBegin; max/average over those on input values; with count_include_pad the divisor also
 * counts positions on the padding (never past the padded input). Returns the output shape and,
 * per output, the input values and the divisor.
 */
function poolWindows(xShape: number[], a: AveragePoolAttrs): { shape: number[]; windows: { inputs: number[]; count: number }[] } {
  const spatialIn = xShape.slice(2);
  const r = spatialIn.length;
  const k = a.kernel_shape;
  const strides = a.strides.length ? a.strides : k.map(() => 1);
  const dilations = a.dilations.length ? a.dilations : k.map(() => 1);
  const begin: number[] = [];
  const end: number[] = [];
  const out = spatialIn.map((inSize, i) => {
    const span = (k[i] - 1) * dilations[i] + 1;
    if (a.auto_pad.startsWith("SAME")) {
      const size = Math.ceil(inSize / strides[i]);
      const total = Math.max(0, (size - 1) * strides[i] + span - inSize);
      const pb = a.auto_pad === "SAME_UPPER" ? Math.floor(total / 2) : total - Math.floor(total / 2);
      begin.push(pb);
      end.push(total - pb);
      return size;
    }
    const [pb, pe] = a.auto_pad === "VALID" || !a.pads.length ? [0, 0] : [a.pads[i], a.pads[i + r]];
    begin.push(pb);
    end.push(pe);
    const room = inSize + pb + pe - span;
    let size = (a.ceil_mode ? Math.ceil(room / strides[i]) : Math.floor(room / strides[i])) + 1;
    // ceil_mode never starts a window in the end padding.
    if (a.ceil_mode && (size - 1) * strides[i] >= inSize + pb) size--;
    return size;
  });
  const shape = [xShape[0], xShape[1], ...out];
  const windows = [...multiIndices(shape)].map(([n, c, ...o]) => {
    const inputs: number[] = [];
    let count = 0;
    for (const tap of multiIndices(k)) {
      const pos = o.map((v, i) => v * strides[i] + tap[i] * dilations[i] - begin[i]);
      const onInput = pos.every((p, i) => p >= 0 && p < spatialIn[i]);
      const onPadded = pos.every((p, i) => p >= -begin[i] && p < spatialIn[i] + end[i]);
      if (onInput) inputs.push(flatIndex(xShape, [n, c, ...pos]));
      if (a.count_include_pad ? onPadded : onInput) count++;
    }
    return { inputs, count };
  });
  return { shape, windows };
}

function randomCase(rng: Rng): { xShape: number[]; attrs: AveragePoolAttrs } {
  const rank = rng.int(1, 2);
  const kernel = Array.from({ length: rank }, () => rng.int(1, 3));
  const dilations = rng.next() < 0.6 ? [] : kernel.map(() => rng.int(1, 2));
  const auto_pad = rng.pick(["NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"]);
  const spatial = kernel.map((k, i) => (k - 1) * (dilations[i] ?? 1) + 1 + rng.int(0, 5));
  return {
    xShape: [rng.int(1, 2), rng.int(1, 3), ...spatial],
    attrs: {
      auto_pad,
      kernel_shape: kernel,
      strides: rng.next() < 0.3 ? [] : kernel.map(() => rng.int(1, 3)),
      dilations,
      pads: auto_pad === "NOTSET" && rng.next() < 0.8 ? [...kernel, ...kernel].map((k) => rng.int(0, k - 1)) : [],
      ceil_mode: rng.int(0, 1),
      count_include_pad: rng.int(0, 1),
    },
  };
}

const typeOf = (t: Tensor) => ({ shape: [...t.shape], frac: t.frac });

describe("MaxPool and AveragePool", () => {
  for (let seed = 1; seed <= 25; seed++) {
    it(`match the real max (exactly) and mean (within 1/2 ulp) over windows (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const { xShape, attrs } = randomCase(rng);
      const x = rng.tensor(xShape, rng.pick([8, 16, 20]));
      const ref = poolWindows(xShape, attrs);
      const xf = x.toFloat();

      const { count_include_pad: _unused, ...maxAttrs } = attrs;
      const ym = maxPool(x, maxAttrs);
      expect(ym.shape).toEqual(ref.shape);
      expect(ym.frac).toBe(x.frac);
      const maxes = ref.windows.map((w) => (w.inputs.length ? Math.max(...w.inputs.map((i) => xf[i])) : -(2 ** 31) / 2 ** x.frac));
      expect([...ym.toFloat()]).toEqual(maxes);
      expect(MaxPool.infer([typeOf(x)], maxAttrs, { frac: 16 })).toEqual([typeOf(ym)]);

      // The mean is divided once (divRound, to nearest) from an exact sum: within half an ulp.
      const frac = rng.pick([12, 16]);
      const ya = averagePool(x, attrs, frac);
      expect(ya.shape).toEqual(ref.shape);
      expect(ya.frac).toBe(frac);
      expectNear(ya, ref.windows.map((w) => (w.count ? w.inputs.reduce((s, i) => s + xf[i], 0) / w.count : 0)), 0.5);
      expect(AveragePool.infer([typeOf(x)], attrs, { frac })).toEqual([typeOf(ya)]);
    });
  }

  it("divides once with ties away from zero and saturates the exact quotient", () => {
    expect(meanAt(3, 2, 0, 0)).toBe(2);
    expect(meanAt(-3, 2, 0, 0)).toBe(-2);
    expect(meanAt(5, 4, 0, 1)).toBe(3); // 1.25 at frac 1 is 2.5 units
    expect(meanAt(40, 3, 4, 0)).toBe(1); // 40/16/3 = 0.83
    // (2^31 - 1) at frac 0 is far beyond the i32 range at frac 30: saturated, never wrapped.
    expect(meanAt(8 * (2 ** 31 - 1), 8, 0, 30)).toBe(2 ** 31 - 1);
    expect(meanAt(-8 * 2 ** 31, 8, 0, 30)).toBe(-(2 ** 31));
  });

  it("rejects bad attributes with specific messages", () => {
    const base = { auto_pad: "NOTSET", strides: [], pads: [], dilations: [], ceil_mode: 0 };
    const x = { shape: [1, 1, 4, 4], frac: 16 };
    expect(() => MaxPool.infer([x], { ...base, kernel_shape: [2] }, { frac: 16 }))
      .toThrow("MaxPool attribute 'kernel_shape' has 1 values, input X has 2 spatial axes");
    expect(() => MaxPool.infer([x], { ...base, kernel_shape: [5, 2] }, { frac: 16 }))
      .toThrow("MaxPool input size 4 (padded 4) is smaller than the dilated kernel 5 on spatial axis 0");
    expect(() => AveragePool.infer([x], { ...base, kernel_shape: [2, 2], count_include_pad: 2 }, { frac: 16 }))
      .toThrow("AveragePool attribute 'count_include_pad' must be 0 or 1, got 2");
    expect(() => maxPool(Tensor.zeros([1, 1, 4, 4], 16), {})).toThrow("MaxPool requires attribute 'kernel_shape'");
  });
});

describe("GlobalMaxPool and GlobalAveragePool", () => {
  for (let seed = 1; seed <= 6; seed++) {
    it(`reduce every spatial axis (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const shape = [rng.int(1, 2), rng.int(1, 3), ...rng.shape(1, 3, 1, 5)];
      const x = rng.tensor(shape, rng.pick([8, 16]));
      const xf = x.toFloat();
      const plane = shape.slice(2).reduce((p, d) => p * d, 1);
      const planes = Array.from({ length: shape[0] * shape[1] }, (_, i) => [...xf.slice(i * plane, (i + 1) * plane)]);
      const outShape = [shape[0], shape[1], ...shape.slice(2).map(() => 1)];

      const ym = globalMaxPool(x);
      expect(ym.shape).toEqual(outShape);
      expect([...ym.toFloat()]).toEqual(planes.map((p) => Math.max(...p)));
      expect(GlobalMaxPool.infer([typeOf(x)], {}, { frac: 16 })).toEqual([typeOf(ym)]);

      const ya = globalAveragePool(x, 16);
      expect(ya.shape).toEqual(outShape);
      expectNear(ya, planes.map((p) => p.reduce((s, v) => s + v, 0) / plane), 0.5);
      expect(GlobalAveragePool.infer([typeOf(x)], {}, { frac: 16 })).toEqual([typeOf(ya)]);
    });
  }

  it("needs spatial axes", () => {
    expect(() => GlobalAveragePool.infer([{ shape: [2, 3], frac: 16 }], {}, { frac: 16 }))
      .toThrow("input X has rank 2, GlobalAveragePool needs rank >= 3 [N,C,spatial...]");
  });
});
