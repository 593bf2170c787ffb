/**
 * ONNX BitShift onto detml's BitShift (lib/ops/bitshift.ts), which needs the width of X's
 * unsigned type: it comes from the element type the model states for X (uint8, uint16, uint32
 * or uint64). Values of a uint32 or uint64 tensor must fit in i32 like every detml integer; a
 * shifted result beyond I32_MAX saturates there.
 */
import type { NodeCtx } from "./context.js";
import type { Handler } from "./handlers.js";
import { onlyAttributes } from "./quantized.js";

/** Bits of the unsigned ONNX element types (TensorProto.DataType): uint8, uint16, uint32, uint64. */
const UNSIGNED_BITS: Readonly<Record<number, number>> = { 2: 8, 4: 16, 12: 32, 13: 64 };

function unsignedBits(n: NodeCtx): number {
  const type = n.elemType(0) ?? n.elemType(1);
  if (type === undefined) throw new Error("BitShift needs the element type of X (uint8, uint16, uint32 or uint64), which the model does not state: it is not supported without it");
  const bits = UNSIGNED_BITS[type];
  if (bits === undefined) throw new Error(`BitShift of element type ${type} is not supported (ONNX defines it for uint8, uint16, uint32 and uint64)`);
  return bits;
}

export const bitShift: Handler = (n) => {
  onlyAttributes(n, ["direction"]);
  const direction = n.string("direction");
  if (direction !== "LEFT" && direction !== "RIGHT") throw new Error(`attribute 'direction' must be LEFT or RIGHT, got '${direction}'`);
  n.finish("BitShift", [n.input(0), n.input(1)], { direction, bits: unsignedBits(n) }, "int");
};
