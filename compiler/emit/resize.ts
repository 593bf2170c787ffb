/**
 * Resize in mode linear (bilinear interpolation) as WASM, bit-identical to lib/ops/resize.ts.
 * Everything that depends only on the shapes is computed at compile time by the reference's own
 * per-axis code (`resizeAxisTaps`), so the compiled and the reference geometry cannot
 * drift apart: one 16-byte table entry per output row and per output column holds the byte
 * offsets of the two clamped neighbours and their two integer weights (out of the axis
 * denominator c). At run time each output element loads four inputs, forms the four-term sum
 * exactly in i64 (|sum| <= 2^31 * cy*cx <= 2^63; the reference's JS-number path below 2^21 and
 * its BigInt path above are both exact, so one i64 path matches both) and divides it once by the
 * constant cy*cx with divRound (nearest, ties away from zero). The result is a weighted average
 * of input values, so it is an i32 at the input's frac and needs no saturation. Leading axes
 * (N, C, ...) are contiguous planes walked one after the other.
 */
import { resizeAxisTaps, type LinearTaps, type ResizeAttrs } from "../../lib/ops/resize.js";
import { sizeOf } from "../../lib/tensor/shape.js";
import type { Expr, FunctionBuilder, Local } from "../binaryen.js";
import { divRoundByConst } from "./numerics.js";
import type { EmitContext, Operand } from "./types.js";

/** Bytes of one axis table entry: [first neighbour byte offset, second's, first weight, second weight]. */
const ENTRY_BYTES = 16;

/** The table of one axis: per output index, the neighbours' byte offsets (index * byteStride) and weights. */
function axisTable(taps: LinearTaps, byteStride: number): Int32Array {
  const entries = new Int32Array(taps.lo.length * 4);
  taps.lo.forEach((lo, d) => entries.set([lo * byteStride, taps.hi[d] * byteStride, taps.den - taps.weight[d], taps.weight[d]], d * 4));
  return entries;
}

/** Resize with attrs.mode "linear": the reference's `bilinear` over every H x W plane. */
export function emitResizeLinear(ctx: EmitContext<ResizeAttrs>): Expr[] {
  const { f, attrs } = ctx;
  const x = ctx.inputs[0] as Operand;
  const out = ctx.outputs[0];
  const [inH, inW] = x.shape.slice(-2);
  const [outH, outW] = out.shape.slice(-2);
  const planes = sizeOf(x.shape.slice(0, -2));
  if (planes === 0) return [];
  const ty = resizeAxisTaps(inH, outH, attrs, 0);
  const tx = resizeAxisTaps(inW, outW, attrs, 1);
  const rowTable = ctx.table(axisTable(ty, inW * 4));
  const colTable = ctx.table(axisTable(tx, 4));
  // An axis whose second weights are all zero (unchanged size, or every source coordinate an
  // integer) reads only its first neighbour: the omitted terms are exact zeros in the reference.
  const rowPairs = ty.weight.some((w) => w !== 0);
  const colPairs = tx.weight.some((w) => w !== 0);

  const [pX, pOut, pRow, pCol, row0, row1, col0, col1] = Array.from({ length: 8 }, () => f.local("i32"));
  const [wy0, wy1, wx0, wx1] = Array.from({ length: 4 }, () => f.local("i64"));
  const at = (row: Local, col: Local): Expr => f.i64ExtendI32S(f.i32Load(f.i32Add(f.get(row), f.get(col)), x.address));
  // wx0 * x[row][c0] + wx1 * x[row][c1]: exact in i64.
  const across = (row: Local): Expr => {
    const first = f.i64Mul(f.get(wx0), at(row, col0));
    return colPairs ? f.i64Add(first, f.i64Mul(f.get(wx1), at(row, col1))) : first;
  };
  const sum = (): Expr => {
    const top = f.i64Mul(f.get(wy0), across(row0));
    return rowPairs ? f.i64Add(top, f.i64Mul(f.get(wy1), across(row1))) : top;
  };
  const column = (): Expr[] => [
    f.set(col0, f.i32Load(f.get(pCol), colTable)),
    f.set(wx0, f.i64Load32S(f.get(pCol), colTable + 8)),
    ...(colPairs ? [f.set(col1, f.i32Load(f.get(pCol), colTable + 4)), f.set(wx1, f.i64Load32S(f.get(pCol), colTable + 12))] : []),
    f.i32Store(f.get(pOut), f.i32WrapI64(divRoundByConst(f, sum(), ty.den * tx.den)), out.address),
  ];
  const row = (): Expr[] => [
    f.set(row0, f.i32Add(f.get(pX), f.i32Load(f.get(pRow), rowTable))),
    f.set(wy0, f.i64Load32S(f.get(pRow), rowTable + 8)),
    ...(rowPairs ? [f.set(row1, f.i32Add(f.get(pX), f.i32Load(f.get(pRow), rowTable + 4))), f.set(wy1, f.i64Load32S(f.get(pRow), rowTable + 12))] : []),
    f.set(pCol, f.i32Const(0)),
    f.loop(outW, column, [[pCol, ENTRY_BYTES], [pOut, 4]]),
  ];
  return planeRowLoops(f, [pX, pOut, pRow], planes, outH, inH * inW * 4, ENTRY_BYTES, row);
}

/**
 * The outer loops of both resize emitters: for each plane (`pX` steps over the input planes) and
 * each output row (`pRow` steps over the row table's entries of `entryBytes`), `row` computes the
 * row, walking its columns and advancing `pOut`.
 */
export function planeRowLoops(f: FunctionBuilder, [pX, pOut, pRow]: Local[], planes: number, outH: number, planeBytes: number, entryBytes: number, row: () => Expr[]): Expr[] {
  return [
    f.set(pX, f.i32Const(0)),
    f.set(pOut, f.i32Const(0)),
    f.loop(planes, () => [
      f.set(pRow, f.i32Const(0)),
      f.loop(outH, row, [[pRow, entryBytes]]),
    ], [[pX, planeBytes]]),
  ];
}
