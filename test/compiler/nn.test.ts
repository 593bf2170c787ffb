/**
 * Differential tests of the nn-ops emitters (MatMul, Gemm, Conv, ConvTranspose, the pools, and
 * the Relu fused into them): random shapes, attributes and values, from small reals to the i32
 * limits (which exercise saturation and the i64 wrap-around of the exact accumulation), with
 * weights and biases as constants or runtime inputs; the compiled module's outputs must equal
 * the reference executor's byte for byte.
 */
import { describe, it } from "vitest";
import { ATTR_FRAC } from "../../lib/ops/op.js";
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import { rawTensor } from "../ops/arith-random.js";
import type { Rng } from "../helpers/random.js";
import { type CaseBuilder, expectCasesMatch } from "./helpers.js";

const SEEDS = [1, 2, 3];

/** Values: mostly realistic activations/weights, sometimes raw extremes. */
function values(rng: Rng, shape: number[], frac: number) {
  return rng.next() < 0.3 ? rawTensor(rng, shape, frac, 0.1) : rng.tensor(shape, frac, -3, 3);
}

function randomFixed(rng: Rng, range = 3): number {
  return rng.pick([1 << ATTR_FRAC, rng.int(-range << ATTR_FRAC, range << ATTR_FRAC), 3 << (ATTR_FRAC - 2)]);
}

function windowAttrs(rng: Rng, rank: number, kernel: number[], dilate = true): Record<string, number[] | string> {
  const attrs: Record<string, number[] | string> = {
    strides: Array.from({ length: rank }, () => rng.int(1, 3)),
    dilations: Array.from({ length: rank }, () => (dilate ? rng.int(1, 2) : 1)),
  };
  const mode = rng.pick(["NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"]);
  attrs.auto_pad = mode;
  if (mode === "NOTSET") attrs.pads = [...kernel, ...kernel].map((k) => rng.int(0, Math.max(0, k - 1)));
  return attrs;
}

function addMatMul(c: CaseBuilder): void {
  const { rng } = c;
  const [m, k, n] = [rng.int(1, 5), rng.int(1, 6), rng.int(1, 5)];
  const batch = rng.shape(0, 2, 1, 3);
  const aShape = rng.next() < 0.15 ? [k] : [...batch.map((d) => (rng.next() < 0.3 ? 1 : d)), m, k];
  const bShape = rng.next() < 0.15 ? [k] : [...batch.slice(rng.int(0, batch.length)), k, n];
  c.op("MatMul", [c.input(aShape, rng.int(8, 20), values(rng, aShape, 16)), c.operand(values(rng, bShape, rng.int(8, 20)))]);
}

function addGemm(c: CaseBuilder): void {
  const { rng } = c;
  const [m, k, n] = [rng.int(1, 5), rng.int(1, 7), rng.int(1, 5)];
  const [transA, transB] = [rng.int(0, 1), rng.int(0, 1)];
  const a = c.input(transA ? [k, m] : [m, k], 16);
  const b = c.operand(values(rng, transB ? [n, k] : [k, n], rng.int(10, 20)));
  const cShape = rng.pick([[n], [1, n], [m, 1], [m, n], []]);
  const inputs = rng.next() < 0.8 ? [a, b, c.operand(values(rng, cShape, rng.int(10, 24)))] : [a, b];
  c.op("Gemm", inputs, { transA, transB, alpha: randomFixed(rng), beta: randomFixed(rng) });
}

function convCase(c: CaseBuilder, transpose: boolean, fuseRelu: boolean): void {
  const { rng } = c;
  const rank = rng.int(1, 2);
  const group = rng.int(1, 3);
  const [perGroupIn, perGroupOut] = [rng.int(1, 3), rng.pick([1, 2, 3, 4, 8, 11])];
  const kernel = Array.from({ length: rank }, () => rng.int(1, 4));
  const spatial = Array.from({ length: rank }, () => rng.int(3, 8));
  const x = c.input([rng.int(1, 2), group * perGroupIn, ...spatial], rng.int(10, 20), undefined);
  const wShape = transpose ? [group * perGroupIn, perGroupOut, ...kernel] : [group * perGroupOut, perGroupIn, ...kernel];
  const inputs = [x, c.operand(values(rng, wShape, rng.int(12, 20)))];
  if (rng.next() < 0.7) inputs.push(c.operand(values(rng, [group * perGroupOut], rng.int(8, 24))));
  const attrs: Record<string, number | number[] | string> = { group, ...windowAttrs(rng, rank, kernel) };
  if (transpose) {
    const strides = attrs.strides as number[];
    if (rng.next() < 0.5) attrs.output_padding = strides.map((s) => rng.int(0, s - 1));
    if (rng.next() < 0.2 && attrs.auto_pad === "NOTSET") attrs.output_shape = spatial.map((d, i) => d * strides[i]);
  }
  const kind = transpose ? "ConvTranspose" : "Conv";
  if (!fuseRelu) {
    c.op(kind, inputs, attrs);
    return;
  }
  // Conv -> Relu or Clip with the conv output used only by it: the compiler fuses the two.
  let out: string;
  try {
    out = c.g.op(kind, inputs, attrs)[0];
  } catch {
    return;
  }
  if (rng.next() < 0.5) c.op("Relu", [out]);
  else c.op("Clip", [out], { min: rng.pick([I32_MIN, 0, -(1 << ATTR_FRAC)]), max: rng.pick([I32_MAX, 6 << ATTR_FRAC, 1000]) });
}

