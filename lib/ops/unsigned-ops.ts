/**
 * The op group of ONNX's unsigned integer types: BitShift (bitshift.ts) and
 * DynamicQuantizeLinear (dynamic-quantize.ts, whose output is uint8), in one list that
 * lib/ops/index.ts gathers into the closed set of IR op kinds.
 */
import { BitShift } from "./bitshift.js";
import { DynamicQuantizeLinear } from "./dynamic-quantize.js";

export const UNSIGNED_OPS = [BitShift, DynamicQuantizeLinear] as const;
