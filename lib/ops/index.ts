/**
 * The closed set of IR op kinds: every OpDef, gathered from the op groups by explicit
 * import (no registration by side effect). `opDef(kind)` is how the graph, the codec and the
 * executor find an op; an unknown kind is an error listing what exists.
 */
import { ARITH_OPS } from "./arith-ops.js";
import { ARRAY_OPS } from "./array-ops.js";
import { MATH_OPS } from "./math-ops.js";
import { NN_OPS } from "./nn-ops.js";
import type { OpDef } from "./op.js";
import { QUANTIZE_OPS } from "./quantize.js";
import { UNSIGNED_OPS } from "./unsigned-ops.js";

export type AnyOpDef = OpDef<any>;

export const ALL_OPS: readonly AnyOpDef[] = [...NN_OPS, ...MATH_OPS, ...ARITH_OPS, ...ARRAY_OPS, ...QUANTIZE_OPS, ...UNSIGNED_OPS];

const BY_KIND: ReadonlyMap<string, AnyOpDef> = new Map(ALL_OPS.map((d) => [d.kind, d]));

/** The kinds of the views (OpDef.view): ops that only give their input's data another shape. */
export const VIEW_KINDS: ReadonlySet<string> = new Set(ALL_OPS.filter((d) => d.view).map((d) => d.kind));

export function hasOp(kind: string): boolean {
  return BY_KIND.has(kind);
}

export function opDef(kind: string): AnyOpDef {
  const def = BY_KIND.get(kind);
  if (!def) throw new Error(`unknown op kind '${kind}' (known: ${[...BY_KIND.keys()].sort().join(", ")})`);
  return def;
}

export * from "./op.js";
