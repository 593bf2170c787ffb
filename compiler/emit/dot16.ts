/**
 * The FAST build's 16-bit dot-product kernels for 8-bit narrow weights (docs/numerics.md, "Fast
 * build: 16-bit dot products"): MatMul and Gemm with a constant B, Conv (and an unstepped
 * ConvTranspose) with constant W, all stored as 8-bit q. Each op first copies its activation
 * operand into i16 scratch memory in the layout the kernel reads (MatMul/Gemm: A's rows with the
 * reduction pairs adjacent; Conv: each image channels-last with a zero border, each group's
 * channels padded to an even count, so no tap needs a bounds check), checking that every value
 * lies in [-32768, 32767]. If one does not, the op runs its existing kernel (simd.ts, conv.ts)
 * instead: both compute the same exact integers, so the result never depends on the path.
 * Otherwise one `i32x4.dot_i16x8_s` multiplies a broadcast pair (x_k, x_k+1) with the pairs of q of
 * four output channels: eight exact products per instruction, summed in i32 lanes for at most
 * MAX_I32_DOTS steps (the bound below, from the operand bits), then widened to the i64
 * accumulators of simd.ts, whose channel shifts and narrowing (storeLanes: bias, scale, round half
 * up, saturation, fused activation) finish every output exactly as the other kernels do. A pass
 * computes eight output channels at POSITIONS output positions, sharing each load of eight
 * channels' q pairs. 16-bit weights stay on the existing kernels: two products of 16-bit q and
 * 16-bit x reach 2^31 and overflow an i32 lane, so the dot instruction is not exact for them.
 * Only operands at a frac of at most MAX_DOT_FRAC get the dot path (below). The packing, the
 * scratch memory (past the canonical memory, after the fast-only tables) and the choice of path
 * are in dot16-pack.ts. Groups of fewer than four output channels (depthwise convolutions), where a
 * pass of eight channels would mostly compute padding, keep their kernels, or with column stride
 * 2 have their own (dot16-columns.ts).
 */
import { liftTo2d } from "../../lib/ops/window.js";
import type { Expr, Local } from "../binaryen.js";
import type { Correlation } from "./conv.js";
import { packThenChoose, type RangeCheckedCopy } from "./dot16-pack.js";
import { nest } from "./loops.js";
import type { BiasTerms, MacSpec, NarrowWeights } from "./mac.js";
import { Accumulators, channelBlocks, LANES, laneMultipliers, type LaneOutput, placePacked, storeLanes } from "./simd.js";
import type { EmitContext } from "./types.js";

/** |q| <= 2^7 for 8-bit q in [-128, 127]; |x| <= 2^15 for packed activations in [-32768, 32767]. */
const WEIGHT_BITS = 7;
const ACTIVATION_BITS = 15;
/** One dot lane, x_k q_k + x_k+1 q_k+1, is at most 2 * 2^7 * 2^15 = 2^23 in magnitude. */
const DOT_BITS = 1 + WEIGHT_BITS + ACTIVATION_BITS;
/**
 * Dot results one i32 lane may sum before it is widened to i64: n * 2^23 <= 2^31 - 1 holds for
 * n <= 255 (256 * 2^23 = 2^31 overflows when every product is (-128) * (-32768)).
 */
export const MAX_I32_DOTS = Math.floor((2 ** 31 - 1) / 2 ** DOT_BITS);

/**
 * The largest frac of the activation operand for which the dot path is emitted: at frac f a
 * 16-bit value holds +-2^(15 - f). Calibrated 16-bit formats (convert --activation-bits 16) give
 * fracs up to 15 to tensors whose range fits (at 15, twice the observed max is under 1; ViT-B/16
 * has MatMul inputs at 13 to 15). At the default Q16 and above, only values below 0.5 fit, so the
 * range check would send nearly every run to the fallback while the module carried a second
 * repacked copy of the weights (the dot path's), for nothing.
 */
export const MAX_DOT_FRAC = 15;

/** Output positions per pass: four sets of two i32x4 sums, with two weight vectors and the broadcast pair, fit 16 registers. */
const POSITIONS = 4;
/** Bytes of one reduction step of one block: eight channels' (q_k, q_k+1), one byte each (sign-extended to i16 as loaded). */
const STEP_BYTES = LANES * 2;

