import { describe, expect, it } from "vitest";
import { ConvTranspose, convTranspose, type ConvTransposeAttrs } from "../../lib/ops/conv-transpose.js";
import type { TensorType } from "../../lib/ops/op.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";
import { evalExact, evalFloat, expectNear, flatIndex, multiIndices, type Terms } from "./nn-reference.js";

interface Case {
  xShape: number[];
  wShape: number[];
  attrs: ConvTransposeAttrs;
}

/** Natural output size of one axis: stride * (in - 1) + output_padding + dilated kernel. */
function naturalSizes({ xShape, wShape, attrs }: Case): number[] {
  return xShape.slice(2).map((inSize, i) =>
    (attrs.strides[i] ?? 1) * (inSize - 1) + (attrs.output_padding[i] ?? 0) + (wShape[i + 2] - 1) * (attrs.dilations[i] ?? 1) + 1);
}

/**
 * The ONNX definition as a scatter: input i of channel c adds x * W[c][m][tap] to output
 * i*stride + tap*dilation - padBegin of every output channel m of c's group.
 */
function convTransposeTerms(c: Case): { shape: number[]; terms: Terms[] } {
  const { xShape, wShape, attrs } = c;
  const rank = xShape.length - 2;
  const kernel = wShape.slice(2);
  const begin: number[] = [];
  const out = naturalSizes(c).map((natural, i) => {
    const split = (total: number) => (attrs.auto_pad === "SAME_UPPER" ? Math.floor(total / 2) : total - Math.floor(total / 2));
    if (attrs.output_shape.length) {
      begin.push(split(natural - attrs.output_shape[i]));
      return attrs.output_shape[i];
    }
    if (attrs.auto_pad.startsWith("SAME")) {
      const total = Math.max(0, natural - xShape[i + 2] * (attrs.strides[i] ?? 1));
      begin.push(split(total));
      return natural - total;
    }
    const [pb, pe] = attrs.auto_pad === "VALID" || !attrs.pads.length ? [0, 0] : [attrs.pads[i], attrs.pads[i + rank]];
    begin.push(pb);
    return natural - pb - pe;
  });
  const channelsPerGroup = xShape[1] / attrs.group;
  const outPerGroup = wShape[1];
  const shape = [xShape[0], outPerGroup * attrs.group, ...out];
  const terms: Terms[] = [...multiIndices(shape)].map(([, m]) => ({ pairs: [], bias: m }));
  for (const [n, ch, ...pos] of multiIndices(xShape)) {
    const g = Math.floor(ch / channelsPerGroup);
    for (let m = 0; m < outPerGroup; m++) {
      for (const tap of multiIndices(kernel)) {
        const o = pos.map((p, i) => p * (attrs.strides[i] ?? 1) + tap[i] * (attrs.dilations[i] ?? 1) - begin[i]);
        if (o.some((v, i) => v < 0 || v >= out[i])) continue;
        terms[flatIndex(shape, [n, g * outPerGroup + m, ...o])].pairs.push([flatIndex(xShape, [n, ch, ...pos]), flatIndex(wShape, [ch, m, ...tap])]);
      }
    }
  }
  return { shape, terms };
}

/** Random 1-D/2-D cases: groups incl. depthwise, strides, dilations, output_padding, pads, auto_pad, output_shape. */
function randomCase(rng: Rng): Case {
  const rank = rng.int(1, 2);
  const kind = rng.pick(["plain", "grouped", "depthwise"]);
  const group = kind === "plain" ? 1 : kind === "grouped" ? 2 : rng.int(2, 3);
  const perGroup = kind === "depthwise" ? 1 : rng.int(1, 3);
  const kernel = Array.from({ length: rank }, () => rng.int(1, 4));
  const strides = kernel.map(() => rng.int(1, 3));
  const attrs: ConvTransposeAttrs = {
    auto_pad: rng.pick(["NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"]),
    group,
    kernel_shape: rng.next() < 0.5 ? kernel : [],
    strides,
    dilations: rng.next() < 0.5 ? [] : kernel.map(() => rng.int(1, 2)),
    output_padding: rng.next() < 0.5 ? [] : strides.map((s) => rng.int(0, s - 1)),
    output_shape: [],
    pads: [],
  };
  const c: Case = { xShape: [rng.int(1, 2), perGroup * group, ...kernel.map(() => rng.int(1, 5))], wShape: [perGroup * group, rng.int(1, 2), ...kernel], attrs };
  const natural = naturalSizes(c);
  if (attrs.auto_pad === "NOTSET" && rng.next() < 0.3) attrs.output_shape = natural.map((n) => Math.max(1, n + rng.int(-2, 1)));
  else if (attrs.auto_pad === "NOTSET") attrs.pads = [...natural, ...natural].map((n) => rng.int(0, Math.floor((n - 1) / 2)));
  return c;
}

