/**
 * Exact integer division of fixed-point operands as WASM: Mod (lib/ops/mod.ts) and Div's floor
 * and trunc modes (lib/ops/div.ts). Both operands are widened to i64 at their common frac
 * (|value| < 2^61, so neither i64.div_s nor i64.rem_s can overflow), divided with
 * i64.div_s/i64.rem_s (quotient toward zero, remainder with the dividend's sign), and, for
 * floor rounding, moved one step down when the remainder is nonzero and its sign differs from
 * the divisor's: exactly alignedDivMod of the kernels. The divisor is tested for zero first:
 * Mod traps there (`unreachable`, where the kernel throws), Div gives its saturated value.
 */
import type { DivAttrs, DivMode } from "../../lib/ops/div.js";
import type { IntegerRounding, ModAttrs } from "../../lib/ops/mod.js";
import type { Expr, FunctionBuilder, Local } from "../binaryen.js";
import { elementwise, widen } from "./elementwise.js";
import { divideByZero64, saturate64 } from "./numerics.js";
import type { EmitContext, Operand, OpEmitter } from "./types.js";

/** The two operands as i64 locals at their common frac. */
interface Aligned {
  setup: Expr[];
  a: Local;
  b: Local;
}

function align(f: FunctionBuilder, x: Expr, y: Expr, ctx: EmitContext): Aligned {
  const [ta, tb] = ctx.inputs as Operand[];
  const common = Math.max(ta.frac, tb.frac);
  const [a, b] = [f.local("i64"), f.local("i64")];
  return { setup: [f.set(a, widen(f, x, common - ta.frac)), f.set(b, widen(f, y, common - tb.frac))], a, b };
}

/** Statements that set q and r to the rounded quotient and the remainder of a / b (b != 0). */
function divMod(f: FunctionBuilder, { a, b }: Aligned, rounding: IntegerRounding, q: Local, r: Local): Expr[] {
  const code = [f.set(q, f.i64DivS(f.get(a), f.get(b))), f.set(r, f.i64RemS(f.get(a), f.get(b)))];
  if (rounding === "trunc") return code;
  const signsDiffer = f.i32Ne(f.i64LtS(f.get(r), f.i64Const(0)), f.i64LtS(f.get(b), f.i64Const(0)));
  return [...code, f.if(f.i32And(f.i64Ne(f.get(r), f.i64Const(0)), signsDiffer), [
    f.set(q, f.i64Sub(f.get(q), f.i64Const(1))),
    f.set(r, f.i64Add(f.get(r), f.get(b))),
  ])];
}

/** Div in mode floor or trunc: the saturated integer quotient, or the zero-divisor value. */
export function integerQuotient(f: FunctionBuilder, x: Expr, y: Expr, ctx: EmitContext<DivAttrs>): Expr {
  const aligned = align(f, x, y, ctx);
  const [q, r] = [f.local("i64"), f.local("i64")];
  return saturate64(f, f.valueBlock([
    ...aligned.setup,
    f.if(f.i64Eqz(f.get(aligned.b)), f.set(q, divideByZero64(f, aligned.a)), divMod(f, aligned, ctx.attrs.mode as Exclude<DivMode, "real">, q, r)),
    f.get(q),
  ], "i64"));
}

/** Mod: trap on a zero divisor, else the saturated remainder at the common frac. */
export const ModEmitter: OpEmitter = elementwise((f, [x, y], ctx) => {
  const aligned = align(f, x, y, ctx);
  const [q, r] = [f.local("i64"), f.local("i64")];
  const rounding: IntegerRounding = (ctx.attrs as ModAttrs).fmod === 1 ? "trunc" : "floor";
  return saturate64(f, f.valueBlock([
    ...aligned.setup,
    f.if(f.i64Eqz(f.get(aligned.b)), f.unreachable()),
    ...divMod(f, aligned, rounding, q, r),
    f.get(r),
  ], "i64"));
});
