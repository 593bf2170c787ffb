/**
 * The FAST build's MaxPool (SIMD; never in the canonical build): four consecutive output columns
 * per i32x4, the row taps from the per-row tap table (window.ts) as in pool.ts, the column taps
 * unrolled at compile time. Column stride 1 loads the four inputs of a tap at once; stride 2
 * loads eight and keeps the even lanes. A tap that is padding for some lanes of a block reads
 * I32_MIN there (the reference skips padding; max with I32_MIN, its start value, changes
 * nothing), one that is padding for every lane is left out, so every output is the reference's
 * exact max. Such lanes may read a few bytes around the input tensor: the kernel is used only
 * when those bytes are inside memory (the input starts far enough from 0; a fast-only table at
 * least that long follows every tensor).
 */
import { type AxisWindow, axisTaps } from "../../lib/ops/window.js";
import { I32_MIN } from "../../lib/tensor/fixed.js";
import type { Expr } from "../binaryen.js";
import { LOW_HALVES } from "./simd.js";
import type { EmitContext, Operand } from "./types.js";
import { axisTapTable, columnOffsets, TAP_ENTRY_BYTES } from "./window.js";

/** Output columns per vector. */
const COLUMNS = 4;

/** The statements of the SIMD MaxPool, or undefined where it does not apply. */
export function emitMaxPoolSimd(ctx: EmitContext, x: Operand, out: Operand, rowWindow: AxisWindow, colWindow: AxisWindow): Expr[] | undefined {
  const stride = colWindow.stride;
  if (!ctx.fast || colWindow.inputStep !== 1 || (stride !== 1 && stride !== 2) || colWindow.outSize < COLUMNS) return undefined;
  const kw = colWindow.kernel;
  const taps = axisTaps(colWindow);
  // Input column of output o, tap kx: o * stride + offsets[kx].
  const offsets = columnOffsets(taps, colWindow.outSize, kw, stride);
  if (!offsets) return undefined;
  const used = offsets.filter((d): d is number => d !== undefined);
  const blocks = Math.ceil(colWindow.outSize / COLUMNS);
  const lastRead = (blocks * COLUMNS - 1) * stride + (stride === 2 ? 1 : 0) + Math.max(0, ...used);
  const before = Math.max(0, -Math.min(0, ...used)) * 4;
  const after = Math.max(0, lastRead - (colWindow.inSize - 1)) * 4;
  if (x.address < before) return undefined;
  if (after > 0) ctx.table(new Int32Array(Math.ceil(after / 4)));

  const { f } = ctx;
  const inRow = colWindow.inSize * 4;
  const inPlane = rowWindow.inSize * inRow;
  const outRow = colWindow.outSize * 4;
  const rows = axisTapTable(rowWindow, 0, inRow);
  const rowTable = ctx.table(rows.entries);
  const [pX, pOut, pRow, rowCount, rowX, xy, ty] = Array.from({ length: 7 }, () => f.local("i32"));
  const [acc, input] = [f.local("v128"), f.local("v128")];
  const min = () => f.v128ConstI32([I32_MIN, I32_MIN, I32_MIN, I32_MIN]);

  const block = (c0: number): Expr[] => {
    const lanes = Math.min(COLUMNS, colWindow.outSize - c0);
    const kernelRow: Expr[] = [];
    for (let kx = 0; kx < kw; kx++) {
      const valid = Array.from({ length: COLUMNS }, (_, j) => j < lanes && taps[(c0 + j) * kw + kx] >= 0);
      if (!valid.some(Boolean)) continue;
      const at = x.address + (c0 * stride + offsets[kx]!) * 4;
      let v = stride === 1 ? f.v128Load(f.get(xy), at)
        : f.i8x16Shuffle(f.v128Load(f.get(xy), at), f.v128Load(f.get(xy), at + 16), LOW_HALVES);
      if (!valid.every(Boolean)) v = f.v128Bitselect(v, min(), f.v128ConstI32(valid.map((ok) => (ok ? -1 : 0))));
      kernelRow.push(f.set(input, v), f.set(acc, f.i32x4MaxS(f.get(acc), f.get(input))));
    }
    const store = lanes === COLUMNS ? [f.v128Store(f.get(pOut), f.get(acc), out.address + c0 * 4)]
      : Array.from({ length: lanes }, (_, j) => f.v128Store32Lane(f.get(pOut), f.get(acc), j, out.address + (c0 + j) * 4));
    return [
      f.set(acc, min()),
      f.set(xy, f.i32Add(f.get(pX), f.get(rowX))),
      f.set(ty, f.i32Const(0)),
      f.loopTo(ty, f.get(rowCount), 1, [...kernelRow, f.bump(xy, rows.inputStep)]),
      ...store,
    ];
  };

  return [
    f.set(pX, f.i32Const(0)),
    f.set(pOut, f.i32Const(0)),
    f.loop(x.shape[0] * x.shape[1], () => [
      f.set(pRow, f.i32Const(0)),
      f.loop(rowWindow.outSize, () => [
        f.set(rowCount, f.i32Load(f.get(pRow), rowTable + 4)),
        f.set(rowX, f.i32Load(f.get(pRow), rowTable + 8)),
        ...Array.from({ length: blocks }, (_, b) => block(b * COLUMNS)).flat(),
      ], [[pRow, TAP_ENTRY_BYTES], [pOut, outRow]]),
    ], [[pX, inPlane]]),
  ];
}
