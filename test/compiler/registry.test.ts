/**
 * The op registry (lib/ops ALL_OPS) against the compiler: every IR op kind is a view (OpDef.view,
 * aliased by the memory plan), has an emitter, or is on COMPILER_UNSUPPORTED with a reason; and
 * no emitter or unsupported entry names a kind the registry does not have. Adding an OpDef
 * without its emitter (or an explicit, explained refusal) fails here. The reference executor
 * needs no such test: it runs OpDef.run itself, which every OpDef has by type.
 */
import { describe, expect, it } from "vitest";
import { COMPILER_UNSUPPORTED, emitterKinds, hasEmitter } from "../../compiler/emit/index.js";
import { ALL_OPS, hasOp, VIEW_KINDS } from "../../lib/ops/index.js";

describe("the compiler covers the op registry", () => {
  it("gives every op an emitter, unless it is a view or explicitly unsupported", () => {
    const uncovered = ALL_OPS.filter((d) => !d.view && !hasEmitter(d.kind) && !Object.hasOwn(COMPILER_UNSUPPORTED, d.kind));
    expect(uncovered.map((d) => d.kind)).toEqual([]);
  });

  it("has no emitter for a view, and no emitter for an op it calls unsupported", () => {
    expect(ALL_OPS.filter((d) => d.view && hasEmitter(d.kind)).map((d) => d.kind)).toEqual([]);
    expect(Object.keys(COMPILER_UNSUPPORTED).filter(hasEmitter)).toEqual([]);
  });

  it("names only registered op kinds, each unsupported one with a reason", () => {
    expect([...emitterKinds(), ...Object.keys(COMPILER_UNSUPPORTED)].filter((k) => !hasOp(k))).toEqual([]);
    for (const [kind, reason] of Object.entries(COMPILER_UNSUPPORTED)) expect(reason.trim(), kind).not.toBe("");
  });

  it("takes its views from the registry's view flag: single-input ops such as Reshape", () => {
    expect(VIEW_KINDS.has("Reshape")).toBe(true);
    expect([...VIEW_KINDS]).toEqual(ALL_OPS.filter((d) => d.view).map((d) => d.kind));
    for (const kind of VIEW_KINDS) expect(ALL_OPS.find((d) => d.kind === kind)?.inputs, kind).toEqual(["data"]);
  });
});
