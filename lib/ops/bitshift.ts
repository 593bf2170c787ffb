/**
 * BitShift (ONNX semantics) on unsigned integers of `bits` bits (8, 16, 32 or 64), held as i32
 * integers at frac 0 with numpy/ONNX broadcasting. X is read as its unsigned value modulo 2^bits,
 * Y as the shift amount. LEFT gives (X * 2^Y) mod 2^bits (the bits shifted out are lost, as in
 * the unsigned type), RIGHT gives floor(X / 2^Y). A shift amount outside 0..bits-1 (a negative
 * i32 stands for an unsigned value of 2^31 or more) gives 0: every bit is shifted out. The
 * result is an unsigned value below 2^bits; one beyond I32_MAX (possible for 32 and 64 bits)
 * saturates to I32_MAX, detml's one saturation rule. Exact: BigInt per element.
 */
import { I32_MAX } from "../tensor/fixed.js";
import { broadcastShapes } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { broadcastInputs } from "./binary.js";
import { check, defineOp } from "./op.js";

export const BITSHIFT_DIRECTIONS = ["LEFT", "RIGHT"] as const;
export const BITSHIFT_WIDTHS = [8, 16, 32, 64] as const;

export type BitShiftAttrs = { direction: string; bits: number };

/** One element: the unsigned shift of x by y in a `bits`-bit type, saturated to I32_MAX. */
export function shiftUnsigned(x: number, y: number, left: boolean, bits: number): number {
  if (y < 0 || y >= bits) return 0;
  const value = BigInt.asUintN(bits, BigInt(x));
  const shifted = left ? BigInt.asUintN(bits, value << BigInt(y)) : value >> BigInt(y);
  return shifted > BigInt(I32_MAX) ? I32_MAX : Number(shifted);
}

export function bitShift(x: Tensor, y: Tensor, attrs: BitShiftAttrs): Tensor {
  const { shape, index } = broadcastInputs([x.shape, y.shape]);
  const [ix, iy] = index;
  const left = attrs.direction === "LEFT";
  const out = new Int32Array(ix.length);
  for (let i = 0; i < out.length; i++) out[i] = shiftUnsigned(x.data[ix[i]], y.data[iy[i]], left, attrs.bits);
  return new Tensor(shape, out, 0);
}

export const BitShift = defineOp<BitShiftAttrs>({
  kind: "BitShift",
  summary: "X shifted by Y bits as unsigned integers of `bits` bits (LEFT drops the bits shifted out), integers at frac 0",
  inputs: ["X", "Y"],
  attrs: {
    direction: { type: "enum", values: BITSHIFT_DIRECTIONS, doc: "LEFT: X * 2^Y mod 2^bits; RIGHT: floor(X / 2^Y)" },
    bits: { type: "int", doc: "width of the unsigned type: 8, 16, 32 or 64" },
  },
  outputs: () => 1,
  infer: ([x, y], attrs) => {
    check((BITSHIFT_WIDTHS as readonly number[]).includes(attrs.bits), `BitShift attribute 'bits' must be 8, 16, 32 or 64, got ${attrs.bits}`);
    check(x.frac === 0 && y.frac === 0, `BitShift needs integer tensors at frac 0, got X at frac ${x.frac} and Y at frac ${y.frac}`);
    return [{ shape: broadcastShapes(x.shape, y.shape), frac: 0 }];
  },
  run: ([x, y], attrs) => [bitShift(x, y, attrs)],
});
