/**
 * The FAST build's Conv/ConvTranspose kernel for groups with few output channels (depthwise
 * convolutions, stems): eight consecutive output COLUMNS of one output channel per pass instead
 * of eight channels of one position (conv.ts), so no SIMD lane is wasted on missing channels. It
 * needs unit column steps (column stride 1, undilated input columns) so that the eight inputs of
 * one kernel tap are contiguous: one v128 load per four positions, the compile-time weight
 * broadcast, `i64x2.extmul` into exact i64 products, wrapping i64 adds, then the scalar
 * narrowing of mac.ts per output: the same arithmetic as the canonical build. The column blocks
 * are unrolled at compile time; a tap that is padding for some lanes of a block is masked to
 * zero with a constant (the reference skips padding, adding nothing, and so does a zero product),
 * a tap that is padding for every lane is left out, and rows use the per-row tap table (window.ts)
 * as in conv.ts. Masked lanes may read a few bytes around the input tensor: the kernel is used
 * only when those bytes are inside memory (the input starts far enough from 0; a fast-only table
 * at least that long follows every tensor). Narrow weights (mac.ts) are repacked as their q at
 * their width and broadcast sign-extended; each channel's exact sums are shifted left by its
 * shift before the narrowing (simd.ts), as the canonical build shifts them.
 */
import { axisTaps, liftTo2d } from "../../lib/ops/window.js";
import type { Expr } from "../binaryen.js";
import type { Correlation } from "./conv.js";
import { nest } from "./loops.js";
import { weightBytes } from "./mac.js";
import { Accumulators, LANES, placePacked, storeLanes } from "./simd.js";
import type { EmitContext } from "./types.js";
import { axisTapTable, columnOffsets, TAP_ENTRY_BYTES } from "./window.js";

/** Output channels accumulated per pass over a row block (two sets of four accumulators). */
const CHANNELS_PER_PASS = 2;