/** An outer loop of the kernel (batch, image, group): count and byte steps. */
interface Outer {
  count: number;
  x: number;
  out: number;
  bias: number;
  /** Steps of the packed weights and their lane multipliers (groups only). */
  w: number;
  mul: number;
}

/** The kernel's loops over one packed operand; every step is in bytes. */
interface DotLoops {
  outer: Outer[];
  /** Output channels per group (the lanes). */
  channels: number;
  rows: number;
  xRow: number;
  outRow: number;
  positions: number;
  xPosition: number;
  outPosition: number;
  biasPosition: number;
  outChannel: number;
  biasLaneElements: number;
  kh: number;
  kw: number;
  xTapRow: number;
  xTapCol: number;
  /** Reduction pairs per tap. */
  pairs: number;
  spec: LaneOutput["spec"];
  outAddress: number;
  bias?: BiasTerms;
  narrow: NarrowWeights;
}

/** An 8-bit narrow weight operand: the dot kernels apply. */
export const isByteNarrow = (n: NarrowWeights | undefined): n is NarrowWeights => n?.bytes === 1;

/**
 * The q pairs of eight channels per step, a byte each: entry (((g * blocks + b) * taps + t) * pairs +
 * p) * 16 + v * 8 + j * 2 + h is q(g, t, 2p + h, channel b * 8 + v * 4 + j), 0 past the depth or
 * the channels. The kernel loads each half (four channels' pairs) sign-extended to eight i16 lanes.
 */
function packPairs(groups: number, channels: number, taps: number, depth: number,
  q: (g: number, t: number, k: number, m: number) => number): Int8Array {
  const blocks = Math.ceil(channels / LANES);
  const pairs = Math.ceil(depth / 2);
  const packed = new Int8Array(groups * blocks * taps * pairs * LANES * 2);
  let at = 0;
  for (let g = 0; g < groups; g++) {
    for (let b = 0; b < blocks; b++) {
      for (let t = 0; t < taps; t++) {
        for (let p = 0; p < pairs; p++, at += 16) {
          for (let v = 0; v < 2; v++) {
            for (let j = 0; j < 4; j++) {
              const m = b * LANES + v * 4 + j;
              if (m >= channels) continue;
              for (let h = 0; h < 2; h++) if (2 * p + h < depth) packed[at + v * 8 + j * 2 + h] = q(g, t, 2 * p + h, m);
            }
          }
        }
      }
    }
  }
  return packed;
}

