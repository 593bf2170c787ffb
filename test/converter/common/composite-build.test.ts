/**
 * The shared compositions of converter/common/composite-math.ts as op lists, independent of a
 * front end: a recording Composer captures what Selu, Softsign, Sum/Mean and the boolean ops emit,
 * so a change to a composition shows here as a change of its IR ops (the numeric tests run them
 * through the ONNX front end in composite-math.test.ts and opsets.test.ts, and through the TF.js
 * one in tfjs/composite-ops.test.ts and tfjs/layers.test.ts).
 */
import { describe, expect, it } from "vitest";
import { logical, selu, softsign, sum, type Composer, type Composite, type LogicalKind } from "../../../converter/common/composite-math.js";
import { SizeGuard } from "../../../converter/common/size-guard.js";

/** A Composer that records "Kind(inputs)" per op and names constants by their value. */
function recorder(): { c: Composer; ops: string[] } {
  const ops: string[] = [];
  const c: Composer = {
    op: (kind, inputs, attrs = {}) => {
      ops.push(`${kind}(${inputs.join(",")})${Object.keys(attrs).length ? JSON.stringify(attrs) : ""}`);
      return [`t${ops.length}`];
    },
    constant: (_base, value) => `c${value.data[0]}`,
    guard: new SizeGuard(),
  };
  return { c, ops };
}

/** The recorded ops of a composition with its final op appended. */
function build(make: (c: Composer) => Composite): string[] {
  const { c, ops } = recorder();
  const r = make(c);
  return typeof r === "string" ? [...ops, `= ${r}`] : [...ops, `${r.kind}(${r.inputs.join(",")})`];
}

const x = { name: "x", shape: [2], dtype: "float" as const, frac: 16 };

describe("shared compositions", () => {
  it("Selu is gamma * Elu(x, alpha) and Softsign is x / (1 + |x|)", () => {
    expect(build((c) => selu(c, x, 1.5, 2))).toEqual(['Elu(x){"alpha":1.5}', "Mul(t1,c2)"]);
    expect(build((c) => softsign(c, x))).toEqual(["Abs(x)", "Add(t1,c1)", "Div(x,t2)"]);
  });

  it("Sum is a chain of Adds, Mean its product with 1/count, and one input is itself", () => {
    expect(build((c) => sum(c, ["a", "b", "d"]))).toEqual(["Add(a,b)", "Add(t1,d)"]);
    expect(build((c) => sum(c, ["a", "b"], true))).toEqual(["Add(a,b)", "Mul(t1,c0.5)"]);
    expect(build((c) => sum(c, ["a"], true))).toEqual(["= a"]);
  });

  it("builds the boolean ops and negated comparisons from Equal/Less/Greater against 0", () => {
    const kinds: LogicalKind[] = ["Not", "And", "Or", "Xor", "NotEqual", "LessOrEqual", "GreaterOrEqual"];
    expect(kinds.map((k) => build((c) => logical(c, k, ["a", "b"])).join(" "))).toEqual([
      "Equal(a,c0)", "Mul(a,b) Greater(t1,c0)", "Add(a,b) Greater(t1,c0)", "Equal(a,b) Equal(t1,c0)",
      "Equal(a,b) Equal(t1,c0)", "Greater(a,b) Equal(t1,c0)", "Less(a,b) Equal(t1,c0)",
    ]);
  });
});
