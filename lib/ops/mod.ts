/**
 * Mod (ONNX semantics): the remainder of a / b elementwise with numpy/ONNX broadcasting.
 * fmod = 0 takes the floor remainder, which has the sign of the divisor (Python's %, TF
 * FloorMod); fmod = 1 takes the truncated remainder, which has the sign of the dividend (C fmod).
 * Numerics: both operands are aligned EXACTLY to their common frac max(fa, fb) (an i32 shifted
 * left by at most 30 bits, below 2^61 in magnitude) and divided there as integers, so the
 * remainder is exact at any frac and is written at that common frac: integer tensors (frac 0)
 * give integers at frac 0. A remainder beyond i32 (possible only when the divisor was shifted up
 * to the dividend's higher frac) saturates. A zero divisor is a run-time error naming the element
 * (a WASM engine traps there): no value would be right. The same exact division of aligned
 * operands gives Div's `floor` and `trunc` modes (div.ts).
 */
import { EXACT_LIMIT, saturate } from "../tensor/fixed.js";
import { broadcastShapes } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { broadcastInputs } from "./binary.js";
import { check, defineOp } from "./op.js";

/** How an integer quotient is rounded: down (floor) or toward zero (trunc). */
export type IntegerRounding = "floor" | "trunc";

/**
 * The integer quotient q (rounded by `rounding`) and the remainder r = A - q*B of the reals
 * x / 2^fx and y / 2^fy, with A and B the two operands aligned to frac max(fx, fy); r is at that
 * frac. y must not be 0. Exact: float64 while |A|, |B| < 2^53 (where % and the division of the
 * exact multiple A - r are exact), BigInt beyond. A q or r beyond 2^53 is returned rounded, which
 * is far outside i32, so callers that saturate get the exact saturated value.
 */
export function alignedDivMod(x: number, fx: number, y: number, fy: number, rounding: IntegerRounding): { q: number; r: number } {
  const common = Math.max(fx, fy);
  const a = x * 2 ** (common - fx);
  const b = y * 2 ** (common - fy);
  const floor = rounding === "floor";
  if (Math.abs(a) < EXACT_LIMIT && Math.abs(b) < EXACT_LIMIT) {
    const r = a % b; // the sign of a (JS %, truncated)
    const q = (a - r) / b;
    // (`+ 0` turns a JS -0 into 0.)
    if (floor && r !== 0 && r < 0 !== b < 0) return { q: q - 1, r: r + b };
    return { q: q + 0, r: r + 0 };
  }
  const [ba, bb] = [BigInt(x) << BigInt(common - fx), BigInt(y) << BigInt(common - fy)];
  const r = ba % bb;
  const q = ba / bb;
  if (floor && r !== 0n && r < 0n !== bb < 0n) return { q: Number(q - 1n), r: Number(r + bb) };
  return { q: Number(q), r: Number(r) };
}

/** Output frac of Mod: the common frac of the operands, where the remainder is exact. */
export function modFrac(fa: number, fb: number): number {
  return Math.max(fa, fb);
}

export function mod(a: Tensor, b: Tensor, fmod = 0): Tensor {
  const rounding: IntegerRounding = fmod === 1 ? "trunc" : "floor";
  const { shape, index } = broadcastInputs([a.shape, b.shape]);
  const [ia, ib] = index;
  const out = new Int32Array(ia.length);
  for (let i = 0; i < out.length; i++) {
    const y = b.data[ib[i]];
    if (y === 0) throw new Error(`Mod divisor is 0 (element ${ib[i]} of the divisor, output element ${i})`);
    out[i] = saturate(alignedDivMod(a.data[ia[i]], a.frac, y, b.frac, rounding).r);
  }
  return new Tensor(shape, out, modFrac(a.frac, b.frac));
}

export type ModAttrs = { fmod: number };

export const Mod = defineOp<ModAttrs>({
  kind: "Mod",
  summary: "remainder of a / b with broadcasting, exact at the common frac (fmod 0: sign of b, 1: sign of a)",
  inputs: ["a", "b"],
  attrs: { fmod: { type: "int", default: 0, doc: "0: floor remainder (sign of the divisor), 1: truncated remainder (sign of the dividend)" } },
  outputs: () => 1,
  infer: ([a, b], attrs) => {
    check(attrs.fmod === 0 || attrs.fmod === 1, `attribute 'fmod' must be 0 or 1, got ${attrs.fmod}`);
    return [{ shape: broadcastShapes(a.shape, b.shape), frac: modFrac(a.frac, b.frac) }];
  },
  run: ([a, b], attrs) => [mod(a, b, attrs.fmod)],
});
