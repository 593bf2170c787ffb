/**
 * BitShift (lib/ops/bitshift.ts) as WASM: one broadcast walk (elementwise.ts) computing each
 * element in i64. X sign-extended and masked to `bits` bits is its unsigned value modulo 2^bits
 * (for 64 bits the sign-extended i64 already is); LEFT shifts and masks again, RIGHT shifts
 * unsigned. An amount outside 0..bits-1 gives 0 (compared unsigned, a negative i32 is above any
 * width); a result of 2^31 or more stores I32_MAX, as the kernel saturates.
 */
import { type BitShiftAttrs } from "../../lib/ops/bitshift.js";
import { I32_MAX } from "../../lib/tensor/fixed.js";
import { elementwise } from "./elementwise.js";
import type { OpEmitter } from "./types.js";

export const BitShiftEmitter: OpEmitter = elementwise((f, [x, y], ctx) => {
  const { direction, bits } = ctx.attrs as BitShiftAttrs;
  const mask = () => f.i64Const(BigInt.asIntN(64, (1n << BigInt(bits)) - 1n));
  const [value, amount, shifted] = [f.local("i64"), f.local("i64"), f.local("i64")];
  const moved = direction === "LEFT" ? f.i64And(f.i64Shl(f.get(value), f.get(amount)), mask()) : f.i64ShrU(f.get(value), f.get(amount));
  const saturated = f.select(f.i64GeU(f.get(shifted), f.i64Const(2n ** 31n)), f.i32Const(I32_MAX), f.i32WrapI64(f.get(shifted)));
  return f.valueBlock([
    f.set(value, f.i64And(f.i64ExtendI32S(x), mask())),
    f.set(amount, f.i64ExtendI32S(y)),
    f.set(shifted, moved),
    f.select(f.i64GeU(f.get(amount), f.i64Const(bits)), f.i32Const(0), saturated),
  ], "i32");
});
