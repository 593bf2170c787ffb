import { describe, expect, it } from "vitest";
import { ALL_OPS, hasOp, opDef } from "../../lib/ops/index.js";
import * as ops from "../../lib/ops/kernels.js";
import { ARITH_OPS } from "../../lib/ops/arith-ops.js";
import { ARRAY_OPS } from "../../lib/ops/array-ops.js";
import { MATH_OPS } from "../../lib/ops/math-ops.js";
import { NN_OPS } from "../../lib/ops/nn-ops.js";
import { QUANTIZE_OPS } from "../../lib/ops/quantize.js";
import { UNSIGNED_OPS } from "../../lib/ops/unsigned-ops.js";

/** Op kinds with no function in the ops namespace, and why. */
const NO_FUNCTION: Readonly<Record<string, string>> = { Identity: "the function would return its argument" };

describe("the ops namespace", () => {
  it("has a functional kernel for every IR op kind, except those named in NO_FUNCTION", () => {
    const names = new Set(Object.keys(ops).map((n) => n.toLowerCase()));
    const missing = ALL_OPS.map((d) => d.kind).filter((k) => !Object.hasOwn(NO_FUNCTION, k) && !names.has(k.toLowerCase()));
    expect(missing).toEqual([]);
    expect(Object.keys(NO_FUNCTION).filter((k) => !hasOp(k) || names.has(k.toLowerCase()))).toEqual([]);
  });

  it("registers every op of the op groups once, and finds each by its kind", () => {
    const groups = [NN_OPS, MATH_OPS, ARITH_OPS, ARRAY_OPS, QUANTIZE_OPS, UNSIGNED_OPS].flat();
    const kinds = ALL_OPS.map((d) => d.kind);
    expect(new Set(kinds).size).toBe(kinds.length);
    expect(kinds).toEqual(groups.map((d) => d.kind));
    for (const def of ALL_OPS) expect(opDef(def.kind)).toBe(def);
    expect(() => opDef("NoSuchOp")).toThrow(/unknown op kind 'NoSuchOp' \(known: .*Conv/);
  });
});
