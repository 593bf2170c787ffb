/**
 * The FAST build's 16-bit dot kernel for convolutions with column stride 2 whose groups have
 * fewer than four output channels (depthwise ones above all), with 8-bit q, where dot16.ts's
 * eight-channel passes would mostly compute padding and conv-positions.ts's eight-column kernel
 * does not apply (it needs unit column steps): the lanes are four or eight consecutive output
 * COLUMNS of one output channel, and the pairs run along the kernel's columns. The input is
 * packed as i16 planes (NCHW) with the window's padding as a zero border and dot16.ts's range
 * check (a value outside 16 bits runs the existing kernel: same integers). For output column j
 * and kernel columns (2p, 2p + 1) lane j needs (x[2j + 2p], x[2j + 2p + 1]): the i16 pair at
 * 2j + 2p, so one v128 load gives four lanes' pairs. The pair of q, the second 0 past an odd
 * kernel width, is one broadcast i32 from a fast-only table. One dot instruction thus does two
 * taps for four columns; a kernel of at most MAX_I32_DOTS pairs per output is summed in i32
 * lanes (dot16.ts's bound), widened once to i64, shifted by the channel's shift and finished by
 * simd.ts's storeLanes, as every other kernel. Past an odd kernel width the last pair reads one
 * value after the window (in the next row or the buffer's slack) against a zero q. A row whose
 * width is not a multiple of the block ends with a block moved back onto columns already done.
 * With column stride 1 this kernel measured no faster than the eight-column one (mobilenet_v2:
 * both about 5 ms per image, the narrowing of each output dominating), so those keep it.
 */
import { liftTo2d } from "../../lib/ops/window.js";
import type { Expr, Local } from "../binaryen.js";
import type { Correlation } from "./conv.js";
import { isByteNarrow, MAX_DOT_FRAC, MAX_I32_DOTS } from "./dot16.js";
import { packThenChoose, type RangeCheckedCopy } from "./dot16-pack.js";
import { nest } from "./loops.js";
import { Accumulators, LANES, storeLanes } from "./simd.js";
import type { EmitContext } from "./types.js";

/** Bytes after the packed planes that the last loads may reach (one value, rounded up). */
const SLACK_BYTES = 16;
/** The column stride the kernel handles: four output columns' pairs are then one v128 of i16. */
const COLUMN_STRIDE = 2;

