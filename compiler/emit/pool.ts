/**
 * MaxPool, AveragePool, GlobalMaxPool and GlobalAveragePool as WASM, mirroring lib/ops/pool.ts:
 * for every [N, C] plane and output position, the max (from I32_MIN, exact, input frac kept) or
 * the exact i64 sum of the taps on input values (window tables, see window.ts); an average then
 * divides once with divRound at the output frac, `meanAt`: sum / (count << (from - to)) when the
 * frac shrinks, (sum << (to - from)) / count (the shift wrapping like i64.shl) when it grows.
 * The FAST build's MaxPool is vectorized over output columns (pool-simd.ts).
 */
import type { AveragePoolAttrs, MaxPoolAttrs } from "../../lib/ops/pool.js";
import { I32_MIN } from "../../lib/tensor/fixed.js";
import { sizeOf } from "../../lib/tensor/shape.js";
import { liftTo2d, resolveWindows } from "../../lib/ops/window.js";
import type { Expr, FunctionBuilder, Local } from "../binaryen.js";
import { emitMaxPoolSimd } from "./pool-simd.js";
import { divRound64, divRoundByConst, saturate64 } from "./numerics.js";
import { axisTapTable, TAP_ENTRY_BYTES } from "./window.js";
import type { EmitContext, Operand, OpEmitter } from "./types.js";

type Reduction = "max" | "sum";

/** acc = max(acc, v) on i32, or acc += v on i64. */
function accumulate(f: FunctionBuilder, kind: Reduction, acc: Local, value: Expr): Expr {
  if (kind === "sum") return f.set(acc, f.i64Add(f.get(acc), f.i64ExtendI32S(value)));
  const v = f.local("i32");
  return f.seq([f.set(v, value), f.if(f.i32GtS(f.get(v), f.get(acc)), f.set(acc, f.get(v)))]);
}

/** meanAt(sum, count, from, to) with a runtime count: an i32. */
function meanAt(f: FunctionBuilder, sum: Expr, count: Expr, from: number, to: number): Expr {
  if (to <= from) return saturate64(f, divRound64(f, sum, f.i64Shl(count, f.i64Const(from - to))));
  return saturate64(f, divRound64(f, f.i64Shl(sum, f.i64Const(to - from)), count));
}

/** meanAt for a compile-time count >= 1. */
function meanAtConst(f: FunctionBuilder, sum: Expr, count: number, from: number, to: number): Expr {
  if (to <= from) return saturate64(f, divRoundByConst(f, sum, BigInt(count) << BigInt(from - to)));
  return saturate64(f, divRoundByConst(f, f.i64Shl(sum, f.i64Const(to - from)), count));
}