/** The statements of the position-vectorized correlation, or undefined where it does not apply. */
export function emitPositionCorrelation(ctx: EmitContext, c: Correlation): Expr[] | undefined {
  const values = c.w.values;
  const [batch, channels] = c.x.shape;
  const perGroup = channels / c.group;
  const outPerGroup = c.outChannels / c.group;
  const [rowWindow, colWindow] = liftTo2d(c.windows);
  if (!ctx.fast || !values || colWindow.outSize < LANES / 2) return undefined;
  // Lanes computed per useful output: eight-column blocks must waste fewer than eight-channel
  // blocks (conv.ts), which are as fast or faster on a tie (measured on the fixtures).
  const laneWaste = (n: number) => Math.ceil(n / LANES) * LANES / n;
  if (laneWaste(colWindow.outSize) >= laneWaste(outPerGroup)) return undefined;
  const [kh, kw] = [rowWindow.kernel, colWindow.kernel];
  const taps = axisTaps(colWindow);
  const offsets = columnOffsets(taps, colWindow.outSize, kw, 1);
  if (!offsets) return undefined;
  const used = offsets.filter((d): d is number => d !== undefined);
  const blocks = Math.ceil(colWindow.outSize / LANES);
  // Bytes the masked lanes may read before and after the input tensor.
  const before = Math.max(0, -Math.min(0, ...used)) * 4;
  const after = Math.max(0, blocks * LANES - 1 + Math.max(0, ...used) - (colWindow.inSize - 1)) * 4;
  if (c.x.address < before) return undefined;

  const { f } = ctx;
  const narrow = c.narrow;
  const width = weightBytes(narrow);
  const inRow = colWindow.inSize * 4;
  const inPlane = rowWindow.inSize * inRow;
  const outRow = colWindow.outSize * 4;
  const outPlane = rowWindow.outSize * outRow;
  const tapBytes = kh * kw * width;
  const outChannelBytes = perGroup * tapBytes;
  // Weight (g, m, c, ky, kx) (q when narrow) at ((g * outPerGroup + m) * perGroup + c) * kh * kw + ky * kw + kx,
  // zero-padded so that this fast-only table covers the bytes read after the input.
  const w = c.weights;
  const count = c.group * outPerGroup * perGroup * kh * kw;
  const length = Math.max(count, Math.ceil(after / width));
  const packed = width === 1 ? new Int8Array(length) : width === 2 ? new Int16Array(length) : new Int32Array(length);
  for (let k = 0; k < count; k++) {
    const kx = k % kw, ky = Math.floor(k / kw) % kh, ch = Math.floor(k / (kh * kw)) % perGroup;
    const m = Math.floor(k / (kh * kw * perGroup)) % outPerGroup, g = Math.floor(k / (kh * kw * perGroup * outPerGroup));
    const value = values[w.base + g * w.group + m * w.outChannel + ch * w.channel + ky * w.row + kx * w.col];
    packed[k] = narrow ? value >> narrow.shifts[g * outPerGroup + m] : value;
  }
  const weights = placePacked(ctx, packed);
  const rows = axisTapTable(rowWindow, kw * width, inRow);
  const rowTable = ctx.table(rows.entries);
  const biasWidth = c.bias?.width ?? 0;
  const spec = { scale: 1, accFrac: c.accFrac, outFrac: c.out.frac, activation: c.activation };

  const [pX, pW, pBias, pOut, pWBlock, pBiasBlock, pOutBlock, pRow, pPos] = Array.from({ length: 9 }, () => f.local("i32"));
  const [rowW, rowCount, rowX, w0, x0, wy, xy, ty] = Array.from({ length: 8 }, () => f.local("i32"));
  const accs = Array.from({ length: CHANNELS_PER_PASS }, () => new Accumulators(f));
  const inputs = [f.local("v128"), f.local("v128")];
  const weight = f.local("v128");
  // Narrow weights with differing shifts: a pointer to the pass's first channel in mac.ts's i64 shift table.
  const [pShift, pShiftBlock] = [f.local("i32"), f.local("i32")];
  const shiftTable = narrow?.table;

  /** The weight at wy + offset broadcast to four i32 lanes (q broadcast, then sign-extended lane by lane). */
  const splatWeight = (offset: number): Expr => width === 4 ? f.v128Load32Splat(f.get(wy), offset)
    : f.i32x4ExtendLowI16x8S(width === 2 ? f.v128Load16Splat(f.get(wy), offset) : f.i16x8ExtendLowI8x16S(f.v128Load8Splat(f.get(wy), offset)));

  /** Channel m of the pass: its sums shifted left by its narrow weights' shift (nothing for i32 weights). */
  const shiftSums = (a: Accumulators, m: number): Expr[] => {
    if (!narrow || narrow.shift === 0) return [];
    return a.shiftAll(() => shiftTable === undefined ? f.i32Const(narrow.shift!) : f.i32WrapI64(f.i64Load(f.get(pShiftBlock), shiftTable + m * 8)));
  };

  /** The taps of kernel column kx for the block at output column c0: its input vectors, masked. */
  const loadInputs = (c0: number, kx: number, vectors: number): Expr[] | undefined => {
    const lanesValid = Array.from({ length: vectors * 4 }, (_, j) => c0 + j < colWindow.outSize && taps[(c0 + j) * kw + kx] >= 0);
    if (!lanesValid.some(Boolean)) return undefined;
    return Array.from({ length: vectors }, (_, v) => {
      const mask = lanesValid.slice(4 * v, 4 * v + 4);
      const load = f.v128Load(f.get(xy), c.x.address + (c0 + 4 * v + offsets[kx]!) * 4);
      return f.set(inputs[v], mask.every(Boolean) ? load : f.v128And(load, f.v128ConstI32(mask.map((ok) => (ok ? -1 : 0)))));
    });
  };

  /** One block of `lanes` output columns from c0, for `channelCount` channels from pWBlock. */
  const block = (c0: number, lanes: number, channelCount: number): Expr[] => {
    const vectors = lanes > 4 ? 2 : 1;
    const kernelRow: Expr[] = [];
    for (let kx = 0; kx < kw; kx++) {
      const loads = loadInputs(c0, kx, vectors);
      if (!loads) continue;
      kernelRow.push(...loads);
      for (let m = 0; m < channelCount; m++) {
        kernelRow.push(f.set(weight, splatWeight(weights + m * outChannelBytes + kx * width)));
        kernelRow.push(...accs[m].multiplyAdd(inputs.slice(0, vectors), weight));
      }
    }
    return [
      ...accs.slice(0, channelCount).flatMap((a) => a.clear()),
      f.set(w0, f.i32Add(f.get(pWBlock), f.get(rowW))),
      f.set(x0, f.i32Add(f.get(pX), f.get(rowX))),
      f.loop(perGroup, () => [
        f.set(wy, f.get(w0)),
        f.set(xy, f.get(x0)),
        f.set(ty, f.i32Const(0)),
        f.loopTo(ty, f.get(rowCount), 1, [...kernelRow, f.bump(wy, rows.weightStep), f.bump(xy, rows.inputStep)]),
      ], [[w0, tapBytes], [x0, inPlane]]),
      ...accs.slice(0, channelCount).flatMap((a, m) => shiftSums(a, m)),
      ...accs.slice(0, channelCount).flatMap((a, m) => storeLanes(f, a, lanes, {
        spec, outAddress: c.out.address + m * outPlane + c0 * 4, outLaneBytes: 4,
        bias: c.bias && { ...c.bias, address: c.bias.address + m * biasWidth }, biasLaneElements: 0,
      }, pPos, pBiasBlock)),
    ];
  };

  /** Every output row of `channelCount` channels from pWBlock / pOutBlock. */
  const plane = (channelCount: number): Expr[] => [
    f.set(pRow, f.i32Const(0)),
    f.set(pPos, f.get(pOutBlock)),
    f.loop(rowWindow.outSize, () => [
      f.set(rowW, f.i32Load(f.get(pRow), rowTable)),
      f.set(rowCount, f.i32Load(f.get(pRow), rowTable + 4)),
      f.set(rowX, f.i32Load(f.get(pRow), rowTable + 8)),
      ...Array.from({ length: blocks }, (_, b) => block(b * LANES, Math.min(LANES, colWindow.outSize - b * LANES), channelCount)).flat(),
    ], [[pRow, TAP_ENTRY_BYTES], [pPos, outRow]]),
  ];

  const full = Math.floor(outPerGroup / CHANNELS_PER_PASS);
  const tail = outPerGroup % CHANNELS_PER_PASS;
  return [
    ...[pX, pW, pBias, pOut, pShift].map((p) => f.set(p, f.i32Const(0))),
    nest(f, [batch, c.group], [
      { ptr: pX, strides: [channels * inPlane, perGroup * inPlane] },
      { ptr: pW, strides: [0, outPerGroup * outChannelBytes] },
      { ptr: pBias, strides: [0, outPerGroup * biasWidth] },
      { ptr: pOut, strides: [c.outChannels * outPlane, outPerGroup * outPlane] },
      { ptr: pShift, strides: [0, outPerGroup * 8] },
    ], () => [
      f.set(pWBlock, f.get(pW)),
      f.set(pBiasBlock, f.get(pBias)),
      f.set(pOutBlock, f.get(pOut)),
      f.set(pShiftBlock, f.get(pShift)),
      f.loop(full, () => plane(CHANNELS_PER_PASS), [[pWBlock, CHANNELS_PER_PASS * outChannelBytes],
        [pBiasBlock, CHANNELS_PER_PASS * biasWidth], [pOutBlock, CHANNELS_PER_PASS * outPlane], [pShiftBlock, CHANNELS_PER_PASS * 8]]),
      ...(tail > 0 ? plane(tail) : []),
    ]),
  ];
}