/** The dot kernel over the packed operand at `base`, with the packed weights at `weights`. */
function dotKernel(ctx: EmitContext, k: DotLoops, base: Local, weights: number, multipliers: number | undefined): Expr[] {
  const { f } = ctx;
  const biasWidth = k.bias?.width ?? 0;
  const [pX, pOut, pBias, pW, pMul] = Array.from({ length: 5 }, () => f.local("i32"));
  const [pWB, pMulB, pOutB, pBiasB, pXR, pOutR, pXP, pOutP, pBiasP, wp, xp] = Array.from({ length: 11 }, () => f.local("i32"));
  const wide = Array.from({ length: POSITIONS }, () => new Accumulators(f, k.narrow));
  const sums = Array.from({ length: POSITIONS }, () => [f.local("v128"), f.local("v128")]);
  const [w0, w1, xs] = [f.local("v128"), f.local("v128"), f.local("v128")];
  const blockBytes = k.kh * k.kw * k.pairs * STEP_BYTES;

  /** One pass: `count` positions from pXP, `lanes` channels of the block at pWB. */
  const pass = (count: number, lanes: number): Expr[] => {
    const step = (): Expr[] => [
      f.set(w0, f.v128Load8x8S(f.get(wp), weights)),
      f.set(w1, f.v128Load8x8S(f.get(wp), weights + 8)),
      ...sums.slice(0, count).flatMap(([s0, s1], p) => [
        f.set(xs, f.v128Load32Splat(f.get(xp), p * k.xPosition)),
        f.set(s0, f.i32x4Add(f.get(s0), f.i32x4DotI16x8S(f.get(xs), f.get(w0)))),
        f.set(s1, f.i32x4Add(f.get(s1), f.i32x4DotI16x8S(f.get(xs), f.get(w1)))),
      ]),
    ];
    const pairLoop = (n: number) => f.loop(n, step, [[wp, STEP_BYTES], [xp, 4]]);
    const clear = () => sums.slice(0, count).flat().map((s) => f.set(s, f.v128Zero()));
    // The i32 sums into the i64 accumulators: lanes 0-3 of sums[p][v] are channels 4v..4v+3.
    const widen = () => sums.slice(0, count).flatMap((pair, p) => pair.flatMap((s, v) => [
      f.set(wide[p].acc[2 * v], f.i64x2Add(f.get(wide[p].acc[2 * v]), f.i64x2ExtendLowI32x4S(f.get(s)))),
      f.set(wide[p].acc[2 * v + 1], f.i64x2Add(f.get(wide[p].acc[2 * v + 1]), f.i64x2ExtendHighI32x4S(f.get(s)))),
    ]));
    const chunk = (n: number) => [...clear(), pairLoop(n), ...widen()];
    const tapCol = (body: Expr[]) => f.loop(k.kw, () => body, [[xp, k.xTapCol - k.pairs * 4]]);
    const tapRow = (body: Expr[]) => f.loop(k.kh, () => body, [[xp, k.xTapRow - k.kw * k.xTapCol]]);
    // Widen as rarely as MAX_I32_DOTS allows: once, per kernel row, per tap, or per MAX_I32_DOTS pairs.
    let reduction: Expr[];
    if (k.kh * k.kw * k.pairs <= MAX_I32_DOTS) reduction = [...clear(), tapRow([tapCol([pairLoop(k.pairs)])]), ...widen()];
    else if (k.kw * k.pairs <= MAX_I32_DOTS) reduction = [tapRow([...clear(), tapCol([pairLoop(k.pairs)]), ...widen()])];
    else if (k.pairs <= MAX_I32_DOTS) reduction = [tapRow([tapCol(chunk(k.pairs))])];
    else {
      const rest = k.pairs % MAX_I32_DOTS;
      reduction = [tapRow([tapCol([f.loop(Math.floor(k.pairs / MAX_I32_DOTS), () => chunk(MAX_I32_DOTS)), ...(rest > 0 ? chunk(rest) : [])])])];
    }
    return [
      ...wide.slice(0, count).flatMap((a) => a.clear()),
      f.set(wp, f.get(pWB)),
      f.set(xp, f.get(pXP)),
      ...reduction,
      ...wide.slice(0, count).flatMap((a) => a.shiftChannels(lanes, (j) => f.v128Load(f.get(pMulB), multipliers! + 16 * j))),
      ...wide.slice(0, count).flatMap((a, p) => storeLanes(f, a, lanes, {
        spec: k.spec, outAddress: k.outAddress + p * k.outPosition, outLaneBytes: k.outChannel,
        bias: k.bias && { ...k.bias, address: k.bias.address + p * k.biasPosition }, biasLaneElements: k.biasLaneElements,
      }, pOutP, pBiasP)),
    ];
  };

  // Passes of POSITIONS positions; a last partial pass is a whole pass moved back onto positions
  // already done, which it writes again with the same values (the outputs depend on the packed
  // operand only): one pass body per block width instead of two, less code for Binaryen.
  const full = Math.floor(k.positions / POSITIONS);
  const tail = k.positions % POSITIONS;
  const back = POSITIONS - tail;
  const row = (lanes: number): Expr[] => [
    f.set(pXP, f.get(pXR)),
    f.set(pOutP, f.get(pOutR)),
    f.set(pBiasP, f.get(pBiasB)),
    ...(full === 0 ? pass(tail, lanes) : [
      f.loop(full + Math.sign(tail), (i) => [
        ...(tail > 0 ? [f.if(f.i32Eq(f.get(i), f.i32Const(full)),
          [f.bump(pXP, -back * k.xPosition), f.bump(pOutP, -back * k.outPosition), f.bump(pBiasP, -back * k.biasPosition)])] : []),
        ...pass(POSITIONS, lanes),
      ], [[pXP, POSITIONS * k.xPosition], [pOutP, POSITIONS * k.outPosition], [pBiasP, POSITIONS * k.biasPosition]]),
    ]),
  ];
  return [
    f.set(pX, f.get(base)),
    ...[pOut, pBias, pW, pMul].map((p) => f.set(p, f.i32Const(0))),
    nest(f, k.outer.map((o) => o.count), [
      { ptr: pX, strides: k.outer.map((o) => o.x) },
      { ptr: pOut, strides: k.outer.map((o) => o.out) },
      { ptr: pBias, strides: k.outer.map((o) => o.bias) },
      { ptr: pW, strides: k.outer.map((o) => o.w) },
      { ptr: pMul, strides: k.outer.map((o) => o.mul) },
    ], () => [
      f.set(pWB, f.get(pW)),
      f.set(pMulB, f.get(pMul)),
      f.set(pOutB, f.get(pOut)),
      f.set(pBiasB, f.get(pBias)),
      ...channelBlocks(f, k.channels, [[pWB, blockBytes], [pMulB, LANES * 8], [pOutB, LANES * k.outChannel],
        [pBiasB, LANES * k.biasLaneElements * biasWidth]], (lanes) => [
        f.set(pXR, f.get(pX)),
        f.set(pOutR, f.get(pOutB)),
        f.loop(k.rows, () => row(lanes), [[pXR, k.xRow], [pOutR, k.outRow]]),
      ]),
    ]),
  ];
}

