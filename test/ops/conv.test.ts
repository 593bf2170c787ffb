import { describe, expect, it } from "vitest";
import { Conv, conv, type ConvAttrs } from "../../lib/ops/conv.js";
import type { TensorType } from "../../lib/ops/op.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";
import { evalExact, evalFloat, expectNear, flatIndex, multiIndices, type Terms } from "./nn-reference.js";

interface ConvCase {
  xShape: number[];
  wShape: number[];
  attrs: ConvAttrs;
}

/**
 * The ONNX definition: output o reads input o*stride + tap*dilation - padBegin on every spatial
 * axis (zero outside), summed over the group's input channels; pads resolved from auto_pad here.
 */
function convTerms({ xShape, wShape, attrs }: ConvCase): { shape: number[]; terms: Terms[] } {
  const spatialIn = xShape.slice(2);
  const kernel = wShape.slice(2);
  const r = spatialIn.length;
  const strides = attrs.strides.length ? attrs.strides : kernel.map(() => 1);
  const dilations = attrs.dilations.length ? attrs.dilations : kernel.map(() => 1);
  const begin: number[] = [];
  const outSpatial = spatialIn.map((inSize, i) => {
    const span = (kernel[i] - 1) * dilations[i] + 1;
    if (attrs.auto_pad === "SAME_UPPER" || attrs.auto_pad === "SAME_LOWER") {
      const out = Math.ceil(inSize / strides[i]);
      const total = Math.max(0, (out - 1) * strides[i] + span - inSize);
      begin.push(attrs.auto_pad === "SAME_UPPER" ? Math.floor(total / 2) : total - Math.floor(total / 2));
      return out;
    }
    const [pb, pe] = attrs.auto_pad === "VALID" || !attrs.pads.length ? [0, 0] : [attrs.pads[i], attrs.pads[i + r]];
    begin.push(pb);
    return Math.floor((inSize + pb + pe - span) / strides[i]) + 1;
  });
  const [batch, channels] = xShape;
  const outChannels = wShape[0];
  const perGroup = wShape[1];
  const outPerGroup = outChannels / attrs.group;
  const shape = [batch, outChannels, ...outSpatial];
  const terms: Terms[] = [];
  for (const [n, m, ...o] of multiIndices(shape)) {
    const g = Math.floor(m / outPerGroup);
    const pairs: [number, number][] = [];
    for (let c = 0; c < perGroup; c++) {
      for (const tap of multiIndices(kernel)) {
        const pos = o.map((v, i) => v * strides[i] + tap[i] * dilations[i] - begin[i]);
        if (pos.some((p, i) => p < 0 || p >= spatialIn[i])) continue;
        pairs.push([flatIndex(xShape, [n, g * perGroup + c, ...pos]), flatIndex(wShape, [m, c, ...tap])]);
      }
    }
    terms.push({ pairs, bias: m });
  }
  expect(channels).toBe(perGroup * attrs.group);
  return { shape, terms };
}

/** Random 1-D/2-D convolutions: groups incl. depthwise, strides, dilations, pads, every auto_pad. */
function randomCase(rng: Rng): ConvCase {
  const rank = rng.int(1, 2);
  const kind = rng.pick(["plain", "grouped", "depthwise"]);
  const group = kind === "plain" ? 1 : kind === "grouped" ? 2 : rng.int(2, 4);
  const perGroup = kind === "depthwise" ? 1 : rng.int(1, 3);
  const outPerGroup = kind === "depthwise" ? rng.int(1, 2) : rng.int(1, 3);
  const kernel = Array.from({ length: rank }, () => rng.pick([1, 2, 3, 5]));
  const strides = rng.next() < 0.3 ? [] : kernel.map(() => rng.int(1, 3));
  const dilations = rng.next() < 0.5 ? [] : kernel.map(() => rng.int(1, 2));
  const auto_pad = rng.pick(["NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"]);
  const pads = auto_pad === "NOTSET" && rng.next() < 0.8 ? [...kernel, ...kernel].map((k) => rng.int(0, k - 1)) : [];
  const spatial = kernel.map((k, i) => (k - 1) * (dilations[i] ?? 1) + 1 + rng.int(0, 5));
  return {
    xShape: [rng.int(1, 2), perGroup * group, ...spatial],
    wShape: [outPerGroup * group, perGroup, ...kernel],
    attrs: { auto_pad, group, kernel_shape: rng.next() < 0.5 ? kernel : [], strides, dilations, pads },
  };
}

const typeOf = (t: Tensor | undefined) => t && { shape: [...t.shape], frac: t.frac };

