/**
 * Softmax and LogSoftmax (lib/ops/softmax.ts) as WASM: per slice along the axis, the max, the
 * Q30 exponentials e_k = exp(x_k - max) with their exact i64 sum, then Softmax's one rounded
 * division per element, or LogSoftmax's exact difference minus ln(sum) rounded once. Softmax
 * keeps e_k in the output buffer between its passes (e_k <= 2^30 fits an i32), so it needs no
 * scratch and computes each exponential once.
 */
import type { SoftmaxAttrs } from "../../lib/ops/softmax.js";
import { normAxis, sizeOf } from "../../lib/tensor/shape.js";
import type { Expr, Local } from "../binaryen.js";
import { FixedMath } from "./fixed-math.js";
import { walk } from "./loops.js";
import { roundShift64 } from "./numerics.js";
import type { EmitContext, Operand, OpEmitter } from "./types.js";

function emitSoftmax(ctx: EmitContext<SoftmaxAttrs>, log: boolean): Expr[] {
  const { f } = ctx;
  const x = ctx.inputs[0] as Operand;
  const out = ctx.outputs[0];
  const axis = normAxis(ctx.attrs.axis, x.shape.length);
  const n = x.shape[axis];
  if (n === 0 || out.shape.includes(0)) return [];
  const inner = sizeOf(x.shape.slice(axis + 1));
  const outer = sizeOf(x.shape.slice(0, axis));
  const m = new FixedMath(f, (data) => ctx.table(data));
  const [max, v] = [f.local("i32"), f.local("i32")];
  const [sum, e] = [f.local("i64"), f.local("i64")];
  const step = inner * 4;
  /** A loop over the n elements of the slice starting at byte offset `start`: p walks them. */
  const overSlice = (start: Local, body: (p: Local) => Expr[]): Expr[] =>
    walk(f, [n], [[step]], ([p]) => body(p), [f.get(start)]);
  const difference = (p: Local) => f.i64Sub(f.i64ExtendI32S(f.i32Load(f.get(p), x.address)), f.i64ExtendI32S(f.get(max)));
  return walk(f, [outer, inner], [[n * step, 4]], ([slice]) => [
    f.set(max, f.i32Load(f.get(slice), x.address)),
    ...overSlice(slice, (p) => [
      f.set(v, f.i32Load(f.get(p), x.address)),
      f.if(f.i32GtS(f.get(v), f.get(max)), f.set(max, f.get(v))),
    ]),
    f.set(sum, m.c(0)),
    ...overSlice(slice, (p) => [
      f.set(e, m.exp(difference(p), x.frac, 30)),
      ...(log ? [] : [f.i32Store(f.get(p), f.i32WrapI64(f.get(e)), out.address)]),
      f.set(sum, f.i64Add(f.get(sum), f.get(e))),
    ]),
    ...(log ? logSoftmaxPass(ctx, m, slice, sum, overSlice, difference)
      : overSlice(slice, (p) => [f.i32Store(f.get(p),
        f.i32WrapI64(m.divShiftRound(f.i64ExtendI32S(f.i32Load(f.get(p), out.address)), out.frac, f.get(sum))), out.address)])),
  ]);
}

/** y = dHigh + roundShift(dLow * 2^(30 - fx) - ln(sum / 2^30), 30 - frac), saturated. */
function logSoftmaxPass(ctx: EmitContext, m: FixedMath, slice: Local, sum: Local,
  overSlice: (start: Local, body: (p: Local) => Expr[]) => Expr[], difference: (p: Local) => Expr): Expr[] {
  const { f } = ctx;
  const fx = (ctx.inputs[0] as Operand).frac;
  const out = ctx.outputs[0];
  const k = Math.max(fx - out.frac, 0);
  const [logSum, d, high] = [f.local("i64"), f.local("i64"), f.local("i64")];
  return [
    f.set(logSum, m.logQ30(f.get(sum), 30)),
    ...overSlice(slice, (p) => [
      f.set(d, difference(p)),
      f.set(high, k > 0 ? f.i64ShrS(f.get(d), m.c(k)) : f.i64Shl(f.get(d), m.c(out.frac - fx))),
      f.i32Store(f.get(p), f.i32WrapI64(m.saturate(f.i64Add(f.get(high), roundShift64(f,
        f.i64Sub(f.i64Shl(k > 0 ? f.i64Sub(f.get(d), f.i64Shl(f.get(high), m.c(k))) : m.c(0), m.c(30 - fx)), f.get(logSum)),
        30 - out.frac)))), out.address),
    ]),
  ];
}

export const SoftmaxEmitter: OpEmitter<SoftmaxAttrs> = { emit: (ctx) => emitSoftmax(ctx, false) };
export const LogSoftmaxEmitter: OpEmitter<SoftmaxAttrs> = { emit: (ctx) => emitSoftmax(ctx, true) };