/** Lane multipliers of narrow weights whose shifts differ (simd.ts), else undefined. */
function multipliersFor(ctx: EmitContext, groups: number, channels: number, narrow: NarrowWeights): number | undefined {
  return narrow.table !== undefined ? ctx.table(laneMultipliers(groups, channels, narrow)) : undefined;
}

/**
 * MatMul/Gemm (mac.ts's MacSpec, B constant and shared by every block) on the dot path when B
 * holds 8-bit q and A's frac is at most MAX_DOT_FRAC; undefined otherwise. `fallback` emits the existing kernel.
 */
export function emitDotMac(ctx: EmitContext, spec: MacSpec, bValues: Int32Array, fallback: () => Expr[]): Expr[] | undefined {
  const narrow = spec.narrow;
  if (!ctx.fast || !isByteNarrow(narrow) || ctx.inputs[0]!.frac > MAX_DOT_FRAC || spec.depth < 2 || spec.blocks.some((k) => k.b !== 0)) return undefined;
  const { f } = ctx;
  const { a, b, out, bias } = spec;
  const pairs = Math.ceil(spec.depth / 2);
  const rowBytes = pairs * 4;
  const blockCounts = spec.blocks.map((k) => k.count);
  const blocks = blockCounts.reduce((x, y) => x * y, 1);
  const matrixBytes = spec.rows * rowBytes;
  const packed = placePacked(ctx, packPairs(1, spec.cols, 1, spec.depth, (_, __, k, m) => bValues[k * b.rowStep + m * b.colStep] >> narrow.shifts[m]));
  const multipliers = multipliersFor(ctx, 1, spec.cols, narrow);
  const biasWidth = bias?.width ?? 0;
  // Packed block i (row-major over the block axes) at i * matrixBytes.
  const packedSteps = blockCounts.map((_, i) => blockCounts.slice(i + 1).reduce((x, y) => x * y, 1) * matrixBytes);
  const pack = (base: Local, copy: RangeCheckedCopy): Expr[] => {
    const [src, dst] = [f.local("i32"), f.local("i32")];
    return [
      f.set(src, f.i32Const(0)),
      f.set(dst, f.get(base)),
      nest(f, [...blockCounts, spec.rows], [
        { ptr: src, strides: [...spec.blocks.map((k) => k.a * 4), a.rowStep * 4] },
        { ptr: dst, strides: [...packedSteps, rowBytes] },
      ], () => copy.row(src, a.address, a.colStep * 4, dst, 2, spec.depth)),
    ];
  };
  const loops: DotLoops = {
    outer: spec.blocks.map((k, i) => ({ count: k.count, x: packedSteps[i], out: k.out * 4, bias: k.bias * biasWidth, w: 0, mul: 0 })),
    channels: spec.cols,
    rows: 1, xRow: 0, outRow: 0,
    positions: spec.rows, xPosition: rowBytes, outPosition: out.rowStep * 4, biasPosition: (bias?.rowStep ?? 0) * biasWidth,
    outChannel: out.colStep * 4, biasLaneElements: bias?.colStep ?? 0,
    kh: 1, kw: 1, xTapRow: 0, xTapCol: 0, pairs,
    spec, outAddress: out.address, bias, narrow,
  };
  return packThenChoose(f, blocks * matrixBytes, spec.depth % 2 === 1, pack, (base) => dotKernel(ctx, loops, base, packed, multipliers), fallback);
}

/**
 * A Conv/ConvTranspose correlation (conv.ts) on the dot path when W holds 8-bit q, X's frac is at
 * most MAX_DOT_FRAC, the input is not stepped, no window starts inside the input and a group has
 * at least four output channels; undefined otherwise. `fallback` emits the existing kernel.
 */
