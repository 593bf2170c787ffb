/**
 * The conversion-time evaluator: every op kind whose inputs are all constants is computed here in
 * float64 instead of becoming a graph node. Kinds and attributes are the detml IR's (ONNX names,
 * shape-like operands as attributes, real attributes as plain numbers), plus a few kinds that only
 * exist for folding (Cast, Range, ConstantOfShape, ReduceProd, Not, Floor...): shape chains
 * around Reshape, weight transposes and constant subgraphs disappear before quantization.
 */
import { ARRAY_FOLDERS, type FoldAttrs, type Folder } from "./fold-array.js";
import { MATH_FOLDERS } from "./fold-math.js";
import { SizeGuard } from "./size-guard.js";
import type { ConstValue } from "./values.js";

export type { FoldAttrs } from "./fold-array.js";

const FOLDERS: Readonly<Record<string, Folder>> = { ...ARRAY_FOLDERS, ...MATH_FOLDERS };

export function canFold(kind: string): boolean {
  return Object.hasOwn(FOLDERS, kind);
}

/**
 * Evaluate `kind` on constant inputs; throws with a plain message on invalid operands, or when
 * an output would be larger than `guard` allows (checked before it is allocated).
 */
export function evaluate(kind: string, inputs: ConstValue[], attrs: FoldAttrs, guard = new SizeGuard()): ConstValue[] {
  const folder = FOLDERS[kind];
  if (!folder) throw new Error(`${kind} cannot be evaluated at conversion time`);
  return folder(inputs, attrs, guard);
}