describe("Conv", () => {
  // One final rounding (round half up) of an exact sum: within half an ulp of the real result.
  for (let seed = 1; seed <= 25; seed++) {
    it(`matches the real convolution within 1/2 ulp (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const c = randomCase(rng);
      const x = rng.tensor(c.xShape, rng.pick([8, 16]));
      const w = rng.tensor(c.wShape, rng.pick([14, 20]), -1, 1);
      const b = rng.next() < 0.7 ? rng.tensor([c.wShape[0]], rng.pick([8, 24]), -2, 2) : undefined;
      const frac = rng.pick([12, 16]);
      const y = conv(x, w, b, c.attrs, frac);
      const ref = convTerms(c);
      expect(y.shape).toEqual(ref.shape);
      expect(y.frac).toBe(frac);
      expectNear(y, evalFloat(ref.terms, x, w, b), 0.5);
      expect(Conv.infer([typeOf(x), typeOf(w), typeOf(b)] as TensorType[], c.attrs, { frac })).toEqual([{ shape: ref.shape, frac }]);
    });
  }

  for (let seed = 1; seed <= 4; seed++) {
    it(`is bit-exact with i64 arithmetic on values too large for float64 (seed ${seed})`, () => {
      const rng = new Rng(500 + seed);
      const c = randomCase(rng);
      const big = (shape: number[], frac: number, bits: number) =>
        new Tensor(shape, Int32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => rng.int(-(2 ** bits), 2 ** bits)), frac);
      const x = big(c.xShape, 20, 29);
      const w = big(c.wShape, 20, 29);
      const b = big([c.wShape[0]], rng.pick([0, 30]), 30);
      const y = conv(x, w, b, c.attrs, 8);
      expect([...y.data]).toEqual(evalExact(convTerms(c).terms, x, w, b, 8));
    });
  }

  it("computes a known 2-D case: 3x3 input, 2x2 identity-diagonal kernel, bias at frac 8", () => {
    const x = Tensor.fromFloat([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3], 16);
    const w = Tensor.fromFloat([1, 0, 0, 1], [1, 1, 2, 2], 20);
    const b = Tensor.fromFloat([0.5], [1], 8);
    expect([...conv(x, w, b).toFloat()]).toEqual([6.5, 8.5, 12.5, 14.5]);
  });

  it("rejects bad shapes and attributes with specific messages", () => {
    const t = (shape: number[]) => ({ shape, frac: 16 });
    const attrs: ConvAttrs = { auto_pad: "NOTSET", group: 1, kernel_shape: [], strides: [], dilations: [], pads: [] };
    const infer = (x: number[], w: number[], a: Partial<ConvAttrs> = {}, b?: number[]) =>
      () => Conv.infer([t(x), t(w), ...(b ? [t(b)] : [])], { ...attrs, ...a }, { frac: 16 });
    expect(infer([1, 1, 2, 3, 3], [1, 1, 1, 1, 1])).toThrow("input X has rank 5, Conv supports 1D and 2D: rank 3 [N,C,L] or rank 4 [N,C,H,W]");
    expect(infer([1, 3, 5, 5], [2, 3, 3, 3], { group: 2 })).toThrow("Conv attribute 'group' 2 does not divide the 3 input channels");
    expect(infer([1, 4, 5, 5], [2, 3, 3, 3])).toThrow("W has 3 input channels per group, X has 4 channels in 1 group(s)");
    expect(infer([1, 1, 5, 5], [1, 1, 3, 3], { kernel_shape: [3, 2] }))
      .toThrow("Conv attribute 'kernel_shape' [3,2] differs from W's spatial shape [3,3]");
    expect(infer([1, 1, 5, 5], [1, 1, 3, 3], { pads: [1, 1] })).toThrow("Conv attribute 'pads' has 2 values, expected 4");
    expect(infer([1, 1, 5, 5], [1, 1, 3, 3], { strides: [0, 1] })).toThrow("Conv attribute 'strides' must be >= 1, got [0,1]");
    expect(infer([1, 1, 2, 5], [1, 1, 3, 3])).toThrow("Conv input size 2 (padded 2) is smaller than the dilated kernel 3 on spatial axis 0");
    expect(infer([1, 1, 5, 5], [2, 1, 3, 3], {}, [3])).toThrow("bias B has 3 values, W has 2 output channels");
    expect(() => conv(Tensor.zeros([1, 1, 4], 16), Tensor.zeros([1, 1, 2], 16), undefined, { auto_pad: "SAME" }))
      .toThrow("Conv attribute 'auto_pad' must be one of NOTSET|SAME_UPPER|SAME_LOWER|VALID, got \"SAME\"");
  });
});