function addPool(c: CaseBuilder): void {
  const { rng } = c;
  const rank = rng.int(1, 2);
  const kernel = Array.from({ length: rank }, () => rng.int(1, 3));
  const x = c.input([rng.int(1, 2), rng.int(1, 3), ...Array.from({ length: rank }, () => rng.int(2, 7))], rng.int(8, 20));
  const kind = rng.pick(["MaxPool", "AveragePool", "GlobalMaxPool", "GlobalAveragePool"]);
  if (kind.startsWith("Global")) {
    c.op(kind, [x]);
    return;
  }
  const attrs: Record<string, number | number[] | string> = { kernel_shape: kernel, ceil_mode: rng.int(0, 1), ...windowAttrs(rng, rank, kernel) };
  if (kind === "AveragePool") attrs.count_include_pad = rng.int(0, 1);
  c.op(kind, [x], attrs);
}

describe("nn-ops emitters are bit-exact", () => {
  for (const seed of SEEDS) {
    it(`MatMul and Gemm (seed ${seed})`, () => {
      expectCasesMatch(seed, 30, (c) => (c.rng.next() < 0.5 ? addMatMul(c) : addGemm(c)));
    });
    it(`Conv, with fused Relu or Clip (seed ${seed})`, () => {
      expectCasesMatch(seed, 20, (c) => convCase(c, false, c.rng.next() < 0.3));
    });
    it(`ConvTranspose (seed ${seed})`, () => {
      expectCasesMatch(seed, 16, (c) => convCase(c, true, c.rng.next() < 0.2));
    });
    it(`pools (seed ${seed})`, () => {
      expectCasesMatch(seed, 24, addPool);
    });
  }
});

/**
 * Convolutions with few output channels per group (depthwise, stems) and rows wide enough for
 * the FAST build's column-vectorized kernel (conv-positions.ts): full and partial blocks of
 * eight columns, column stride mostly 1, random pads, row strides and dilations.
 */
function fewChannelConvCase(c: CaseBuilder, transpose: boolean): void {
  const { rng } = c;
  const group = rng.int(1, 4);
  const [perGroupIn, perGroupOut] = [rng.pick([1, 1, 2, 3]), rng.int(1, 3)];
  const kernel = [rng.int(1, 3), rng.int(1, 5)];
  const spatial = [rng.int(2, 6), rng.int(4, 21)];
  const x = c.input([rng.int(1, 2), group * perGroupIn, ...spatial], rng.int(10, 20), undefined);
  const wShape = transpose ? [group * perGroupIn, perGroupOut, ...kernel] : [group * perGroupOut, perGroupIn, ...kernel];
  const inputs = [x, c.constant(values(rng, wShape, rng.int(12, 20)))];
  if (rng.next() < 0.7) inputs.push(c.operand(values(rng, [group * perGroupOut], rng.int(8, 24))));
  const attrs = { group, ...windowAttrs(rng, 2, kernel) } as Record<string, number | number[] | string>;
  if (rng.next() < 0.8) attrs.strides = [(attrs.strides as number[])[0], 1];
  c.op(transpose ? "ConvTranspose" : "Conv", inputs, attrs);
}

/** MaxPool over rows wide enough for the FAST build's column-vectorized kernel (pool-simd.ts). */
function wideMaxPoolCase(c: CaseBuilder): void {
  const { rng } = c;
  const kernel = [rng.int(1, 3), rng.int(1, 4)];
  const x = c.input([rng.int(1, 2), rng.int(1, 3), rng.int(2, 6), rng.int(4, 24)], rng.int(8, 20));
  const attrs: Record<string, number | number[] | string> = { kernel_shape: kernel, ceil_mode: rng.int(0, 1), ...windowAttrs(rng, 2, kernel) };
  attrs.strides = [(attrs.strides as number[])[0], rng.int(1, 2)];
  c.op("MaxPool", [x], attrs);
}

describe("the FAST build's nn kernels: bit-exact, same memory as the canonical build at every op boundary", () => {
  for (const seed of SEEDS.slice(0, 2)) {
    it(`MatMul and Gemm (seed ${seed})`, () => {
      expectCasesMatch(seed, 30, (c) => (c.rng.next() < 0.5 ? addMatMul(c) : addGemm(c)), "fast");
    });
    it(`Conv and ConvTranspose (seed ${seed})`, () => {
      expectCasesMatch(seed, 24, (c) => convCase(c, c.rng.next() < 0.3, c.rng.next() < 0.3), "fast");
    });
    it(`few-channel and depthwise Conv and ConvTranspose (seed ${seed})`, () => {
      expectCasesMatch(seed, 24, (c) => fewChannelConvCase(c, c.rng.next() < 0.25), "fast");
    });
    it(`MaxPool over wide rows (seed ${seed})`, () => {
      expectCasesMatch(seed, 24, wideMaxPoolCase, "fast");
    });
  }
});
