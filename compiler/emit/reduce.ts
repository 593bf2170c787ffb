/**
 * ReduceSum, ReduceMean, ReduceMax, ReduceMin and ArgMax as WASM, mirroring lib/ops/reduce.ts
 * and argmax.ts. The input is walked as (kept axes) x (reduced axes): an outer walk over the
 * output elements, an inner walk over the values each one reduces. Sums are exact in i64;
 * ReduceSum narrows once (saturating left shift, as narrowWide); ReduceMean clamps the sum to
 * +-n * 2^(32 - up) before its left shift (the kernel's documented clamp, which cannot change
 * the saturated result), then divides once with divRound and saturates.
 */
import type { ArgMaxAttrs } from "../../lib/ops/argmax.js";
import type { ReduceAttrs } from "../../lib/ops/reduce.js";
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import { normAxis, sizeOf, stridesOf } from "../../lib/tensor/shape.js";
import type { Expr, FunctionBuilder, Local } from "../binaryen.js";
import { walk } from "./loops.js";
import { clamp64, divRoundByConst, narrowSaturating, saturate64 } from "./numerics.js";
import type { EmitContext, Operand, OpEmitter } from "./types.js";

type Reduction = "sum" | "mean" | "max" | "min";

/** Which input axes a reduce node reduces (the kernel's planReduce rule). */
function reducedAxes(rank: number, attrs: ReduceAttrs): boolean[] {
  const reduced = new Array<boolean>(rank).fill(attrs.axes.length === 0 && attrs.noop_with_empty_axes === 0);
  for (const axis of attrs.axes) reduced[axis < 0 ? axis + rank : axis] = true;
  return reduced;
}

function emitReduce(ctx: EmitContext<ReduceAttrs>, kind: Reduction): Expr[] {
  const { f } = ctx;
  const x = ctx.inputs[0] as Operand;
  const out = ctx.outputs[0];
  const reduced = reducedAxes(x.shape.length, ctx.attrs);
  const inStrides = stridesOf(x.shape).map((s) => s * 4);
  const keptAxes = x.shape.map((_, i) => i).filter((i) => !reduced[i]);
  const redAxes = x.shape.map((_, i) => i).filter((i) => reduced[i]);
  const count = sizeOf(redAxes.map((i) => x.shape[i]));
  const keptShape = keptAxes.map((i) => x.shape[i]);
  const wide = kind === "sum" || kind === "mean";
  const acc = f.local(wide ? "i64" : "i32");
  const init = kind === "max" ? f.i32Const(I32_MIN) : kind === "min" ? f.i32Const(I32_MAX) : f.i64Const(0);
  const fold = (v: Expr): Expr => {
    if (wide) return f.set(acc, f.i64Add(f.get(acc), f.i64ExtendI32S(v)));
    const t = f.local("i32");
    const better = kind === "max" ? f.i32GtS(f.get(t), f.get(acc)) : f.i32LtS(f.get(t), f.get(acc));
    return f.seq([f.set(t, v), f.if(better, f.set(acc, f.get(t)))]);
  };
  return walk(f, keptShape, [keptAxes.map((i) => inStrides[i]), stridesOf(keptShape).map((s) => s * 4)], ([px, po]) => [
    f.set(acc, init),
    ...walk(f, redAxes.map((i) => x.shape[i]), [redAxes.map((i) => inStrides[i])], ([pi]) => [fold(f.i32Load(f.get(pi), x.address))], [f.get(px)]),
    f.i32Store(f.get(po), finish(f, kind, acc, count, x.frac, out.frac), out.address),
  ]);
}

function finish(f: FunctionBuilder, kind: Reduction, acc: Local, count: number, from: number, to: number): Expr {
  if (kind === "max" || kind === "min") return f.get(acc);
  if (kind === "sum") return narrowSaturating(f, f.get(acc), from, to);
  if (count === 0) return f.i32Const(0);
  const up = to - from;
  if (up < 0) return saturate64(f, divRoundByConst(f, f.get(acc), BigInt(count) << BigInt(-up)));
  const limit = BigInt(count) << BigInt(32 - up);
  const shifted = f.i64Shl(clamp64(f, f.get(acc), -limit, limit), f.i64Const(up));
  return saturate64(f, divRoundByConst(f, shifted, count));
}

function reduceEmitter(kind: Reduction): OpEmitter<ReduceAttrs> {
  return { emit: (ctx) => emitReduce(ctx, kind) };
}

export const ArgMaxEmitter: OpEmitter<ArgMaxAttrs> = {
  emit: (ctx) => {
    const { f } = ctx;
    const x = ctx.inputs[0] as Operand;
    const out = ctx.outputs[0];
    const axis = normAxis(ctx.attrs.axis, x.shape.length);
    const length = x.shape[axis];
    const inner = sizeOf(x.shape.slice(axis + 1));
    const outer = sizeOf(x.shape.slice(0, axis));
    const [best, bestIndex, v, k] = [f.local("i32"), f.local("i32"), f.local("i32"), f.local("i32")];
    const better = ctx.attrs.select_last_index === 1 ? f.i32GeS(f.get(v), f.get(best)) : f.i32GtS(f.get(v), f.get(best));
    // Walk (outer, inner) positions; each scans `length` values `inner` apart.
    return walk(f, [outer, inner], [[length * inner * 4, 4], [inner * 4, 4]], ([px, po]) => [
      f.set(best, f.i32Load(f.get(px), x.address)),
      f.set(bestIndex, f.i32Const(0)),
      f.set(k, f.i32Const(1)),
      f.loopTo(k, f.i32Const(length), 1, [
        f.set(v, f.i32Load(f.i32Add(f.get(px), f.i32Mul(f.get(k), f.i32Const(inner * 4))), x.address)),
        f.if(better, [f.set(best, f.get(v)), f.set(bestIndex, f.get(k))]),
      ]),
      f.i32Store(f.get(po), f.get(bestIndex), out.address),
    ]);
  },
};

export const REDUCE_EMITTERS: Record<string, OpEmitter<ReduceAttrs>> = {
  ReduceSum: reduceEmitter("sum"),
  ReduceMean: reduceEmitter("mean"),
  ReduceMax: reduceEmitter("max"),
  ReduceMin: reduceEmitter("min"),
};
