/**
 * ResizeCubic (bicubic interpolation) as WASM, bit-identical to lib/ops/resize-cubic.ts. The
 * geometry is computed at compile time by the reference's own `cubicTaps`: one 32-byte table
 * entry per output row and per output column holds the byte offsets of the four clamped taps and
 * their four Q20 weights. Per output element, each of the four source rows gives h = sum of
 * weight x input over four columns (exact i64, < 2^52), narrowed by CUBIC_WEIGHT_FRAC -
 * CUBIC_GUARD_BITS bits (round half up, as the reference's roundShift); the rows' weighted sum
 * (exact, < 2^61) is narrowed by CUBIC_WEIGHT_FRAC + CUBIC_GUARD_BITS bits and saturated to i32.
 */
import { CUBIC_GUARD_BITS, CUBIC_WEIGHT_FRAC, cubicTaps, type CubicTaps, type ResizeCubicAttrs } from "../../lib/ops/resize-cubic.js";
import { sizeOf } from "../../lib/tensor/shape.js";
import type { Expr, Local } from "../binaryen.js";
import { roundShift64, saturate64 } from "./numerics.js";
import { planeRowLoops } from "./resize.js";
import type { EmitContext, OpEmitter, Operand } from "./types.js";

/** Bytes of one axis table entry: four tap byte offsets, then four weights. */
const ENTRY_BYTES = 32;

/** The table of one axis: per output index, the taps' byte offsets (index * byteStride) and weights. */
function axisTable(taps: CubicTaps, byteStride: number): Int32Array {
  const entries = new Int32Array(taps.index.length * 2);
  for (let d = 0; d < taps.index.length / 4; d++) {
    for (let i = 0; i < 4; i++) {
      entries[d * 8 + i] = taps.index[d * 4 + i] * byteStride;
      entries[d * 8 + 4 + i] = taps.weight[d * 4 + i];
    }
  }
  return entries;
}

function emitResizeCubic(ctx: EmitContext<ResizeCubicAttrs>): Expr[] {
  const { f, attrs } = ctx;
  const x = ctx.inputs[0] as Operand;
  const out = ctx.outputs[0];
  const [inH, inW] = x.shape.slice(-2);
  const [outH, outW] = out.shape.slice(-2);
  const planes = sizeOf(x.shape.slice(0, -2));
  if (planes === 0) return [];
  const rowTable = ctx.table(axisTable(cubicTaps(inH, outH, attrs, 0), inW * 4));
  const colTable = ctx.table(axisTable(cubicTaps(inW, outW, attrs, 1), 4));
  const [pX, pOut, pRow, pCol] = Array.from({ length: 4 }, () => f.local("i32"));
  const rows = Array.from({ length: 4 }, () => f.local("i32"));
  const cols = Array.from({ length: 4 }, () => f.local("i32"));
  const rowWeights = Array.from({ length: 4 }, () => f.local("i64"));
  const colWeights = Array.from({ length: 4 }, () => f.local("i64"));
  const at = (row: Local, col: Local): Expr => f.i64ExtendI32S(f.i32Load(f.i32Add(f.get(row), f.get(col)), x.address));
  // One source row's four-tap sum, narrowed to CUBIC_GUARD_BITS below the input's frac.
  const across = (row: Local): Expr => {
    let sum = f.i64Mul(f.get(colWeights[0]), at(row, cols[0]));
    for (let i = 1; i < 4; i++) sum = f.i64Add(sum, f.i64Mul(f.get(colWeights[i]), at(row, cols[i])));
    return roundShift64(f, sum, CUBIC_WEIGHT_FRAC - CUBIC_GUARD_BITS);
  };
  const column = (): Expr[] => {
    let total = f.i64Mul(f.get(rowWeights[0]), across(rows[0]));
    for (let j = 1; j < 4; j++) total = f.i64Add(total, f.i64Mul(f.get(rowWeights[j]), across(rows[j])));
    return [
      ...cols.map((c, i) => f.set(c, f.i32Load(f.get(pCol), colTable + 4 * i))),
      ...colWeights.map((w, i) => f.set(w, f.i64Load32S(f.get(pCol), colTable + 16 + 4 * i))),
      f.i32Store(f.get(pOut), saturate64(f, roundShift64(f, total, CUBIC_WEIGHT_FRAC + CUBIC_GUARD_BITS)), out.address),
    ];
  };
  const row = (): Expr[] => [
    ...rows.map((r, j) => f.set(r, f.i32Add(f.get(pX), f.i32Load(f.get(pRow), rowTable + 4 * j)))),
    ...rowWeights.map((w, j) => f.set(w, f.i64Load32S(f.get(pRow), rowTable + 16 + 4 * j))),
    f.set(pCol, f.i32Const(0)),
    f.loop(outW, column, [[pCol, ENTRY_BYTES], [pOut, 4]]),
  ];
  return planeRowLoops(f, [pX, pOut, pRow], planes, outH, inH * inW * 4, ENTRY_BYTES, row);
}

export const ResizeCubicEmitter: OpEmitter<ResizeCubicAttrs> = { emit: emitResizeCubic };