const typeOf = (t: Tensor | undefined) => t && { shape: [...t.shape], frac: t.frac };

describe("ConvTranspose", () => {
  // One final rounding (round half up) of an exact sum: within half an ulp of the real result.
  for (let seed = 1; seed <= 25; seed++) {
    it(`matches the real transposed convolution within 1/2 ulp (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const c = randomCase(rng);
      const x = rng.tensor(c.xShape, rng.pick([8, 16]));
      const w = rng.tensor(c.wShape, rng.pick([14, 20]), -1, 1);
      const b = rng.next() < 0.7 ? rng.tensor([c.wShape[1] * c.attrs.group], rng.pick([8, 24]), -2, 2) : undefined;
      const frac = rng.pick([12, 16]);
      const y = convTranspose(x, w, b, c.attrs, frac);
      const ref = convTransposeTerms(c);
      expect(y.shape).toEqual(ref.shape);
      expectNear(y, evalFloat(ref.terms, x, w, b), 0.5);
      expect(ConvTranspose.infer([typeOf(x), typeOf(w), typeOf(b)] as TensorType[], c.attrs, { frac }))
        .toEqual([{ shape: ref.shape, frac }]);
    });
  }

  for (let seed = 1; seed <= 3; seed++) {
    it(`is bit-exact with i64 arithmetic on values too large for float64 (seed ${seed})`, () => {
      const rng = new Rng(700 + seed);
      const c = randomCase(rng);
      const big = (shape: number[], frac: number, bits: number) =>
        new Tensor(shape, Int32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => rng.int(-(2 ** bits), 2 ** bits)), frac);
      const x = big(c.xShape, 20, 29);
      const w = big(c.wShape, 20, 29);
      const b = big([c.wShape[1] * c.attrs.group], 30, 30);
      const y = convTranspose(x, w, b, c.attrs, 8);
      expect([...y.data]).toEqual(evalExact(convTransposeTerms(c).terms, x, w, b, 8));
    });
  }

  it("upsamples a known 1-D case with stride 2", () => {
    const x = Tensor.fromFloat([1, 2, 3], [1, 1, 3], 16);
    const w = Tensor.fromFloat([1, 10, 100], [1, 1, 3], 16);
    // Natural size 7; output_shape 6 takes the odd padding position at the beginning.
    expect([...convTranspose(x, w, undefined, { strides: [2] }).toFloat()]).toEqual([1, 10, 102, 20, 203, 30, 300]);
    expect([...convTranspose(x, w, undefined, { strides: [2], output_shape: [6] }).toFloat()]).toEqual([10, 102, 20, 203, 30, 300]);
    expect([...convTranspose(x, w, undefined, { strides: [2], auto_pad: "SAME_UPPER" }).toFloat()]).toEqual([1, 10, 102, 20, 203, 30]);
  });

  it("rejects bad shapes and attributes with specific messages", () => {
    const t = (shape: number[]) => ({ shape, frac: 16 });
    const attrs: ConvTransposeAttrs = {
      auto_pad: "NOTSET", group: 1, kernel_shape: [], strides: [], dilations: [], pads: [], output_padding: [], output_shape: [],
    };
    const infer = (x: number[], w: number[], a: Partial<ConvTransposeAttrs> = {}) =>
      () => ConvTranspose.infer([t(x), t(w)], { ...attrs, ...a }, { frac: 16 });
    expect(infer([1, 2, 3, 3], [3, 1, 2, 2])).toThrow("W has 3 input channels, X has 2");
    expect(infer([1, 2, 3], [2, 1, 2, 2])).toThrow("weight W has rank 4, ConvTranspose on input rank 3 needs W of that rank [C, M/group, k...]");
    expect(infer([1, 2, 3, 3], [2, 1, 2, 2], { output_shape: [4] })).toThrow("ConvTranspose attribute 'output_shape' has 1 values, expected 2");
    expect(infer([1, 2, 2], [2, 1, 2], { pads: [2, 2] })).toThrow("ConvTranspose output size -1 on spatial axis 0 is empty (pads too large)");
  });
});