function emitWindowPool(ctx: EmitContext<AveragePoolAttrs>, kind: Reduction): Expr[] {
  const { f } = ctx;
  const x = ctx.inputs[0] as Operand;
  const out = ctx.outputs[0];
  const windows = resolveWindows(kind === "max" ? "MaxPool" : "AveragePool", x.shape.slice(2), ctx.attrs.kernel_shape, ctx.attrs, ctx.attrs.ceil_mode === 1);
  const [rowWindow, colWindow] = liftTo2d(windows);
  const simd = kind === "max" ? emitMaxPoolSimd(ctx, x, out, rowWindow, colWindow) : undefined;
  if (simd) return simd;
  const includePad = kind === "sum" && ctx.attrs.count_include_pad === 1;
  const rows = axisTapTable(rowWindow, 0, colWindow.inSize * 4, includePad);
  const cols = axisTapTable(colWindow, 0, 4, includePad);
  const rowTable = ctx.table(rows.entries);
  const colTable = ctx.table(cols.entries);
  const inPlane = rowWindow.inSize * colWindow.inSize;
  const [pX, pOut, pRow, pCol, rowCount, rowX, rowDivisor, xy, xx, ty, tx] = Array.from({ length: 11 }, () => f.local("i32"));
  const acc = f.local(kind === "max" ? "i32" : "i64");
  const result = kind === "max" ? f.get(acc)
    : meanAt(f, f.get(acc), f.i64Mul(f.i64ExtendI32S(f.get(rowDivisor)), f.i64ExtendI32S(f.i32Load(f.get(pCol), colTable + 12))), x.frac, out.frac);
  const position = [
    f.set(acc, kind === "max" ? f.i32Const(I32_MIN) : f.i64Const(0)),
    f.set(xy, f.i32Add(f.get(pX), f.i32Add(f.get(rowX), f.i32Load(f.get(pCol), colTable + 8)))),
    f.set(ty, f.i32Const(0)),
    f.loopTo(ty, f.get(rowCount), 1, [
      f.set(xx, f.get(xy)),
      f.set(tx, f.i32Const(0)),
      f.loopTo(tx, f.i32Load(f.get(pCol), colTable + 4), 1, [
        accumulate(f, kind, acc, f.i32Load(f.get(xx), x.address)),
        f.bump(xx, cols.inputStep),
      ]),
      f.bump(xy, rows.inputStep),
    ]),
    f.i32Store(f.get(pOut), result, out.address),
  ];
  return [
    f.set(pX, f.i32Const(0)),
    f.set(pOut, f.i32Const(0)),
    f.loop(x.shape[0] * x.shape[1], () => [
      f.set(pRow, f.i32Const(0)),
      f.loop(rowWindow.outSize, () => [
        f.set(rowCount, f.i32Load(f.get(pRow), rowTable + 4)),
        f.set(rowX, f.i32Load(f.get(pRow), rowTable + 8)),
        f.set(rowDivisor, f.i32Load(f.get(pRow), rowTable + 12)),
        f.set(pCol, f.i32Const(0)),
        f.loop(colWindow.outSize, () => position, [[pCol, TAP_ENTRY_BYTES], [pOut, 4]]),
      ], [[pRow, TAP_ENTRY_BYTES]]),
    ], [[pX, inPlane * 4]]),
  ];
}

function emitGlobalPool(ctx: EmitContext, kind: Reduction): Expr[] {
  const { f } = ctx;
  const x = ctx.inputs[0] as Operand;
  const out = ctx.outputs[0];
  const planeSize = sizeOf(x.shape.slice(2));
  const [pX, pOut] = [f.local("i32"), f.local("i32")];
  const acc = f.local(kind === "max" ? "i32" : "i64");
  // An empty plane averages to divRound(0, 0) = 0.
  const result = () => (kind === "max" ? f.get(acc) : planeSize === 0 ? f.i32Const(0) : meanAtConst(f, f.get(acc), planeSize, x.frac, out.frac));
  return [
    f.set(pX, f.i32Const(0)),
    f.set(pOut, f.i32Const(0)),
    f.loop(x.shape[0] * x.shape[1], () => [
      f.set(acc, kind === "max" ? f.i32Const(I32_MIN) : f.i64Const(0)),
      f.loop(planeSize, () => [accumulate(f, kind, acc, f.i32Load(f.get(pX), x.address))], [[pX, 4]]),
      f.i32Store(f.get(pOut), result(), out.address),
    ], [[pOut, 4]]),
  ];
}

export const MaxPoolEmitter: OpEmitter<MaxPoolAttrs> = {
  emit: (ctx) => emitWindowPool(ctx as EmitContext<AveragePoolAttrs>, "max"),
};
export const AveragePoolEmitter: OpEmitter<AveragePoolAttrs> = { emit: (ctx) => emitWindowPool(ctx, "sum") };
export const GlobalMaxPoolEmitter: OpEmitter = { emit: (ctx) => emitGlobalPool(ctx, "max") };
export const GlobalAveragePoolEmitter: OpEmitter = { emit: (ctx) => emitGlobalPool(ctx, "sum") };