/** The statements of the column kernel with `fallback` for values outside 16 bits, or undefined where it does not apply. */
export function emitDotColumns(ctx: EmitContext, c: Correlation, fallback: () => Expr[]): Expr[] | undefined {
  const narrow = c.narrow;
  const values = c.w.values;
  const outPerGroup = c.outChannels / c.group;
  const [rowWindow, colWindow] = liftTo2d(c.windows);
  if (!ctx.fast || !values || !isByteNarrow(narrow) || c.x.frac > MAX_DOT_FRAC || outPerGroup >= LANES / 2) return undefined;
  if ([rowWindow, colWindow].some((w) => w.inputStep !== 1 || w.padBegin < 0)) return undefined;
  if (colWindow.dilation !== 1 || colWindow.stride !== COLUMN_STRIDE || colWindow.outSize < 4) return undefined;
  const [batch, channels] = c.x.shape;
  const perGroup = channels / c.group;
  const [kh, kw] = [rowWindow.kernel, colWindow.kernel];
  const kernelPairs = Math.ceil(kw / 2);
  if (perGroup * kh * kernelPairs > MAX_I32_DOTS) return undefined;
  const { f } = ctx;
  const rowBytes = (colWindow.padBegin + colWindow.inSize + Math.max(0, colWindow.padEnd)) * 2;
  const planeBytes = (rowWindow.padBegin + rowWindow.inSize + Math.max(0, rowWindow.padEnd)) * rowBytes;
  const imageBytes = channels * planeBytes;
  const zeroFirst = [rowWindow, colWindow].some((w) => w.padBegin > 0 || w.padEnd > 0);

  // Entry ((oc * perGroup + ch) * kh + ky) * kernelPairs + p: q of kernel columns 2p and 2p + 1 (0 past kw) as an i16 pair.
  const w = c.weights;
  const pairs = new Int32Array(c.outChannels * perGroup * kh * kernelPairs);
  for (let k = 0; k < pairs.length; k++) {
    const p = k % kernelPairs, ky = Math.floor(k / kernelPairs) % kh, ch = Math.floor(k / (kernelPairs * kh)) % perGroup;
    const oc = Math.floor(k / (kernelPairs * kh * perGroup));
    const [g, m] = [Math.floor(oc / outPerGroup), oc % outPerGroup];
    const q = (kx: number) => kx >= kw ? 0 : values[w.base + g * w.group + m * w.outChannel + ch * w.channel + ky * w.row + kx * w.col] >> narrow.shifts[oc];
    pairs[k] = (q(2 * p) & 0xffff) | (q(2 * p + 1) << 16);
  }
  const weights = ctx.table(pairs);

  const [inRows, inCols] = [rowWindow.inSize, colWindow.inSize];
  const pack = (base: Local, copy: RangeCheckedCopy): Expr[] => {
    const [src, dst] = [f.local("i32"), f.local("i32")];
    return [
      f.set(src, f.i32Const(0)),
      f.set(dst, f.i32Add(f.get(base), f.i32Const(rowWindow.padBegin * rowBytes + colWindow.padBegin * 2))),
      nest(f, [batch, channels, inRows], [
        { ptr: src, strides: [channels * inRows * inCols * 4, inRows * inCols * 4, inCols * 4] },
        { ptr: dst, strides: [imageBytes, planeBytes, rowBytes] },
      ], () => copy.row(src, c.x.address, 4, dst, 2, inCols)),
    ];
  };

  const vectors = colWindow.outSize >= LANES ? 2 : 1;
  const lanes = 4 * vectors;
  const outRow = colWindow.outSize * 4;
  const outPlane = rowWindow.outSize * outRow;
  const biasWidth = c.bias?.width ?? 0;
  const channelPairs = kh * kernelPairs * 4;
  const [pX, pOut, pW, pBias, pShift, pXM, pOutM, pWM, pBiasM, pShiftM, pXRow, pOutRow, pXCol, pOutCol, xp, wp] =
    Array.from({ length: 16 }, () => f.local("i32"));
  const sums = [f.local("v128"), f.local("v128")];
  const ws = f.local("v128");
  const wide = new Accumulators(f);
  const spec = { scale: 1, accFrac: c.accFrac, outFrac: c.out.frac, activation: c.activation };
  const shiftTable = narrow.table;

  /** One block of `lanes` columns from pXCol / pOutCol. */
  const block = (): Expr[] => {
    // Every tap of one input channel, unrolled at immediate offsets (kernels are small).
    const taps: Expr[] = [];
    for (let t = 0; t < kh * kernelPairs; t++) {
      const [ky, p] = [Math.floor(t / kernelPairs), t % kernelPairs];
      taps.push(f.set(ws, f.v128Load32Splat(f.get(wp), weights + 4 * t)));
      for (let v = 0; v < vectors; v++) {
        const first = ky * rowWindow.dilation * rowBytes + (4 * v * COLUMN_STRIDE + 2 * p) * 2;
        taps.push(f.set(sums[v], f.i32x4Add(f.get(sums[v]), f.i32x4DotI16x8S(f.v128Load(f.get(xp), first), f.get(ws)))));
      }
    }
    const shift = narrow.shift === 0 ? [] : wide.shiftAll(() => narrow.shift !== undefined ? f.i32Const(narrow.shift)
      : f.i32WrapI64(f.i64Load(f.get(pShiftM), shiftTable!)));
    return [
      ...sums.slice(0, vectors).map((s) => f.set(s, f.v128Zero())),
      f.set(xp, f.get(pXCol)),
      f.set(wp, f.get(pWM)),
      f.loop(perGroup, () => taps, [[xp, planeBytes], [wp, channelPairs]]),
      // Each lane sums at most MAX_I32_DOTS dot results (checked above): widened once.
      ...sums.slice(0, vectors).flatMap((s, v) => [
        f.set(wide.acc[2 * v], f.i64x2ExtendLowI32x4S(f.get(s))),
        f.set(wide.acc[2 * v + 1], f.i64x2ExtendHighI32x4S(f.get(s))),
      ]),
      ...shift,
      ...storeLanes(f, wide, lanes, { spec, outAddress: c.out.address, outLaneBytes: 4, bias: c.bias, biasLaneElements: 0 }, pOutCol, pBiasM),
    ];
  };

  const blocks = Math.ceil(colWindow.outSize / lanes);
  const back = blocks * lanes - colWindow.outSize;
  const row = (): Expr[] => [
    f.set(pXCol, f.get(pXRow)),
    f.set(pOutCol, f.get(pOutRow)),
    f.loop(blocks, (i) => [
      ...(back > 0 ? [f.if(f.i32Eq(f.get(i), f.i32Const(blocks - 1)), [f.bump(pXCol, -back * COLUMN_STRIDE * 2), f.bump(pOutCol, -back * 4)])] : []),
      ...block(),
    ], [[pXCol, lanes * COLUMN_STRIDE * 2], [pOutCol, lanes * 4]]),
  ];
  const kernel = (base: Local): Expr[] => [
    f.set(pX, f.get(base)),
    ...[pOut, pW, pBias, pShift].map((p) => f.set(p, f.i32Const(0))),
    nest(f, [batch, c.group], [
      { ptr: pX, strides: [imageBytes, perGroup * planeBytes] },
      { ptr: pOut, strides: [c.outChannels * outPlane, outPerGroup * outPlane] },
      { ptr: pW, strides: [0, outPerGroup * perGroup * channelPairs] },
      { ptr: pBias, strides: [0, outPerGroup * biasWidth] },
      { ptr: pShift, strides: [0, outPerGroup * 8] },
    ], () => [
      ...[[pXM, pX], [pOutM, pOut], [pWM, pW], [pBiasM, pBias], [pShiftM, pShift]].map(([to, from]) => f.set(to, f.get(from))),
      f.loop(outPerGroup, () => [
        f.set(pXRow, f.get(pXM)),
        f.set(pOutRow, f.get(pOutM)),
        f.loop(rowWindow.outSize, row, [[pXRow, rowWindow.stride * rowBytes], [pOutRow, outRow]]),
      ], [[pOutM, outPlane], [pWM, perGroup * channelPairs], [pBiasM, biasWidth], [pShiftM, 8]]),
    ]),
  ];
  return packThenChoose(f, batch * imageBytes + SLACK_BYTES, zeroFirst, pack, kernel, fallback);
}