export function emitDotCorrelation(ctx: EmitContext, c: Correlation, fallback: () => Expr[]): Expr[] | undefined {
  const narrow = c.narrow;
  const values = c.w.values;
  const outPerGroup = c.outChannels / c.group;
  const [rowWindow, colWindow] = liftTo2d(c.windows);
  if (!ctx.fast || !values || !isByteNarrow(narrow) || c.x.frac > MAX_DOT_FRAC || outPerGroup < LANES / 2) return undefined;
  if ([rowWindow, colWindow].some((w) => w.inputStep !== 1 || w.padBegin < 0)) return undefined;
  const { f } = ctx;
  const [batch, channels] = c.x.shape;
  const perGroup = channels / c.group;
  const pairs = Math.ceil(perGroup / 2);
  const [kh, kw] = [rowWindow.kernel, colWindow.kernel];
  // Channels-last, each group's channels padded to 2 * pairs, rows and columns with the window's padding.
  const pixelBytes = c.group * pairs * 4;
  const paddedCols = colWindow.padBegin + colWindow.inSize + Math.max(0, colWindow.padEnd);
  const paddedRows = rowWindow.padBegin + rowWindow.inSize + Math.max(0, rowWindow.padEnd);
  const imageBytes = paddedRows * paddedCols * pixelBytes;
  const zeroFirst = perGroup % 2 === 1 || [rowWindow, colWindow].some((w) => w.padBegin > 0 || w.padEnd > 0);
  const w = c.weights;
  const packed = placePacked(ctx, packPairs(c.group, outPerGroup, kh * kw, perGroup, (g, t, ch, m) =>
    values[w.base + g * w.group + m * w.outChannel + ch * w.channel + Math.floor(t / kw) * w.row + (t % kw) * w.col] >> narrow.shifts[g * outPerGroup + m]));
  const multipliers = multipliersFor(ctx, c.group, outPerGroup, narrow);
  const [inRows, inCols] = [rowWindow.inSize, colWindow.inSize];
  const inPlane = inRows * inCols;
  const pack = (base: Local, copy: RangeCheckedCopy): Expr[] => {
    const [src, dst] = [f.local("i32"), f.local("i32")];
    return [
      f.set(src, f.i32Const(0)),
      f.set(dst, f.i32Add(f.get(base), f.i32Const((rowWindow.padBegin * paddedCols + colWindow.padBegin) * pixelBytes))),
      nest(f, [batch, c.group, perGroup, inRows], [
        { ptr: src, strides: [channels * inPlane * 4, perGroup * inPlane * 4, inPlane * 4, inCols * 4] },
        { ptr: dst, strides: [imageBytes, pairs * 4, 2, paddedCols * pixelBytes] },
      ], () => copy.row(src, c.x.address, 4, dst, pixelBytes, inCols)),
    ];
  };
  const outPlane = rowWindow.outSize * colWindow.outSize * 4;
  const biasWidth = c.bias?.width ?? 0;
  const blocks = Math.ceil(outPerGroup / LANES);
  const loops: DotLoops = {
    outer: [
      { count: batch, x: imageBytes, out: c.outChannels * outPlane, bias: 0, w: 0, mul: 0 },
      { count: c.group, x: pairs * 4, out: outPerGroup * outPlane, bias: outPerGroup * biasWidth, w: blocks * kh * kw * pairs * STEP_BYTES, mul: blocks * LANES * 8 },
    ],
    channels: outPerGroup,
    rows: rowWindow.outSize, xRow: rowWindow.stride * paddedCols * pixelBytes, outRow: colWindow.outSize * 4,
    positions: colWindow.outSize, xPosition: colWindow.stride * pixelBytes, outPosition: 4, biasPosition: 0,
    outChannel: outPlane, biasLaneElements: 1,
    kh, kw, xTapRow: rowWindow.dilation * paddedCols * pixelBytes, xTapCol: colWindow.dilation * pixelBytes, pairs,
    spec: { scale: 1, accFrac: c.accFrac, outFrac: c.out.frac, activation: c.activation },
    outAddress: c.out.address, bias: c.bias, narrow,
  };
  return packThenChoose(f, batch * imageBytes, zeroFirst, pack, (base) => dotKernel(ctx, loops, base, packed, multipliers), fallback);
}
